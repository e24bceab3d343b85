"""A synthetic history of the program, deterministic from a seed: the one generator that the
demo (`make run`, `mynapoint.history.writer`) and the benchmarks (`bench/scale_data.py`) share.

A person's history is drawn in two steps:

- `draw` (history/story.py) makes a `Story` from a random source and a `Timeline` (the
  rules, the catalog, platform "now" and the `Shape`): who the person is, their MyKey ID,
  their phase-1 application (at a support corner: with its assisted session) and their
  events, with the times the operator sent them;
- `judge_story` runs the platform's own comparison (`services.ledger.judge`, the points engine)
  over the story as the platform saw it grow: an evaluation an hour after each event arrived
  and after a death was reported, each with the months closed by then, each writing the
  instructions that differ from those written before. So the instructions are exactly the
  platform's, and re-evaluating the person at "now" writes nothing. Nothing is hand-computed.

A story and its judgement carry no ids (the engine sees ids only as keys): `person_rows` gives
person n's rows with its own ids, so a caller may judge a story once and give it to many
persons (the benchmark's templates). `generate(seed, persons, timeline)` yields every
person's rows, each person drawn from `Random(f"{seed}:person:{n}")`.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from mynapoint.domain.assist import EndReason
from mynapoint.domain.calendar import JST
from mynapoint.domain.ledger import StoredApplication, StoredEvent
from mynapoint.domain.measures import IgnoreReason
from mynapoint.domain.mykey import MYKEY_ALPHABET, MYKEY_LENGTH
from mynapoint.domain.services import PaymentService
from mynapoint.history.story import (
    ACCOUNT,
    MEASURE,
    PERSON,
    DrawnSession,
    Story,
    Timeline,
    draw,
)
from mynapoint.services.intake import EventRow
from mynapoint.services.ledger import History, judge

# The generated accounts' ids: the first candidate a service's format accepts (n numbers the
# person); none collides with the demo cards' accounts (none starts with 98, F, G or gen).
_ACCOUNT_FORMS = (
    "98{n:014d}",
    "{prefix}F{n:014d}",
    "G{n:011d}",
    "001{n:07d}",
    "gen{n:07d}@example.jp",
)


# --- the judgement: what the platform wrote ---------------------------------------------------


@dataclass(frozen=True)
class JudgedInstruction:
    evaluation: int  # which evaluation of the person wrote it (numbers the grant ids)
    number: int  # its place among that evaluation's instructions
    measure: str
    points: int
    grant_on: date
    created_at: datetime
    acknowledged_at: datetime | None
    settlement_month: str
    lines: tuple[tuple[str, str, int], ...]  # (event suffix, measure, points)


@dataclass(frozen=True)
class Judged:
    reasons: dict[str, str | None]  # event suffix -> the engine's reason it earns nothing
    instructions: tuple[JudgedInstruction, ...]


def judge_story(
    story: Story, timeline: Timeline, extra_closed: frozenset[str] = frozenset()
) -> Judged:
    """The instructions and event reasons the platform wrote for this story (module docs).

    `extra_closed`: months closed besides the shape's closures (a database's own)."""
    application = story.application
    if application is None or not story.events:
        return Judged({}, ())
    shape = timeline.shape
    operator = application.operator_code
    stored_application = StoredApplication(
        application_id="app",
        person=PERSON,
        measure=MEASURE,
        service_code=application.service_code,
        payment_service_id=ACCOUNT,
        counts=application.counts,
        channel=application.channel,
        applied_at=application.applied_at,
    )
    death_known = (
        datetime.combine(story.died_on + timedelta(days=1), time(8), JST) if story.died_on else None
    )
    instants = {e.received_at + shape.evaluated_after for e in story.events}
    if death_known is not None and death_known <= timeline.now:
        instants.add(death_known)
    closures = timeline.closures()
    reasons: dict[str, str | None] = {}
    instructed: list[tuple[str, str, int]] = []
    written: list[JudgedInstruction] = []
    prefix = f"event:{operator}:"
    for evaluation, at in enumerate(sorted(i for i in instants if i <= timeline.now)):
        events = [
            StoredEvent(
                operator_code=operator,
                event_id=e.suffix,
                service_code=application.service_code,
                payment_service_id=ACCOUNT,
                person=PERSON,
                kind=e.kind,
                amount=e.amount,
                occurred_at=e.occurred_at,
                refund_of=e.refund_of,
                content_hash="",
                received_at=e.received_at,
                reason=_reason(reasons.get(e.suffix)),
            )
            for e in story.events
            if e.received_at <= at
        ]
        closed = {month for month, closed_at in closures if closed_at <= at} | extra_closed
        snapshot = story.snapshot(dead=death_known is not None and death_known <= at)
        judgement = judge(
            [History(snapshot, [stored_application], events, list(instructed))],
            timeline.rules,
            timeline.catalog,
            at,
            closed,
        )
        reasons.update({event_id: reason for _, event_id, reason in judgement.reasons})
        for number, i in enumerate(judgement.instructions):
            lines = tuple(
                (line.source.removeprefix(prefix), line.measure.value, line.points)
                for line in i.lines
            )
            instructed.extend((line.source, line.measure.value, line.points) for line in i.lines)
            written.append(
                JudgedInstruction(
                    evaluation=evaluation,
                    number=number,
                    measure=i.measure.value,
                    points=i.points,
                    grant_on=i.grant_on,
                    created_at=at,
                    acknowledged_at=_pulled(i.grant_on, at, timeline),
                    settlement_month=i.settlement_month,
                    lines=lines,
                )
            )
    return Judged(reasons, tuple(written))


def _reason(value: str | None) -> IgnoreReason | None:
    return IgnoreReason(value) if value else None


def _pulled(grant_on: date, created_at: datetime, timeline: Timeline) -> datetime | None:
    at = max(
        datetime.combine(grant_on, time(timeline.shape.pulled_at_hour), JST),
        created_at + timedelta(hours=1),
    )
    return at if at <= timeline.now else None


# --- rows: a judged story as person n -----------------------------------------------------------


TABLES = (
    "platform_persons",
    "mykeys",
    "payment_accounts",
    "account_links",
    "applications",
    "assisted_sessions",  # its clerk's staff account first (`history_clerk`)
    "spending_events",
    "grant_instructions",
    "grant_lines",
)

# The staff account that runs a corner's generated sessions (the writer adds it), and the
# serial of the card read at the counter: not the uppercase hex of a certificate's serial,
# so never a real card's.
HISTORY_CLERK = "history-{corner}"
_CARD_SERIAL = "history-{seed}-{n}"


@dataclass(frozen=True)
class PersonRows:
    """One generated person's rows, by table (column name -> value), as plain data.

    `municipality` goes to the card authority's cardholders (platform_persons holds the
    platform's own copy); `corner` is the corner of a counter application (its assisted
    session's)."""

    n: int
    person: str
    municipality: str
    corner: str | None
    security_code: str | None  # the account's code, as the operator issued it (plain)
    rows: dict[str, list[dict[str, Any]]]


def ids(seed: int, n: int) -> tuple[str, str]:
    """(person anchor, event id prefix) of generated person n."""
    person = hashlib.blake2b(f"{seed}:history-person:{n}".encode(), digest_size=16).hexdigest()
    return person, f"h{seed % 10_000:04d}-{n:07d}-"


def mykey_id(seed: int, n: int) -> str:
    digest = hashlib.blake2b(f"{seed}:history-mykey:{n}".encode(), digest_size=8).digest()
    value = int.from_bytes(digest) % len(MYKEY_ALPHABET) ** MYKEY_LENGTH
    digits = []
    for _ in range(MYKEY_LENGTH):
        value, digit = divmod(value, len(MYKEY_ALPHABET))
        digits.append(MYKEY_ALPHABET[digit])
    return "".join(digits)


def history_clerk(corner: str) -> str:
    """The sign-in name of the staff account that ran `corner`'s generated sessions."""
    return HISTORY_CLERK.format(corner=corner)


def account_id(service: PaymentService, n: int) -> str:
    """Generated person n's account id with `service`, in the service's format."""
    return _ACCOUNT_FORMS[_account_form(service)].format(
        n=n, prefix=service.payment_service_id.example[:2]
    )


_forms: dict[str, int] = {}


def _account_form(service: PaymentService) -> int:
    found = _forms.get(service.code)
    if found is None:
        example = service.payment_service_id.example
        found = next(
            (
                k
                for k, form in enumerate(_ACCOUNT_FORMS)
                if service.payment_service_id.matches(form.format(n=0, prefix=example[:2]))
            ),
            None,
        )
        if found is None:
            msg = f"no generated account id fits {service.code}'s format"
            raise ValueError(msg)
        _forms[service.code] = found
    return found


def person_rows(seed: int, n: int, story: Story, judged: Judged, timeline: Timeline) -> PersonRows:
    """Story and judgement as person n's rows."""
    person, prefix = ids(seed, n)
    rows: dict[str, list[dict[str, Any]]] = {table: [] for table in TABLES}
    rows["platform_persons"].append({
        "person": person, "birth_date": story.birth_date,
        "card_applied_on": story.card_applied_on,
        "card_applied_online": story.card_applied_online, "died_on": story.died_on,
        "adult_ward": False, "certificate_issued_at": story.certificate_issued_at,
        "municipality": story.municipality.code, "ledger_version": 1,
        "updated_at": story.mykey_at,
    })  # fmt: skip
    rows["mykeys"].append(
        {"mykey_id": mykey_id(seed, n), "person": person, "created_at": story.mykey_at}
    )
    application = story.application
    code = None
    if application is not None:
        service = timeline.catalog.get(application.service_code)
        account = account_id(service, n)
        code = service.security_codes[0].example
        registered = application.applied_at - timedelta(days=1)
        holder = timeline.shape.holder_names[n % len(timeline.shape.holder_names)]
        rows["payment_accounts"].append({
            "service_code": service.code, "payment_service_id": account,
            "operator_code": application.operator_code, "holder_name": holder,
            "registered_at": registered, "updated_at": registered,
        })  # fmt: skip
        rows["account_links"].append({
            "service_code": service.code, "payment_service_id": account, "person": person,
            "linked_at": application.applied_at,
        })  # fmt: skip
        application_id = hashlib.blake2b(f"{seed}:history-application:{n}".encode(), digest_size=8)
        rows["applications"].append({
            "application_id": application_id.hexdigest(), "person": person,
            "measure": MEASURE.value, "service_code": service.code,
            "payment_service_id": account, "counts": application.counts.value,
            "channel": application.channel.value, "representative": None,
            "applied_at": application.applied_at, "status": "active", "cancelled_at": None,
        })  # fmt: skip
        if application.corner is not None and application.session is not None:
            rows["assisted_sessions"].append(
                _session_row(seed, n, person, application.corner, application.session,
                             application.applied_at)
            )  # fmt: skip
        for e in story.events:
            event_id = prefix + e.suffix
            refund_of = prefix + e.refund_of if e.refund_of else None
            row = EventRow(
                event_id, service.code, account, e.kind, e.amount, e.occurred_at, refund_of
            )
            rows["spending_events"].append({
                "operator_code": application.operator_code, "event_id": event_id,
                "service_code": service.code, "payment_service_id": account, "person": person,
                "kind": e.kind.value, "amount": e.amount, "occurred_at": e.occurred_at,
                "refund_of": refund_of, "content_hash": row.content_hash(),
                "received_at": e.received_at, "reason": judged.reasons.get(e.suffix),
            })  # fmt: skip
        source = f"event:{application.operator_code}:{prefix}"
        for i in judged.instructions:
            grant_id = grant_id_of(seed, n, i)
            rows["grant_instructions"].append({
                "grant_id": grant_id, "operator_code": application.operator_code,
                "service_code": service.code, "payment_service_id": account, "person": person,
                "measure": i.measure, "points": i.points, "grant_on": i.grant_on,
                "created_at": i.created_at, "acknowledged_at": i.acknowledged_at,
                "settlement_month": i.settlement_month,
            })  # fmt: skip
            rows["grant_lines"].extend(
                {"grant_id": grant_id, "source": source + suffix, "measure": measure,
                 "person": person, "points": points}
                for suffix, measure, points in i.lines
            )  # fmt: skip
    return PersonRows(
        n,
        person,
        story.municipality.code,
        application.corner if application else None,
        code,
        rows,
    )


def _session_row(
    seed: int, n: int, person: str, corner: str, session: DrawnSession, applied_at: datetime
) -> dict[str, Any]:
    """The assisted session as a real one ends with its application (services/assist.py
    `commit`): ended at the application's instant, its last activity the confirmation shown,
    the MyKey ID known, and no preview left (a session's preview goes when it ends)."""
    session_id = hashlib.blake2b(f"{seed}:history-session:{n}".encode(), digest_size=16)
    return {
        "session_id": session_id.hexdigest(), "staff": history_clerk(corner), "corner": corner,
        "card_serial": _CARD_SERIAL.format(seed=seed, n=n), "person": person,
        "mykey_id": mykey_id(seed, n), "started_at": session.started_at,
        "last_activity_at": session.previewed_at, "ended_at": applied_at,
        "end_reason": EndReason.APPLIED.value,
    }  # fmt: skip


def grant_id_of(seed: int, n: int, instruction: JudgedInstruction) -> str:
    """32 hex digits like the platform's (`services.ledger.grant_id_prefix`): the milliseconds
    of its making, 48 bits of the person and evaluation (instead of random ones), its number."""
    milliseconds = int(instruction.created_at.astimezone(UTC).timestamp() * 1000)
    middle = hashlib.blake2b(
        f"{seed}:history-grant:{n}:{instruction.evaluation}".encode(), digest_size=6
    ).hexdigest()
    return f"{milliseconds:012x}{middle}{instruction.number:08x}"


def story_of(seed: int, n: int, timeline: Timeline) -> Story:
    return draw(random.Random(f"{seed}:person:{n}"), timeline)  # noqa: S311 - reproducible, no secret


def generate(
    seed: int,
    persons: int,
    timeline: Timeline,
    *,
    start: int = 0,
    extra_closed: frozenset[str] = frozenset(),
    skip: Collection[str] = (),
) -> Iterator[PersonRows]:
    """Persons start … persons-1 of the history of `seed`, each judged on its own; a person
    whose anchor is in `skip` is left out."""
    for n in range(start, persons):
        if skip and ids(seed, n)[0] in skip:
            continue
        story = story_of(seed, n, timeline)
        yield person_rows(seed, n, story, judge_story(story, timeline, extra_closed), timeline)
