"""What the event, grant instruction and settlement repositories must do, on the database unit
of work and the in-memory fake alike (see unit_of_work_contract.py)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest

from ledger_factories import AT, OPERATOR, SERVICE, make_event, make_grant, make_line
from mynapoint.domain.ledger import (
    EventVerdict,
    GrantCounts,
    IngestJob,
    JobVerdicts,
    MonthTotals,
)
from mynapoint.domain.measures import EventKind, IgnoreReason, Measure
from mynapoint.domain.settlement_approvals import Approval, ApprovalState, StatementTotals

if TYPE_CHECKING:
    from mynapoint.domain.ledger import GrantInstruction
    from unit_of_work_contract import MakeUow

OTHER_OPERATOR = "rakuten-corp"
DUE = date(2021, 7, 19)


class LedgerContract:
    # --- events --------------------------------------------------------------------

    def test_events_read_back_per_person_oldest_first(self, make_uow: MakeUow) -> None:
        charge = make_event("e2", occurred_at=AT)
        refund = make_event(
            "e1",
            kind=EventKind.REFUND,
            amount=400,
            occurred_at=AT + timedelta(hours=1),
            refund_of="e2",
            reason=IgnoreReason.REFUND_OF_UNCOUNTED,
        )
        same_time = make_event(
            "e0", operator_code=OTHER_OPERATOR, occurred_at=AT + timedelta(hours=1)
        )
        theirs = make_event("e3", person="person-2")
        with make_uow() as uow:
            assert uow.events.add_many([refund, theirs, same_time, charge]) == 4
            uow.commit()

        with make_uow() as uow:
            found = uow.events.for_persons(["person-1", "person-2", "person-3"])
            assert uow.events.for_persons([]) == {}

        # Ties in time go by operator_code, then event_id.
        assert found == {
            "person-1": [charge, refund, same_time],
            "person-2": [theirs],
            "person-3": [],
        }

    def test_an_event_id_stored_for_the_operator_is_skipped(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.events.add_many([make_event("e1")])
            uow.commit()

        with make_uow() as uow:
            inserted = uow.events.add_many(
                [
                    make_event("e1", amount=999),
                    make_event("e2"),
                    make_event("e2", amount=1),
                    make_event("e3"),
                ]
            )
            uow.commit()

        assert inserted == 2
        with make_uow() as uow:
            assert uow.events.for_persons(["person-1"]) == {
                "person-1": [make_event("e1"), make_event("e2"), make_event("e3")]
            }

    def test_the_same_event_id_from_another_operator_is_another_event(
        self, make_uow: MakeUow
    ) -> None:
        with make_uow() as uow:
            assert uow.events.add_many([make_event("e1")]) == 1
            assert uow.events.add_many([make_event("e1", operator_code=OTHER_OPERATOR)]) == 1
            assert uow.events.add_many([]) == 0

    def test_stored_hashes_are_found_for_the_operators_ids_only(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.events.add_many(
                [make_event("e1"), make_event("e2"), make_event("e3", operator_code=OTHER_OPERATOR)]
            )
            uow.commit()

        with make_uow() as uow:
            found = uow.events.existing_hashes(OPERATOR, ["e2", "e3", "e1", "e9", "e2"])
            assert uow.events.existing_hashes(OPERATOR, []) == {}

        assert found == {"e1": make_event("e1").content_hash, "e2": make_event("e2").content_hash}

    def test_reasons_are_set_and_cleared(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.events.add_many(
                [
                    make_event("e1"),
                    make_event("e2", reason=IgnoreReason.BEFORE_APPLICATION),
                    make_event("e1", operator_code=OTHER_OPERATOR, person="person-2"),
                ]
            )
            uow.commit()

        with make_uow() as uow:
            uow.events.set_reasons(
                [
                    (OPERATOR, "e1", IgnoreReason.CAP_REACHED.value),
                    (OPERATOR, "e2", None),
                    (OPERATOR, "never-sent", IgnoreReason.CAP_REACHED.value),
                ]
            )
            uow.events.set_reasons([])
            uow.commit()

        with make_uow() as uow:
            found = uow.events.for_persons(["person-1", "person-2"])
        assert found == {
            "person-1": [make_event("e1", reason=IgnoreReason.CAP_REACHED), make_event("e2")],
            "person-2": [make_event("e1", operator_code=OTHER_OPERATOR, person="person-2")],
        }

    def test_stored_reasons_are_read_for_the_operators_ids_only(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.events.add_many(
                [
                    make_event("e1"),
                    make_event("e2", reason=IgnoreReason.CAP_REACHED),
                    make_event("e3", operator_code=OTHER_OPERATOR, person="person-2"),
                ]
            )
            uow.commit()

        with make_uow() as uow:
            found = uow.events.reasons(OPERATOR, ["e1", "e2", "e3", "never-sent"])
            assert uow.events.reasons(OPERATOR, []) == {}
        assert found == {"e1": None, "e2": IgnoreReason.CAP_REACHED}

    def test_an_operators_recent_uploads_are_listed_newest_first_without_parts(
        self, make_uow: MakeUow
    ) -> None:
        def job(job_id: str, minutes: int, operator: str = OPERATOR) -> IngestJob:
            return IngestJob(
                job_id, operator, "events.csv", "queued", AT + timedelta(minutes=minutes)
            )

        with make_uow() as uow:
            for added in (job("a", 0), job("b", 5), job("b.1", 6), job("c", 9, OTHER_OPERATOR)):
                uow.jobs.add(added)
            uow.commit()

        with make_uow() as uow:
            assert [j.job_id for j in uow.jobs.recent(OPERATOR, 10)] == ["b", "a"]
            assert [j.job_id for j in uow.jobs.recent(OPERATOR, 1)] == ["b"]
            assert [j.job_id for j in uow.jobs.recent(OTHER_OPERATOR, 10)] == ["c"]

    def test_a_jobs_lines_are_judged_by_their_events_last_reasons(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.events.add_many(
                [
                    make_event("e1"),
                    make_event("e2", reason=IgnoreReason.BEFORE_APPLICATION),
                    make_event("e3", reason=IgnoreReason.CAP_REACHED),
                    make_event("e4", reason=IgnoreReason.CAP_REACHED),
                    make_event("e2", operator_code=OTHER_OPERATOR, person="person-2"),
                ]
            )
            uow.jobs.add_lines("job-1", [(2, "e1"), (3, "e2"), (5, "e3"), (6, "e2")])
            uow.jobs.add_lines("job-1", [(7, "e4")])
            uow.jobs.add_lines("job-1", [])
            uow.jobs.add_lines("job-2", [(2, "e3")])
            uow.commit()

        with make_uow() as uow:
            found = uow.jobs.verdicts("job-1", OPERATOR, limit=3)
            other = uow.jobs.verdicts("job-1", OTHER_OPERATOR, limit=3)
            none = uow.jobs.verdicts("no-such-job", OPERATOR, limit=3)
        assert found == JobVerdicts(
            counted=1,
            not_counted=4,
            not_counted_by_reason={
                IgnoreReason.BEFORE_APPLICATION: 2,
                IgnoreReason.CAP_REACHED: 2,
            },
            not_counted_lines=(
                EventVerdict(3, "e2", IgnoreReason.BEFORE_APPLICATION),
                EventVerdict(5, "e3", IgnoreReason.CAP_REACHED),
                EventVerdict(6, "e2", IgnoreReason.BEFORE_APPLICATION),
            ),
        )
        # Another operator's event of the same id is another event.
        assert other == JobVerdicts(2, 0, {}, ())  # lines 3 and 6 name its e2
        assert none == JobVerdicts(0, 0, {}, ())

    def test_events_without_commit_are_rolled_back(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.events.add_many([make_event("e1")])
            assert uow.events.existing_hashes(OPERATOR, ["e1"]) == {
                "e1": make_event("e1").content_hash
            }

        with make_uow() as uow:
            assert uow.events.existing_hashes(OPERATOR, ["e1"]) == {}

    @pytest.mark.parametrize("odd", [[], ["odd\x1fid", "comma,id"]], ids=["plain", "odd"])
    def test_many_keys_are_found_and_updated_whatever_characters_they_hold(
        self, make_uow: MakeUow, odd: list[str]
    ) -> None:
        # Enough keys for the database's one-parameter lists; the odd ones hold the unit
        # separator those lists are joined with, or a comma.
        ids = [f"e{number}" for number in range(70)] + odd
        events = [make_event(event_id) for event_id in ids]
        with make_uow() as uow:
            assert uow.events.add_many(events) == len(ids)
            uow.commit()

        with make_uow() as uow:
            found = uow.events.existing_hashes(OPERATOR, [*ids, "missing"])
            assert found == {event.event_id: event.content_hash for event in events}
            uow.events.set_reasons(
                [(OPERATOR, event_id, IgnoreReason.CAP_REACHED.value) for event_id in ids]
            )
            uow.commit()

        with make_uow() as uow:
            stored = uow.events.for_persons(["person-1"])["person-1"]
            assert {event.event_id: event.reason for event in stored} == dict.fromkeys(
                ids, IgnoreReason.CAP_REACHED
            )

    # --- persons pending evaluation ---------------------------------------------------

    def test_marked_persons_stay_pending_until_their_marker_is_cleared(
        self, make_uow: MakeUow
    ) -> None:
        with make_uow() as uow:
            assert uow.events.pending_markers() == []
            first = uow.events.mark_pending(["person-2", "person-1", "person-2"])
            second = uow.events.mark_pending(["person-3"])
            uow.commit()

        with make_uow() as uow:
            # Markers by id, oldest first; their persons each once, in order, in chunks.
            assert uow.events.pending_markers() == [first, second]
            assert list(uow.events.pending_persons([first, second], 2)) == [
                ["person-1", "person-2"],
                ["person-3"],
            ]
            assert list(uow.events.pending_persons([second], 2)) == [["person-3"]]
            uow.events.clear_pending([first, first + second + 1])
            uow.commit()

        with make_uow() as uow:
            assert uow.events.pending_markers() == [second]
            assert list(uow.events.pending_persons([first], 2)) == []
            uow.events.clear_pending([])

    def test_the_persons_of_many_markers_come_once_each_in_code_point_order(
        self, make_uow: MakeUow
    ) -> None:
        # A file's batches: many markers naming overlapping persons, read a chunk at a time
        # while the same unit of work writes (queue_pending queues jobs as it reads).
        persons = [f"person-{n:03d}" for n in range(250)] + ["Zed", "zed", "éa", "ｱ"]
        with make_uow() as uow:
            markers = [
                uow.events.mark_pending(persons[start : start + 40])
                for start in range(0, len(persons), 20)
            ]
            uow.commit()
        with make_uow() as uow:
            chunks = []
            for chunk in uow.events.pending_persons(markers, 7):
                chunks.append(chunk)
                uow.events.mark_pending(chunk[:1])
            uow.commit()
        assert [len(chunk) for chunk in chunks[:-1]] == [7] * (len(chunks) - 1)
        assert [person for chunk in chunks for person in chunk] == sorted(persons)

    def test_a_marker_rolled_back_with_its_events_was_never_there(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.events.add_many([make_event("e1")])
            uow.events.mark_pending(["person-1"])

        with make_uow() as uow:
            assert uow.events.pending_markers() == []
            assert uow.events.for_persons(["person-1"]) == {"person-1": []}

    # --- grant instructions -------------------------------------------------------------

    def test_an_instruction_reads_back_with_its_lines(self, make_uow: MakeUow) -> None:
        grant = make_grant(
            lines=(
                make_line("application:app-1", measure=Measure.PHASE1, points=-300),
                make_line("event:paypay:e1", measure=Measure.PHASE1, points=2_500),
                make_line("event:paypay:e2", measure=Measure.PHASE1, points=1_000),
            ),
            acknowledged_at=AT + timedelta(days=1),
        )
        with make_uow() as uow:
            uow.grants.add_many([grant])
            uow.grants.add_many([])
            uow.commit()

        with make_uow() as uow:
            assert uow.grants.for_person("person-1") == [grant]
        assert grant.event_ids == ("e1", "e2")

    def test_lines_come_back_ordered_by_source_then_measure(self, make_uow: MakeUow) -> None:
        lines = (
            make_line("event:e2", measure=Measure.PHASE2_SPENDING),
            make_line("event:e1", measure=Measure.PHASE2_SPENDING),
            make_line("event:e1", measure=Measure.PHASE1),
        )
        with make_uow() as uow:
            uow.grants.add_many([make_grant(lines=lines)])
            uow.commit()

        with make_uow() as uow:
            (stored,) = uow.grants.for_person("person-1")
        assert stored.lines == (lines[2], lines[1], lines[0])

    def test_instructed_lines_are_read_per_person(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.grants.add_many(
                [
                    make_grant("g2", lines=(make_line("event:e1", points=-500),)),
                    make_grant("g1", lines=(make_line("event:e1"), make_line("event:e0"))),
                    make_grant("g3", person="person-2", lines=(make_line("event:e7"),)),
                ]
            )
            uow.commit()

        with make_uow() as uow:
            found = uow.grants.lines_for_persons(["person-1", "person-2", "person-3"])
            assert uow.grants.lines_for_persons([]) == {}

        assert found == {
            "person-1": [
                ("event:e0", Measure.PHASE1, 2_500),
                ("event:e1", Measure.PHASE1, 2_500),
                ("event:e1", Measure.PHASE1, -500),
            ],
            "person-2": [("event:e7", Measure.PHASE1, 2_500)],
            "person-3": [],
        }

    def test_pending_instructions_are_the_unacknowledged_ones_due_by_the_date(
        self, make_uow: MakeUow
    ) -> None:
        due = make_grant("g1", grant_on=DUE - timedelta(days=30))
        due_today = make_grant("g4", grant_on=DUE)
        with make_uow() as uow:
            uow.grants.add_many(
                [
                    due_today,
                    make_grant("g2", grant_on=DUE + timedelta(days=1)),
                    make_grant("g3", acknowledged_at=AT),
                    make_grant("g5", operator_code=OTHER_OPERATOR),
                    due,
                ]
            )
            uow.commit()

        with make_uow() as uow:
            assert uow.grants.pending(OPERATOR, DUE, None, None, 100) == [due, due_today]
            assert uow.grants.pending(OPERATOR, DUE - timedelta(days=1), None, None, 100) == [due]
            assert uow.grants.pending(OTHER_OPERATOR, DUE, None, None, 100) == [
                make_grant("g5", operator_code=OTHER_OPERATOR)
            ]

    def test_instructions_are_counted_by_where_they_stand_on_a_day(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.grants.add_many(
                [
                    make_grant("g1", grant_on=DUE - timedelta(days=30)),
                    make_grant("g2", grant_on=DUE - timedelta(days=1)),
                    make_grant("g3", grant_on=DUE),
                    make_grant("g4", grant_on=DUE + timedelta(days=1)),
                    make_grant("g5", grant_on=DUE - timedelta(days=3), acknowledged_at=AT),
                    make_grant("g6", operator_code=OTHER_OPERATOR, grant_on=DUE),
                ]
            )
            uow.commit()

        with make_uow() as uow:
            assert uow.grants.counts(OPERATOR, DUE) == GrantCounts(2, 1, 1, 1)
            assert uow.grants.counts(OTHER_OPERATOR, DUE) == GrantCounts(0, 1, 0, 0)
            assert uow.grants.counts("nobody", DUE) == GrantCounts(0, 0, 0, 0)

    def test_pending_instructions_are_paged_in_grant_id_order(self, make_uow: MakeUow) -> None:
        grants = [make_grant(f"g{number}") for number in (4, 1, 3, 2, 5)]
        with make_uow() as uow:
            uow.grants.add_many(grants)
            uow.commit()

        def ids(found: list[GrantInstruction]) -> list[str]:
            return [grant.grant_id for grant in found]

        with make_uow() as uow:
            assert ids(uow.grants.pending(OPERATOR, DUE, None, None, 2)) == ["g1", "g2"]
            assert ids(uow.grants.pending(OPERATOR, DUE, None, "g2", 2)) == ["g3", "g4"]
            assert ids(uow.grants.pending(OPERATOR, DUE, None, "g4", 2)) == ["g5"]
            assert ids(uow.grants.pending(OPERATOR, DUE, None, "g5", 2)) == []
            assert ids(uow.grants.pending(OPERATOR, DUE, None, "g25", 2)) == ["g3", "g4"]

    def test_pending_instructions_can_be_of_one_service(self, make_uow: MakeUow) -> None:
        other_service = make_grant("g2", service_code="paypay-card")
        with make_uow() as uow:
            uow.grants.add_many([make_grant("g1"), other_service])
            uow.commit()

        with make_uow() as uow:
            assert uow.grants.pending(OPERATOR, DUE, SERVICE, None, 10) == [make_grant("g1")]
            assert uow.grants.pending(OPERATOR, DUE, "paypay-card", None, 10) == [other_service]
            assert uow.grants.pending(OPERATOR, DUE, "unknown", None, 10) == []

    def test_acknowledging_touches_only_the_operators_unacknowledged_instructions(
        self, make_uow: MakeUow
    ) -> None:
        first, second = AT + timedelta(days=1), AT + timedelta(days=2)
        with make_uow() as uow:
            uow.grants.add_many(
                [make_grant("g1"), make_grant("g2"), make_grant("g3", operator_code=OTHER_OPERATOR)]
            )
            uow.commit()

        with make_uow() as uow:
            assert uow.grants.acknowledge(OPERATOR, ["g1", "g1", "g3", "unknown"], first) == 1
            uow.commit()
        with make_uow() as uow:
            assert uow.grants.acknowledge(OPERATOR, ["g1", "g2"], second) == 1
            assert uow.grants.acknowledge(OPERATOR, [], second) == 0
            uow.commit()

        with make_uow() as uow:
            assert uow.grants.for_person("person-1") == [
                make_grant("g1", acknowledged_at=first),
                make_grant("g2", acknowledged_at=second),
                make_grant("g3", operator_code=OTHER_OPERATOR),
            ]
            assert uow.grants.pending(OPERATOR, DUE, None, None, 10) == []

    def test_instructions_are_read_by_settlement_month_and_by_person(
        self, make_uow: MakeUow
    ) -> None:
        july = make_grant("g2", lines=(make_line("event:e1"), make_line("event:e2")))
        august = make_grant("g1", grant_on=date(2021, 8, 1), settlement_month="2021-08")
        carried = make_grant(
            "g3", person="person-2", grant_on=date(2021, 7, 31), settlement_month="2021-08"
        )
        with make_uow() as uow:
            uow.grants.add_many([july, august, carried])
            uow.commit()

        with make_uow() as uow:
            assert uow.grants.for_month("2021-07") == [july]
            assert uow.grants.for_month("2021-08") == [august, carried]
            assert uow.grants.for_month("2021-09") == []
            assert uow.grants.for_person("person-1") == [august, july]
            assert uow.grants.for_person("person-2") == [carried]
            assert uow.grants.for_person("person-3") == []

    def test_a_month_is_added_up_per_operator_and_service(self, make_uow: MakeUow) -> None:
        e1, e2 = f"event:{OPERATOR}:e1", f"event:{OPERATOR}:e2"
        grants = [
            make_grant("g1", lines=(make_line(e1), make_line(e2))),
            # A clawback of e1 for another person (the events count once), a fixed grant.
            make_grant("g2", person="person-2", lines=(make_line(e1, points=-1_000),)),
            make_grant("g3", lines=(make_line("application:app-1", points=300),)),
            make_grant("g4", operator_code=OTHER_OPERATOR, service_code="rakuten_pay"),
            make_grant("g5", grant_on=date(2021, 8, 2), settlement_month="2021-08"),
        ]
        with make_uow() as uow:
            uow.grants.add_many(grants)
            uow.commit()

        with make_uow() as uow:
            assert uow.grants.month_totals("2021-07") == [
                MonthTotals(OPERATOR, SERVICE, 5_300, 1_000, events=2, persons=2),
                MonthTotals(OTHER_OPERATOR, "rakuten_pay", 2_500, 0, events=1, persons=1),
            ]
            assert uow.grants.month_totals("2021-09") == []

    # --- settlement --------------------------------------------------------------------

    def test_a_month_is_closed_once(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            assert uow.settlements.closed_months() == set()
            assert uow.settlements.close("2021-07", AT) is True
            uow.commit()

        with make_uow() as uow:
            assert uow.settlements.close("2021-07", AT + timedelta(days=1)) is False
            assert uow.settlements.close("2021-08", AT + timedelta(days=1)) is True
            uow.commit()

        with make_uow() as uow:
            assert uow.settlements.closed_months() == {"2021-07", "2021-08"}

    def test_a_statement_approval_reads_back_and_advances_from_its_state_only(
        self, make_uow: MakeUow
    ) -> None:
        totals = StatementTotals(5_300, 1_000, 4_300, events=2, persons=2)
        draft = Approval("2021-07", OPERATOR, ApprovalState.DRAFT, totals, "mic-sato", AT)
        other = Approval("2021-07", OTHER_OPERATOR, ApprovalState.DRAFT, totals, "mic-sato", AT)
        august = Approval("2021-08", OPERATOR, ApprovalState.DRAFT, totals, "mic-sato", AT)
        with make_uow() as uow:
            assert uow.settlements.add_approval(other) is True
            assert uow.settlements.add_approval(draft) is True
            assert uow.settlements.add_approval(august) is True
            uow.commit()

        approved = draft.approve("mic-suzuki", AT + timedelta(hours=1), totals)
        paid = approved.pay("mic-suzuki", AT + timedelta(hours=2), "payment-2021-07-x")
        with make_uow() as uow:
            assert uow.settlements.add_approval(draft) is False  # one per month and operator
            assert uow.settlements.advance_approval(approved, ApprovalState.APPROVED) is False
            assert uow.settlements.advance_approval(approved, ApprovalState.DRAFT) is True
            assert uow.settlements.advance_approval(paid, ApprovalState.DRAFT) is False
            assert uow.settlements.advance_approval(paid, ApprovalState.APPROVED) is True
            uow.commit()

        with make_uow() as uow:
            assert uow.settlements.approvals("2021-07") == [paid, other]
            assert uow.settlements.approvals() == [august, paid, other]
            assert uow.settlements.in_payment_file("payment-2021-07-x") == [paid]
            assert uow.settlements.in_payment_file("payment-2021-07-y") == []

    def test_a_closing_without_commit_is_rolled_back(self, make_uow: MakeUow) -> None:
        with make_uow() as uow:
            uow.settlements.close("2021-07", AT)

        with make_uow() as uow:
            assert uow.settlements.closed_months() == set()
