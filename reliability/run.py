"""`make reliability`: crash runs, a PostgreSQL restart under load, concurrency runs and a long
schemathesis run, each against the harness's own scratch PostgreSQL cluster and servers;
prints a table of what was tried and whether anything was lost, doubled or crashed, and
exits 1 if any run failed.

    .venv/bin/python -m reliability.run                # everything (~10 minutes)
    .venv/bin/python -m reliability.run --quick        # fewer kills and trials (~4 minutes)
    .venv/bin/python -m reliability.run --only crash-ingest --only concurrency
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType

from rich.console import Console

from reliability import concurrency, crash_ingest, crash_server, pg_restart, schemathesis_run
from reliability.cluster import scratch_cluster
from reliability.context import Context, Outcome
from reliability.dataset import CLOCK_START, EventFile, build_template, write_event_file
from reliability.report import machine, markdown, print_table, record

RUNS = ("crash-ingest", "crash-server", "pg-restart", "concurrency", "schemathesis")
SERVER_PORTS = range(8105, 8120)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m reliability.run",
        description=(__doc__ or "").split("\n\n", 1)[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="3 kills and fewer trials")
    parser.add_argument("--only", action="append", choices=RUNS, help="run just these (repeatable)")
    parser.add_argument("--kills", type=int, help="kills per crash run (default 10, quick 3)")
    parser.add_argument("--persons", type=int, help="linked persons (default 20,000)")
    parser.add_argument("--events", type=int, help="events in the crash file (default 100,000)")
    parser.add_argument("--examples", type=int, help="schemathesis examples (default 1,000)")
    parser.add_argument("--pg-port", type=int, default=55432, help="scratch cluster's port")
    parser.add_argument("--seed", type=int, help="kill moments and trial data (default random)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    parser.add_argument(
        "--record", action="store_true", help="append the table to bench/RESULTS.md"
    )
    parser.add_argument("--note", default="", help="the note column of the recorded rows")
    parser.add_argument(
        "--var-dir",
        type=Path,
        default=Path(os.environ.get("MYNAPOINT_VAR_DIR", "var")),
        help="where the Markdown table goes (var/reliability/)",
    )
    return parser.parse_args(argv)


def _terminate(signum: int, _frame: FrameType | None) -> None:
    # SIGTERM and SIGHUP unwind like Ctrl-C, so servers and the cluster are cleaned up.
    raise KeyboardInterrupt(signal.Signals(signum).name)


@dataclass(frozen=True)
class Plan:
    runs: list[str]
    mode: str
    kills: int
    persons: int
    events: int
    examples: int
    seed: int
    pg_port: int

    @classmethod
    def of(cls, args: argparse.Namespace) -> Plan:
        return cls(
            runs=args.only or list(RUNS),
            mode="quick" if args.quick else "full",
            kills=args.kills or (3 if args.quick else 10),
            persons=args.persons or (8_000 if args.quick else 20_000),
            events=args.events or (40_000 if args.quick else 100_000),
            examples=args.examples or (200 if args.quick else 1_000),
            seed=args.seed if args.seed is not None else random.SystemRandom().randrange(10**9),
            pg_port=args.pg_port,
        )


def run_all(plan: Plan, console: Console, workdir: Path) -> list[Outcome]:
    """The chosen runs, one after the other, on one scratch cluster and one template."""
    outcomes: list[Outcome] = []
    rng = random.Random(plan.seed)
    with scratch_cluster(plan.pg_port) as cluster:
        console.log(f"scratch PostgreSQL cluster on 127.0.0.1:{plan.pg_port} in {cluster.root}")
        holders = 40 if {"concurrency", "pg-restart"} & set(plan.runs) else 0
        t0 = time.monotonic()
        world = build_template(
            cluster, workdir, persons=plan.persons, holders=holders, seed=20210501
        )
        console.log(
            f"template: {plan.persons:,} linked persons, {holders} card holders, "
            f"an operator key, in {time.monotonic() - t0:.0f} s"
        )
        context = Context(
            cluster, world, workdir, rng, console, plan.mode == "quick", list(SERVER_PORTS)
        )
        main_file = None
        if {"crash-ingest", "crash-server"} & set(plan.runs):
            main_file = write_event_file(
                workdir / "events.csv", rng, world.accounts, plan.events, invalid=plan.events // 500
            )
        steps: dict[str, Callable[[], Outcome | list[Outcome]]] = {
            "crash-ingest": lambda: crash_ingest.run(context, _given(main_file), plan.kills),
            "crash-server": lambda: crash_server.run(context, _given(main_file), plan.kills),
            "pg-restart": lambda: pg_restart.run(context),
            "concurrency": lambda: concurrency.run(context),
            "schemathesis": lambda: schemathesis_run.run(context, plan.examples),
        }
        for name in (n for n in RUNS if n in plan.runs):
            console.rule(name)
            t0 = time.monotonic()
            try:
                produced = steps[name]()
            except Exception as exc:  # noqa: BLE001 - one run's failure must not hide the others
                console.print_exception(max_frames=8)
                produced = Outcome(
                    name, "—", None, None, None, "FAIL", f"the harness failed: {exc!r}"[:300]
                )
            for outcome in produced if isinstance(produced, list) else [produced]:
                outcome.seconds = outcome.seconds or time.monotonic() - t0
                outcomes.append(outcome)
    return outcomes


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    # Wide enough for the table when the output goes to a file or through make.
    console = Console(log_path=False, width=None if sys.stdout.isatty() else 160)
    plan = Plan.of(args)
    console.rule(f"mynapoint reliability runs ({plan.mode}, seed {plan.seed})")
    console.log(f"{machine()}; runs: {', '.join(plan.runs)}; {plan.kills} kills per crash run")
    workdir = Path(tempfile.mkdtemp(prefix="mynapoint-reliability-"))
    started = time.monotonic()
    try:
        outcomes = run_all(plan, console, workdir)
    except KeyboardInterrupt:
        console.log("interrupted: servers stopped, scratch cluster deleted")
        return 130
    finally:
        if args.keep:
            console.log(f"work folder kept (logs, event files): {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    stamp = datetime.now(CLOCK_START.tzinfo)
    title = (
        f"mynapoint reliability ({plan.mode}, seed {plan.seed}, {stamp:%Y-%m-%d %H:%M} JST, "
        f"{(time.monotonic() - started) / 60:.1f} min)"
    )
    print_table(console, outcomes, title)
    folder = args.var_dir / "reliability"
    folder.mkdir(parents=True, exist_ok=True)
    report = folder / f"reliability-{stamp:%Y%m%d-%H%M%S}.md"
    report.write_text(markdown(outcomes, title), encoding="utf-8")
    shutil.copyfile(report, folder / "latest.md")
    console.log(f"table written to {report}")
    if args.record:
        record(outcomes, plan.mode, args.note)
        console.log("rows appended to bench/RESULTS.md")
    failed = [o.run for o in outcomes if o.result == "FAIL"]
    console.log(f"{len(failed)} of {len(outcomes)} runs failed" + (f": {failed}" if failed else ""))
    return 1 if failed else 0


def _given(value: EventFile | None) -> EventFile:
    if value is None:
        raise RuntimeError("no event file was written for this run")
    return value


if __name__ == "__main__":
    sys.exit(main())
