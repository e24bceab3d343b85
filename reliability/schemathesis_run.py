"""A long schemathesis run: the test suite's property-based API test with many examples.

The test module and its knob belong to the test suite (TEST_FILE, EXAMPLES_VARIABLE); this
run only turns the knob up and points PostgreSQL tests at the scratch cluster. Without the
module the row says it is not present.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from reliability.context import Context, Outcome

REPOSITORY = Path(__file__).resolve().parents[1]
TEST_FILE = Path("tests/e2e/test_schemathesis.py")
EXAMPLES_VARIABLE = "MYNAPOINT_SCHEMATHESIS_EXAMPLES"
TEST_DATABASE = "test"
TIMEOUT_SECONDS = 20 * 60
RUN = "schemathesis, long run"


def run(context: Context, examples: int) -> Outcome:
    began = time.monotonic()
    if not (REPOSITORY / TEST_FILE).exists():
        return Outcome(RUN, f"{examples:,} examples", None, None, None, "SKIP",
                       f"not present: {TEST_FILE}")  # fmt: skip
    context.cluster.create_database(TEST_DATABASE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYNAPOINT_")} | {
        EXAMPLES_VARIABLE: str(examples),
        "MYNAPOINT_TEST_DATABASE_URL": context.cluster.url(TEST_DATABASE),
    }
    log = context.workdir / "schemathesis.log"
    with log.open("wb") as out:
        try:
            done = subprocess.run(  # noqa: S603 - the project's own test runner
                [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider",
                 str(TEST_FILE)],
                cwd=REPOSITORY, env=env, stdout=out, stderr=subprocess.STDOUT,
                timeout=TIMEOUT_SECONDS, check=False,
            )  # fmt: skip
            code: int | None = done.returncode
        except subprocess.TimeoutExpired:
            code = None
    output = log.read_text(encoding="utf-8", errors="replace")
    closing = [
        line for line in output.splitlines() if re.search(r"\d+ (passed|failed|error)", line)
    ]
    summary = closing[-1].strip("= ") if closing else output.strip().splitlines()[-1:] or ["?"]
    failed = re.search(r"(\d+) failed", str(summary))
    errors = re.search(r"(\d+) error", str(summary))
    crashed = int(failed[1]) if failed else 0
    crashed += int(errors[1]) if errors else 0
    if code is None:
        result, reason = "FAIL", f"timed out after {TIMEOUT_SECONDS // 60} minutes"
    elif code == 0:
        result, reason = "PASS", str(summary)
    else:
        first = next((line for line in output.splitlines() if line.startswith("FAILED")), "")
        result, reason = "FAIL", f"pytest exit {code}: {summary}; {first}"[:400]
    return Outcome(
        run=RUN,
        tried=f"{EXAMPLES_VARIABLE}={examples:,}",
        lost=None,
        doubled=None,
        crashed=crashed,
        result=result,  # type: ignore[arg-type]
        reason=reason,
        seconds=time.monotonic() - began,
    )
