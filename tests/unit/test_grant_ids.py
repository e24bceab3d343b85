"""Grant instruction ids: 32 hex digits that sort in the order the instructions were made,
consecutive within one evaluation, never the same for two evaluations."""

from __future__ import annotations

import re
from datetime import timedelta

from ledger_factories import AT, make_application, make_event, make_snapshot
from mynapoint.domain.ledger import StoredEvent
from mynapoint.domain.measures import EventKind
from mynapoint.services.ledger import History, judge

NOW = AT + timedelta(days=90)
GRANT_ID = re.compile(r"[0-9a-f]{32}")


def history(person: str, events: list[StoredEvent]) -> History:
    return History(
        make_snapshot(person), [make_application(f"app-{person}", person=person)], events, []
    )


def charges(person: str, days: int) -> list[StoredEvent]:
    return [
        make_event(f"{person}-{day}", person=person, amount=4_000, occurred_at=AT + timedelta(day))
        for day in range(1, days + 1)
    ]


def test_one_evaluation_numbers_its_instructions_in_order(rules, catalog):
    made = judge(
        [history("person-1", charges("person-1", 3)), history("person-2", charges("person-2", 2))],
        rules,
        catalog,
        NOW,
        set(),
    ).instructions
    ids = [instruction.grant_id for instruction in made]
    assert len(ids) == 5
    assert all(GRANT_ID.fullmatch(grant_id) for grant_id in ids)
    assert ids == sorted(ids)
    assert len({grant_id[:24] for grant_id in ids}) == 1
    assert [int(grant_id[24:], 16) for grant_id in ids] == list(range(5))


def test_a_later_correction_sorts_after_what_it_corrects(rules, catalog):
    events = charges("person-1", 2)
    first = judge([history("person-1", events)], rules, catalog, NOW, set()).instructions
    instructed = [
        (line.source, line.measure.value, line.points)
        for instruction in first
        for line in instruction.lines
    ]
    refund = make_event(
        "person-1-refund",
        kind=EventKind.REFUND,
        amount=4_000,
        occurred_at=AT + timedelta(days=5),
        refund_of=events[0].event_id,
    )
    later = NOW + timedelta(milliseconds=1)
    history_now = History(
        make_snapshot("person-1"),
        [make_application("app-person-1", person="person-1")],
        [*events, refund],
        instructed,
    )
    clawbacks = judge([history_now], rules, catalog, later, set()).instructions
    assert [instruction.points for instruction in clawbacks] == [-1_000]
    assert clawbacks[0].grant_id > max(instruction.grant_id for instruction in first)


def test_two_evaluations_at_the_same_instant_never_share_an_id(rules, catalog):
    ids = [
        instruction.grant_id
        for _ in range(50)
        for instruction in judge(
            [history("person-1", charges("person-1", 2))], rules, catalog, NOW, set()
        ).instructions
    ]
    assert len(set(ids)) == len(ids) == 100
