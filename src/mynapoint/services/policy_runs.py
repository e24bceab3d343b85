"""The policy lab's stored replays (issue 16, the console's pages): a replay asked for on the
ministry's console is kept as a row, cut into parts of about REPLAY_CHUNK sampled applicants
(`plan`), each part judged by a job of its own (`run_part`, on `mynapoint worker` or in the
serving process) with services/policy_replay.py's functions, and its result is the merge of
the parts' tallies (`result`), the same document `mynapoint policy replay --json` prints.

Reads of the histories are outside any transaction; writes go to the replay's two tables
only: a replay never writes a grant.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.replay_runs import ReplayPart, StoredReplay
from mynapoint.domain.replay_tally import Tally, merged
from mynapoint.domain.services import Catalog
from mynapoint.rules.candidates import Candidate, candidate_from_text
from mynapoint.services.audit import BeforeCommit
from mynapoint.services.policy_replay import (
    APPLICANTS_PAGE,
    REPLAY_CHUNK,
    ReplayRules,
    fraction_of,
    replay_chunk,
    replay_document,
    sampled,
)
from mynapoint.services.ports import UnitOfWork

log = logging.getLogger("mynapoint.policy")

PART_STOPPED: Final = "part {part} stopped on an internal error ({kind}): {message}"


@dataclass(frozen=True)
class ReplayRequest:
    """What the form asks for: the candidate, the cut, the sample and the day ages are
    taken on."""

    candidate: Candidate
    as_of: date | None
    sample_percent: float | None
    ages_on: date


def _unaudited(uow: UnitOfWork, action: str, details: Mapping[str, Any]) -> None:
    del uow, action, details


def start(
    uow: UnitOfWork,
    request: ReplayRequest,
    requested_by: str,
    now: datetime,
    audited: BeforeCommit = _unaudited,
) -> StoredReplay:
    """Keep the replay and queue its plan, in one transaction with `audited`'s entry (the
    console's: `policy_replay_started`). A sample outside (0, 100] raises ValueError
    (fraction_of's message)."""
    fraction_of(request.sample_percent)
    replay = StoredReplay(
        replay_id=secrets.token_hex(12),
        rules_name=request.candidate.name,
        rules_text=request.candidate.text,
        as_of=request.as_of,
        sample_percent=request.sample_percent,
        ages_on=request.ages_on,
        requested_by=requested_by,
        created_at=now,
    )
    with uow:
        uow.replays.add(replay)
        uow.queue.enqueue_replay_plan(replay.replay_id)
        details = {
            "replay_id": replay.replay_id,
            "rules": replay.rules_name,
            "as_of": None if replay.as_of is None else replay.as_of.isoformat(),
            "sample_percent": replay.sample_percent,
        }
        audited(uow, "policy_replay_started", details)  # last: it locks the log's end
        uow.commit()
    return replay


def _bounds(
    new_uow: Callable[[], UnitOfWork], fraction: float, chunk: int
) -> Iterator[tuple[str | None, str, int]]:
    """(after, last, sampled persons) of consecutive ranges of applicants, each closed once
    it holds `chunk` sampled persons; the last one runs to the last applicant."""
    uow = new_uow()
    after: str | None = None
    start: str | None = None
    count = 0
    last: str | None = None
    while True:
        with uow.reading():
            page = uow.applications.applicants(after, APPLICANTS_PAGE)
        if not page:
            break
        after = page[-1]
        for person in page:
            last = person
            count += sampled(person, fraction)
            if count >= chunk:
                yield start, person, count
                start, count, last = person, 0, None
    if last is not None:
        yield start, last, count


def plan(
    new_uow: Callable[[], UnitOfWork],
    replay_id: str,
    now: Callable[[], datetime],
    chunk: int = REPLAY_CHUNK,
) -> list[int]:
    """Cut the replay's applicants into parts and queue one job per part, in one transaction;
    the numbers of the parts queued ([] when the replay was planned before, or is over). A
    replay with no applicant is done at once."""
    uow = new_uow()
    with uow.reading():
        replay = uow.replays.get(replay_id)
    if replay is None or not replay.is_live or replay.parts_total is not None:
        return []
    parts: list[ReplayPart] = []
    for after, last, persons in _bounds(new_uow, replay.fraction, chunk):
        if persons == 0 and parts:
            # The applicants after the last full part hold no sampled person: they join it,
            # so no job judges nobody.
            previous = parts.pop()
            parts.append(ReplayPart(replay_id, previous.part, previous.after_person, last,
                                    previous.persons))  # fmt: skip
            continue
        parts.append(ReplayPart(replay_id, len(parts), after, last, persons))
    expected = sum(part.persons for part in parts)
    with uow:
        if not uow.replays.plan(replay_id, parts, expected, now()):
            return []
        numbers = [part.part for part in parts]
        uow.queue.enqueue_replay_parts(replay_id, numbers)
        uow.commit()
    return numbers


def replay_rules(replay: StoredReplay, in_force: CampaignRules, catalog: Catalog) -> ReplayRules:
    candidate = candidate_from_text(replay.rules_text, replay.rules_name)
    return ReplayRules(in_force, candidate.rules, catalog, replay.as_of, replay.ages_on)


def part_persons(new_uow: Callable[[], UnitOfWork], part: ReplayPart, fraction: float) -> list[str]:
    """The sampled applicants within the part's bounds, in order."""
    uow = new_uow()
    found: list[str] = []
    after = part.after_person
    while True:
        with uow.reading():
            page = uow.applications.applicants_through(after, part.last_person, APPLICANTS_PAGE)
        if not page:
            return found
        after = page[-1]
        found.extend(person for person in page if sampled(person, fraction))


def run_part(
    new_uow: Callable[[], UnitOfWork],
    in_force: CampaignRules,
    catalog: Catalog,
    replay_id: str,
    number: int,
    now: Callable[[], datetime],
) -> bool:
    """Judge a part's persons and keep its tally (the replay done with its last part);
    False when the part failed, the replay then failed with the reason. A part judged
    before, or of a replay that is over, is left as it is (True)."""
    uow = new_uow()
    with uow.reading():
        replay = uow.replays.get(replay_id)
        part = uow.replays.part(replay_id, number)
    if replay is None or part is None or part.tally is not None or not replay.is_live:
        return True
    try:
        rules = replay_rules(replay, in_force, catalog)
        persons = part_persons(new_uow, part, replay.fraction)
        tally = replay_chunk(new_uow, rules, persons)
        with uow:
            uow.replays.finish_part(
                replay_id, number, json.dumps(tally.to_json()), len(persons), now()
            )
            uow.commit()
    except Exception as exc:
        log.exception("part %d of replay %s failed", number, replay_id)
        message = PART_STOPPED.format(part=number, kind=type(exc).__name__, message=exc)
        with uow:
            uow.replays.fail(replay_id, message, now())
            uow.commit()
        return False
    return True


def tally_of(parts: list[ReplayPart]) -> Tally:
    return merged(Tally.from_json(json.loads(part.tally)) for part in parts if part.tally)


def result(uow: UnitOfWork, replay_id: str) -> dict[str, Any] | None:
    """The replay's document (services/policy_replay.replay_document) from the parts judged
    so far (all of them once done); None for an unknown replay."""
    with uow.reading():
        replay = uow.replays.get(replay_id)
        parts = uow.replays.parts(replay_id) if replay is not None else []
    if replay is None:
        return None
    return replay_document(
        tally_of(parts), replay.fraction, replay.rules_name, replay.as_of, replay.ages_on
    )
