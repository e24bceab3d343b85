"""(a) `mynapoint ingest FILE` killed (SIGKILL, with its worker processes) at random moments,
each time run again to completion; the database must then hold what one clean run leaves:
every valid event once, the same points per person and per event, the same number of grant
instructions, nobody left pending evaluation."""

from __future__ import annotations

import time

from reliability.context import Context, Outcome
from reliability.dataset import EventFile
from reliability.ledger import compare, read_ledger
from reliability.processes import finish_ingest, ingest, kill_group, start_ingest

RETRIES = 4  # a run that beats its kill moment is tried again with an earlier one


def run(context: Context, file: EventFile, kills: int) -> Outcome:
    began = time.monotonic()
    reference = context.reference(file)
    full = reference.seconds
    done = 0
    finished_first = 0
    lost = doubled = crashed = 0
    problems: list[str] = []
    for cycle in range(kills):
        for _ in range(RETRIES):
            # One kill moment in each k-th of a clean run's length, from the command's start
            # (imports, worker start-up) to its last evaluation.
            delay = 0.3 + (full - 0.3) * (cycle + context.rng.random()) / kills
            database = context.fresh_database("crash_ingest")
            var_dir = context.folder(f"crash-ingest-{cycle:02d}")
            env = context.env(database, var_dir)
            started = time.monotonic()
            process = start_ingest(file.path, env, var_dir / "killed.log")
            time.sleep(max(0.0, delay - (time.monotonic() - started)))
            killed = process.poll() is None
            if killed:
                kill_group(process)
            else:
                finish_ingest(process, var_dir / "killed.log", started)
                finished_first += 1
                full = min(full, time.monotonic() - started)
                context.drop(database)
                continue
            kept = read_ledger(context.cluster, database)
            again = ingest(file.path, env, var_dir / "rerun.log")
            ledger = read_ledger(context.cluster, database)
            differences = compare(ledger, file.valid, reference.ledger)
            found = differences.problems(compare_instructions=True)
            if again.returncode not in {0, 1} or again.tracebacks:
                crashed += 1
                found.append(f"re-run exit {again.returncode}, {again.tracebacks} tracebacks")
            elif (again.accepted or 0) + (again.duplicates or 0) != len(file.valid):
                found.append(
                    f"re-run: {again.accepted} accepted + {again.duplicates} duplicates "
                    f"!= {len(file.valid)} valid lines"
                )
            if again.rejected != file.invalid:
                found.append(f"re-run rejected {again.rejected} lines, not {file.invalid}")
            lost += differences.lost
            doubled += differences.doubled
            context.say(
                f"crash ingest {cycle + 1}/{kills}: killed at {delay:.1f} s with "
                f"{len(kept.events):,} events stored; re-run {again.seconds:.1f} s"
                + (f" — {'; '.join(found)}" if found else " — ledger as a clean run")
            )
            if found:
                problems.append(f"kill at {delay:.1f} s: {'; '.join(found)}")
            context.drop(database)
            done += 1
            break
    if done < kills:
        problems.append(f"only {done} of {kills} runs could be killed before they finished")
    return Outcome(
        run="crash: mynapoint ingest killed",
        tried=f"{done} kills of a {file.lines:,}-line file ({finished_first} beat their kill)",
        lost=lost,
        doubled=doubled,
        crashed=crashed,
        result="FAIL" if problems else "PASS",
        reason=problems[0] + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else "")
        if problems
        else "every re-run left the ledger of a clean run",
        seconds=time.monotonic() - began,
    )
