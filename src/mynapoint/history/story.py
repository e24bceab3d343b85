"""The story of a generated person (mynapoint.history.generate): the `Timeline` a history
spans (rules, catalog, platform "now", the `Shape`) and `draw`, which makes a `Story` from a
random source: who the person is (birth date, municipality, card, a death for a few), when
their MyKey ID was made, their phase-1 application (service, counts, channel; the corner and
the assisted session of a counter application), and their events (charges or purchases, a
refund of an earlier one for some), with the times the operator sent them. A story carries
no ids.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from mynapoint.domain.applications import ApplicationRequest, refusal_for
from mynapoint.domain.calendar import JST, jst_date
from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.ledger import PersonSnapshot
from mynapoint.domain.measures import Channel, Counts, EventKind, Measure
from mynapoint.domain.services import Catalog, PaymentService
from mynapoint.history.shape import SHAPE, Municipality, Shape
from mynapoint.services.ledger import month_of, person_facts

PERSON = "p"  # the placeholder ids a story is judged with
ACCOUNT = "a"
MEASURE = Measure.PHASE1
COUNTER_OPENS = time(8, 45)  # the demo city's corners, weekdays 08:45-17:15
COUNTER_OPEN_MINUTES = 8 * 60 + 30


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
class DrawnSession:
    """The assisted session of a counter application: the card read, then the account shown
    to the citizen to confirm; it ends with the application, at its instant."""

    started_at: datetime
    previewed_at: datetime


@dataclass(frozen=True)
class DrawnApplication:
    service_code: str
    operator_code: str
    counts: EventKind
    channel: Channel
    corner: str | None  # the support corner of a counter application
    applied_at: datetime
    session: DrawnSession | None = None  # a counter application's


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
    story = replace(story, events=_events(rng, timeline, application))
    if application.corner is None:
        return story
    # Drawn last, so that everything drawn before is the same as in a history without
    # sessions (the persons of a database written before them are the same persons).
    session = _session(rng, timeline, application.applied_at)
    return replace(story, application=replace(application, session=session))


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
        minutes = rng.randrange(COUNTER_OPEN_MINUTES)
        applied_at = datetime.combine(day, COUNTER_OPENS, JST) + timedelta(minutes=minutes)
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


def _session(rng: random.Random, timeline: Timeline, applied_at: datetime) -> DrawnSession:
    shape = timeline.shape
    opens = datetime.combine(jst_date(applied_at), COUNTER_OPENS, JST)
    started_at = max(
        applied_at - timedelta(minutes=rng.randint(*shape.counter_session_minutes)), opens
    )
    previewed_at = max(
        applied_at - timedelta(seconds=rng.randint(*shape.counter_confirm_seconds)), started_at
    )
    return DrawnSession(started_at, previewed_at)


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
