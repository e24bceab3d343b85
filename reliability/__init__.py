"""`make reliability`: crash, restart and concurrency runs against a scratch PostgreSQL cluster.

Run from the repository root: `.venv/bin/python -m reliability.run --help`.
"""

import sys
from pathlib import Path

# The harness sets up its data with the benchmark's own code (bench/intake_data.py).
_BENCH = str(Path(__file__).resolve().parents[1] / "bench")
if _BENCH not in sys.path:
    sys.path.insert(0, _BENCH)
