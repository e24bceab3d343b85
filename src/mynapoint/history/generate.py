"""A synthetic history of the program, deterministic from a seed: the one generator that the
demo (`make run`, `mynapoint.history.writer`) and the benchmarks (`bench/scale_data.py`) share.

A person's history is drawn in two steps:

- `draw` makes a `Story` from a random source and a `Timeline` (the rules, the catalog,
  platform "now" and the `Shape`): who the person is (birth date, municipality, card, a death
  for a few), when their MyKey ID was made, their phase-1 application (service, counts,
  channel, the corner of a counter application), and their events (charges or purchases,
  a refund of an earlier one for some), with the times the operator sent them;
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

import bisect
import hashlib
import math
import random
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from mynapoint.domain.applications import ApplicationRequest, refusal_for
from mynapoint.domain.calendar import JST, jst_date
from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.ledger import PersonSnapshot, StoredApplication, StoredEvent
from mynapoint.domain.measures import Channel, Counts, EventKind, IgnoreReason, Measure
from mynapoint.domain.mykey import MYKEY_ALPHABET, MYKEY_LENGTH
from mynapoint.domain.services import Catalog, PaymentService
from mynapoint.history.shape import SHAPE, Municipality, Shape
from mynapoint.services.intake import EventRow
from mynapoint.services.ledger import History, judge, month_of, person_facts

PERSON = "p"  # the placeholder ids a story is judged with
ACCOUNT = "a"
MEASURE = Measure.PHASE1
# The generated accounts' ids: the first candidate a service's format accepts (n numbers the
# person); none collides with the demo cards' accounts (none starts with 98, F, G or gen).
_ACCOUNT_FORMS = (
    "98{n:014d}",
    "{prefix}F{n:014d}",
    "G{n:011d}",
    "001{n:07d}",
    "gen{n:07d}@example.jp",
)


# --- the timeline: what a history spans -------------------------------------------------------


@dataclass
class Timeline:
    """The program's span up to `now` and the precomputed weights the draws use."""

    rules: CampaignRules
    catalog: Catalog
    now: datetime
    shape: Shape = SHAPE
    opens: datetime = field(init=False)  # MyKey IDs and applications from
    spending_from: date = field(init=False)
    spending_until: date = field(init=False)  # exclusive: the last event day + 1
    announcements: tuple[datetime, ...] = field(init=False)
    days: list[date] = field(init=False)  # the event days
    cumulative: list[float] = field(init=False)  # of the days' weights
    _services: list[PaymentService] = field(init=False)
    _service_cumulative: list[float] = field(init=False)
    _municipality_cumulative: list[float] = field(init=False)
    _hour_cumulative: list[float] = field(init=False)

    def __post_init__(self) -> None:
        rule = self.rules.rule(MEASURE)
        self.opens = rule.applications_open
        if self.now <= self.opens:
            msg = f"no history before the program opened ({self.opens.isoformat()})"
            raise ValueError(msg)
        today = jst_date(self.now)
        terms = rule.terms_at(self.now, today)
        if rule.spending_opens is None or terms is None or terms.spending is None:
            msg = "the rules have no phase-1 spending window at the history's now"
            raise ValueError(msg)
        self.spending_from = jst_date(rule.spending_opens)
        close = jst_date(terms.spending.ends - timedelta(microseconds=1)) + timedelta(days=1)
        self.spending_until = min(today + timedelta(days=1), close)
        self.announcements = tuple(
            datetime.combine(v.announced, time(17), JST)
            for v in rule.applications_close.versions[1:]
            if datetime.combine(v.announced, time(17), JST) < self.now
        )
        shape = self.shape
        self.days = []
        self.cumulative = []
        total = 0.0
        day = self.spending_from
        while day < self.spending_until:
            weight = shape.weekday_weights[day.weekday()]
            if (day + timedelta(days=shape.month_end_days)).month != day.month:
                weight *= shape.month_end_factor
            total += weight
            self.days.append(day)
            self.cumulative.append(total)
            day += timedelta(days=1)
        self._services = [self.catalog.get(code) for code, _ in shape.services]
        self._service_cumulative = _cumulate(w for _, w in shape.services)
        self._municipality_cumulative = _cumulate(m.weight for m in shape.municipalities)
        self._hour_cumulative = _cumulate(shape.hour_weights)

    def service(self, rng: random.Random) -> PaymentService:
        return self._services[_pick(rng, self._service_cumulative)]

    def municipality(self, rng: random.Random) -> Municipality:
        return self.shape.municipalities[_pick(rng, self._municipality_cumulative)]

    def hour(self, rng: random.Random) -> int:
        return _pick(rng, self._hour_cumulative)

    def closures(self) -> list[tuple[str, datetime]]:
        """(month, closed at) of the months closed by now: month M on the shape's day of the
        month `close_months_after` later, at 10:00."""
        closed: list[tuple[str, datetime]] = []
        month = date(self.opens.year, self.opens.month, 1)
        while True:
            later = month
            for _ in range(self.shape.close_months_after):
                later = (later + timedelta(days=32)).replace(day=1)
            at = datetime.combine(later.replace(day=self.shape.close_day), time(10), JST)
            if at > self.now:
                return closed
            closed.append((month_of(month), at))
            month = (month + timedelta(days=32)).replace(day=1)


def _cumulate(weights: Iterable[float]) -> list[float]:
    out: list[float] = []
    total = 0.0
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _pick(rng: random.Random, cumulative: list[float]) -> int:
    return bisect.bisect_right(cumulative, rng.random() * cumulative[-1])


# --- the story: a person as drawn -------------------------------------------------------------


@dataclass(frozen=True)
class DrawnApplication:
    service_code: str
    operator_code: str
    counts: EventKind
    channel: Channel
    corner: str | None  # the support corner of a counter application
    applied_at: datetime


@dataclass(frozen=True)
class DrawnEvent:
    suffix: str  # the event id after the person's prefix
    kind: EventKind
    amount: int
    occurred_at: datetime
    received_at: datetime
    refund_of: str | None  # the refunded event's suffix


@dataclass(frozen=True)
class Story:
    birth_date: date
    municipality: Municipality
    card_applied_on: date
    card_applied_online: bool
    certificate_issued_at: datetime
    died_on: date | None
    mykey_at: datetime
    application: DrawnApplication | None
    events: tuple[DrawnEvent, ...]

    def snapshot(self, *, dead: bool = True) -> PersonSnapshot:
        return PersonSnapshot(
            person=PERSON,
            birth_date=self.birth_date,
            card_applied_on=self.card_applied_on,
            card_applied_online=self.card_applied_online,
            died_on=self.died_on if dead else None,
            adult_ward=False,
            certificate_issued_at=self.certificate_issued_at,
        )


def draw(rng: random.Random, timeline: Timeline) -> Story:
    """One person's story (see the module's docstring)."""
    shape = timeline.shape
    mykey_at = _mykey_instant(rng, timeline)
    card_applied_on = jst_date(mykey_at) - timedelta(days=rng.randint(30, 400))
    certificate = datetime.combine(
        card_applied_on + timedelta(days=rng.randint(20, 29)), time(10), JST
    )
    span = (shape.born_until - shape.born_from).days
    municipality = timeline.municipality(rng)
    story = Story(
        birth_date=shape.born_from + timedelta(days=rng.randrange(span)),
        municipality=municipality,
        card_applied_on=card_applied_on,
        card_applied_online=rng.random() < shape.card_online_share,
        certificate_issued_at=min(certificate, mykey_at - timedelta(hours=1)),
        died_on=None,
        mykey_at=mykey_at,
        application=None,
        events=(),
    )
    if rng.random() < shape.death_share:
        days = (jst_date(timeline.now) - jst_date(mykey_at)).days
        if days > 1:
            story = replace(story, died_on=jst_date(mykey_at) + timedelta(rng.randrange(1, days)))
    if rng.random() < shape.no_application_share:
        return story
    application = _application(rng, timeline, story)
    if application is None:
        return story
    story = replace(story, application=application)
    return replace(story, events=_events(rng, timeline, application))


def _mykey_instant(rng: random.Random, timeline: Timeline) -> datetime:
    shape = timeline.shape
    span = (timeline.now - timeline.opens).total_seconds()
    bumps = shape.bump_weight * len(timeline.announcements)
    while True:
        u = rng.random() * max(1.0, shape.rush_weight + bumps)
        if u < shape.rush_weight:
            seconds = rng.expovariate(1 / (shape.rush_days * 86_400))
            start = timeline.opens
        elif u < shape.rush_weight + bumps:
            start = timeline.announcements[int((u - shape.rush_weight) / shape.bump_weight)]
            seconds = rng.expovariate(1 / (shape.bump_days * 86_400))
        else:
            start, seconds = timeline.opens, rng.random() * span
        at = start + timedelta(seconds=int(seconds))
        if at < timeline.now:
            return at


def _application(rng: random.Random, timeline: Timeline, story: Story) -> DrawnApplication | None:
    shape = timeline.shape
    if rng.random() < shape.apply_same_day_share:
        applied_at = story.mykey_at + timedelta(minutes=rng.randint(2, 60))
    else:
        later = rng.expovariate(1 / (shape.apply_later_mean_days * 86_400))
        applied_at = story.mykey_at + timedelta(seconds=int(later))
    service = timeline.service(rng)
    if service.counts is Counts.PICK:
        pick_charge = rng.random() < shape.pick_charge_share
        counts = EventKind.CHARGE if pick_charge else EventKind.PURCHASE
    else:
        counts = EventKind(service.counts.value)
    channel = Channel.APP if Channel.APP in service.channels else Channel.ONLINE
    corner = None
    day = jst_date(applied_at)
    if (
        story.municipality.corner is not None
        and Channel.SUPPORT_CORNER in service.channels
        and shape.counter_from <= day <= shape.counter_until
        and rng.random() < shape.counter_share
    ):
        # At the counter on a weekday between 08:45 and 17:15 (holidays left aside), after
        # the MyKey ID.
        minutes = rng.randrange(8 * 60 + 30)
        applied_at = datetime.combine(day, time(8, 45), JST) + timedelta(minutes=minutes)
        while applied_at.weekday() >= 5 or applied_at <= story.mykey_at:
            applied_at += timedelta(days=1)
        channel, corner = Channel.SUPPORT_CORNER, story.municipality.corner
    elif (
        channel is Channel.APP
        and Channel.ONLINE in service.channels
        and rng.random() < shape.web_share
    ):
        channel = Channel.ONLINE
    if applied_at >= timeline.now or (story.died_on and jst_date(applied_at) >= story.died_on):
        return None
    request = ApplicationRequest(0, MEASURE, service.code, applied_at, counts)
    facts = person_facts(story.snapshot())
    if refusal_for(request, service, facts, (), timeline.rules, jst_date(applied_at)) is not None:
        return None
    return DrawnApplication(
        service.code, service.operator.code, counts, channel, corner, applied_at
    )


def _events(
    rng: random.Random, timeline: Timeline, application: DrawnApplication
) -> tuple[DrawnEvent, ...]:
    shape = timeline.shape
    count = _pick(rng, _cumulate(shape.event_count_weights))
    first_day = max(jst_date(application.applied_at), timeline.spending_from)
    first = (first_day - timeline.spending_from).days
    if first >= len(timeline.days):
        return ()
    low = timeline.cumulative[first - 1] if first else 0.0
    high = timeline.cumulative[-1]
    instants: list[datetime] = []
    while len(instants) < count:
        index = bisect.bisect_right(timeline.cumulative, low + rng.random() * (high - low))
        index = min(index, len(timeline.days) - 1)
        day = timeline.days[index]
        after = (day - first_day).days
        factor = shape.after_application_floor + (1 - shape.after_application_floor) * math.exp(
            -after / shape.after_application_days
        )
        if rng.random() >= factor:
            continue
        at = datetime.combine(day, time(timeline.hour(rng)), JST) + timedelta(
            seconds=rng.randrange(3600)
        )
        if at < timeline.now:
            instants.append(at)
    instants.sort()
    events: list[DrawnEvent] = []
    refund = count > 1 and rng.random() < shape.refund_share
    for j, drawn_at in enumerate(instants):
        charges = [e for e in events if e.kind is not EventKind.REFUND]
        if refund and j == count - 1 and charges:
            original = charges[rng.randrange(len(charges))]
            at = min(
                original.occurred_at
                + timedelta(seconds=rng.randrange(1, shape.refund_within_days * 86_400)),
                timeline.now - timedelta(seconds=1),
            )
            amount = original.amount if rng.random() < 0.5 else rng.randint(1, original.amount)
            event = DrawnEvent(
                "r", EventKind.REFUND, amount, at, _received(rng, at), original.suffix
            )
        else:
            amount = _amount(rng, shape)
            received = _received(rng, drawn_at)
            event = DrawnEvent(f"c{j}", application.counts, amount, drawn_at, received, None)
        if event.received_at <= timeline.now:
            events.append(event)
    return tuple(sorted(events, key=lambda e: (e.occurred_at, e.suffix)))


def _received(rng: random.Random, at: datetime) -> datetime:
    """The next night's upload: 02:00-06:00 the day after."""
    night = datetime.combine(jst_date(at) + timedelta(days=1), time(2), JST)
    return night + timedelta(seconds=rng.randrange(4 * 3600))


def _amount(rng: random.Random, shape: Shape) -> int:
    u = rng.random()
    if u < shape.full_charge_share:
        return 20_000
    if u < shape.full_charge_share + shape.round_amount_share:
        return rng.randint(1, 10) * 1_000
    return rng.randint(100, 9_000)


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
    "spending_events",
    "grant_instructions",
    "grant_lines",
)


@dataclass(frozen=True)
class PersonRows:
    """One generated person's rows, by table (column name -> value), as plain data.

    `municipality` goes to the card authority's cardholders; `corner` is kept although no
    table has a column for it (the counter's audit entries would hold it)."""

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
        "ledger_version": 1, "updated_at": story.mykey_at,
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
