"""How fast does the policy lab replay the recorded history? (issue 16: "handles 10⁶ persons on
this machine in minutes").

On a database of generated persons (by default the 10⁶ one `make bench-scale` builds; it must
exist: `make bench-scale ARGS="--sizes 1000000 --parts overview --reuse"` makes it), one run:

1. the reference, measured first in the same run: the engine alone — the first REFERENCE
   applicants' histories read into memory once, then judged twice each (rules in force and the
   candidate) by `judge_person` in this process: persons per second of pure engine work;
2. the whole replay (`services.policy_replay.replay`, as `mynapoint policy replay`) with each
   number of worker processes asked: wall seconds, persons per second, and its ratio to the
   reference (a ratio above the number of processes means reading costs nothing, below it
   what reading and process start-up cost);
3. a sample of 1 % and of 10 %: wall seconds, the estimated difference against the whole
   replay's exact one, and whether the exact one lies within the estimate's 95 % interval.

    .venv/bin/python bench/replay.py [--database-url URL] [--rules rate-20]
        [--processes 1,2] [--record | --no-record] [--note TEXT]
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date
from typing import Final

from common import append_rows, machine, today
from mynapoint.db.unit_of_work import UnitOfWorkFactory
from mynapoint.rules.candidates import resolve_candidate
from mynapoint.rules.loader import load_campaigns, load_catalog
from mynapoint.services.ledger import History
from mynapoint.services.policy_replay import (
    ReplayRules,
    count_applicants,
    estimates,
    judge_person,
    replay,
)

DEFAULT_URL: Final = "postgresql+psycopg://postgres@127.0.0.1:5432/mynapoint_bench_1000000"
REFERENCE: Final = 2_000
ON: Final = date(2021, 10, 15)  # ages on: the generated history's last day
SECTION: Final = "## `make bench-replay` — the policy lab's replay (issue 16)"
INTRO: Final = """
`bench/replay.py` on the database of generated persons `make bench-scale` builds (10⁶ persons:
every one an applicant with a phase-1 history). The reference, measured first in the same run,
is the engine alone: 2,000 applicants' histories in memory, each judged under the rules in
force and the candidate by one process. "vs engine" is the replay's persons/s over the
reference's: with N processes, N would mean reading histories and starting processes cost
nothing. The samples' error is their estimated difference (candidate − actual) against the
whole replay's exact one, in % of it; "in 95 %" whether the exact one lies in the estimate's
interval. Target: 10⁶ persons in minutes.

"""
HEAD: Final = (
    "| date | applicants | candidate | engine alone | processes | wall | persons/s | vs engine "
    "| mismatched | 1 % sample: wall, error, in 95 % | 10 % sample: wall, error, in 95 % "
    "| load | machine | note |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
)


def reference(new_uow: UnitOfWorkFactory, rules: ReplayRules) -> float:
    """Persons per second judged by the engine alone, histories already in memory."""
    uow = new_uow()
    with uow.reading():
        persons = uow.applications.applicants(None, REFERENCE)
        snapshots = uow.persons.get_many(persons)
        applications = uow.applications.for_persons(persons)
        events = uow.events.for_persons(persons)
        lines = uow.grants.lines_for_persons(persons)
    histories = [
        History(snapshots[p], applications[p], events.get(p, []), lines.get(p, []))
        for p in persons
        if p in snapshots
    ]
    started = time.perf_counter()
    for history in histories:
        judge_person(history, rules)
    return len(histories) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--database-url", default=os.environ.get("MYNAPOINT_BENCH_REPLAY_URL",
                                                                 DEFAULT_URL))  # fmt: skip
    parser.add_argument("--rules", default="rate-20")
    parser.add_argument("--processes", default=f"1,{os.cpu_count() or 1}")
    parser.add_argument("--record", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--note", default="")
    args = parser.parse_args()
    from mynapoint.bootstrap import Platform  # noqa: PLC0415 - the pool only

    new_uow = UnitOfWorkFactory(args.database_url)
    candidate = resolve_candidate(args.rules)
    rules = ReplayRules(load_campaigns(), candidate.rules, load_catalog(), None, ON)
    applicants = count_applicants(new_uow)
    engine_rate = reference(new_uow, rules)
    print(f"{applicants:,} applicants; engine alone {engine_rate:,.0f} persons/s")
    rows = []
    exact = 0
    for processes in sorted({int(p) for p in args.processes.split(",")}):
        started = time.perf_counter()
        with Platform.replay_pool(processes) as (pool, workers):
            tally = replay(new_uow, rules, pool=pool, workers=workers)
        wall = time.perf_counter() - started
        rate = tally.persons / wall
        exact = estimates(tally, 1.0).difference.value
        print(f"{processes} processes: {tally.persons:,} persons in {wall:.1f} s "
              f"({rate:,.0f}/s, {rate / engine_rate:.2f}× the engine alone), "
              f"mismatched {tally.mismatched}, difference {exact:+,}")  # fmt: skip
        rows.append((processes, wall, rate, tally.mismatched))
    samples = []
    top = max(int(p) for p in args.processes.split(","))
    for percent in (1, 10):
        fraction = percent / 100
        started = time.perf_counter()
        with Platform.replay_pool(top) as (pool, workers):
            tally = replay(new_uow, rules, fraction, pool=pool, workers=workers)
        wall = time.perf_counter() - started
        found = estimates(tally, fraction).difference
        error = (found.value - exact) / exact * 100 if exact else 0.0
        inside = abs(found.value - exact) <= found.margin
        print(f"{percent} % sample: {wall:.1f} s, difference {found.value:+,} ± {found.margin:,} "
              f"({error:+.2f} % of the exact one; inside: {inside})")  # fmt: skip
        samples.append(f"{wall:.1f} s, {error:+.2f} %, {'yes' if inside else 'no'}")
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    if args.record:
        append_rows(SECTION, INTRO, HEAD, [
            f"| {today()} | {applicants:,} | {candidate.name} | {engine_rate:,.0f} persons/s "
            f"| {processes} | {wall:.1f} s | {rate:,.0f} | {rate / engine_rate:.2f}× "
            f"| {mismatched} | {samples[0]} | {samples[1]} | {load} | {machine()} | {args.note} |"
            for processes, wall, rate, mismatched in rows
        ])  # fmt: skip


if __name__ == "__main__":
    main()
