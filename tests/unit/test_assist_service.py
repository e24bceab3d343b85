"""The counter's use cases over the in-memory unit of work and a simulated card authority:
what the step check inside the application's own transaction prevents, and that an action
and its audit entry land together or not at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from itertools import cycle

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from factories import make_catalog, make_service
from fakes import FakeAuditRepository, FakeDatabase, FakeUnitOfWork
from mynapoint.domain.assist import EndReason, SessionEnded
from mynapoint.domain.audit import SealedEntry
from mynapoint.domain.calendar import JST
from mynapoint.domain.measures import Measure
from mynapoint.domain.staff import Role, StaffAccount
from mynapoint.jpki.authority import SimulatedCardAuthority
from mynapoint.jpki.card import VirtualCard
from mynapoint.jpki.certificates import generate_key
from mynapoint.jpki.memory import InMemoryAuthorityStore
from mynapoint.jpki.revocation import CachedRevocationList
from mynapoint.services.applications import ApplicationDesk
from mynapoint.services.assist import (
    AccountForm,
    CardReading,
    Confirmation,
    commit,
    read_card,
    set_up_mykey,
    show_account,
)
from mynapoint.services.codes import CodeHasher
from mynapoint.services.counter_sessions import (
    Clerk,
    Counter,
    end,
)
from mynapoint.services.operators import register_account

DAY = datetime(2021, 7, 19, 10, 0, tzinfo=JST)
PIN = "1234"
ACCOUNT_ID = "12345678"
CODE = "1234"
CLERK = Clerk("chuo-staff", Role.STAFF, "chuo")


@cache
def keys() -> tuple[rsa.RSAPrivateKey, ...]:
    return tuple(generate_key() for _ in range(4))


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


class EndingReader:
    """A card reader during whose signature the clerk's session is ended elsewhere."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.armed = False

    def sign_challenge(self, card: VirtualCard, pin: str, challenge: bytes) -> bytes:
        if self.armed:
            end(self.world.uow(), CLERK, None, EndReason.NEXT_CARD, self.world.clock.now())
        return self.world.authority.sign_challenge(card, pin, challenge)


@dataclass
class World:
    clock: Clock
    database: FakeDatabase
    authority: SimulatedCardAuthority
    counter: Counter

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.database)

    def card(self) -> VirtualCard:
        return self.authority.issue_card(
            PIN,
            birth_date=date(1980, 4, 1),
            card_applied_on=date(2021, 1, 10),
            issued_at=datetime(2021, 3, 1, 9, 0, tzinfo=JST),
        )

    def session_ready(self, card: VirtualCard) -> tuple[str, str]:
        """A session for the card, its MyKey ID set up and its account shown: (session, preview)."""
        session = read_card(self.uow(), self.counter, CLERK, CardReading(card, PIN), DAY)
        set_up_mykey(self.uow(), self.counter, CLERK, session.session_id, DAY)
        form = AccountForm(Measure.PHASE1, "charge_card", ACCOUNT_ID, CODE)
        shown = show_account(self.uow(), self.counter, CLERK, session.session_id, form, DAY)
        return session.session_id, shown.preview_id

    def entries(self) -> list[SealedEntry]:
        return list(self.database.committed.audit_log.values())


@pytest.fixture
def world(rules) -> World:
    clock = Clock(DAY)
    authority = SimulatedCardAuthority(
        InMemoryAuthorityStore(), now=clock.now, new_key=cycle(keys()).__next__
    )
    catalog = make_catalog(make_service(code="charge_card"))
    hasher = CodeHasher(b"k" * 32)
    desk = ApplicationDesk(
        rules=rules,
        catalog=catalog,
        authority=authority,
        revocations=CachedRevocationList(authority.revocation_list, clock.now),
        hasher=hasher,
    )
    database = FakeDatabase()
    built = World(clock, database, authority, Counter(desk, authority, timedelta(minutes=2)))
    uow = built.uow()
    with uow:
        uow.staff.add(
            StaffAccount("chuo-staff", Role.STAFF, "chuo", "-", DAY, must_change_password=False)
        )
        uow.commit()
    service = next(iter(catalog))
    register_account(
        built.uow(), hasher, service.operator.code, catalog, service.code, ACCOUNT_ID, CODE,
        "ヤマダ タロウ", DAY,
    )  # fmt: skip
    return built


def test_reading_a_card_ends_the_open_session_first(world):
    first = read_card(world.uow(), world.counter, CLERK, CardReading(world.card(), PIN), DAY)
    second = read_card(world.uow(), world.counter, CLERK, CardReading(world.card(), PIN), DAY)

    sessions = world.database.committed.assisted
    assert sessions[first.session_id].end_reason is EndReason.NEXT_CARD
    assert sessions[second.session_id].is_open
    assert [e.entry.action for e in world.entries()] == [
        "session_started", "session_ended", "session_started",
    ]  # fmt: skip


def test_a_session_ended_while_the_card_signs_takes_the_application_back(world):
    card = world.card()
    session, preview = world.session_ready(card)
    reader = EndingReader(world)
    counter = Counter(world.counter.desk, reader, world.counter.idle_limit)
    reader.armed = True

    with pytest.raises(SessionEnded):
        commit(
            world.uow(), counter, CLERK,
            Confirmation(session, preview, CardReading(card, PIN)), DAY,
        )  # fmt: skip

    assert world.database.committed.applications == {}
    assert "applied" not in [e.entry.action for e in world.entries()]
    assert world.entries()[-1].entry.action == "step_refused"


class FailingAudit(FakeAuditRepository):
    def add(self, entry: SealedEntry) -> None:
        if entry.entry.action == "applied":
            raise OSError("the disk is full")
        super().add(entry)


def test_an_application_whose_audit_entry_cannot_be_written_is_not_stored(world):
    card = world.card()
    session, preview = world.session_ready(card)
    uow = world.uow()
    uow.audit = FailingAudit(uow._current)  # noqa: SLF001 - the fake's own tables

    with pytest.raises(OSError, match="disk is full"):
        commit(
            uow, world.counter, CLERK,
            Confirmation(session, preview, CardReading(card, PIN)), DAY,
        )  # fmt: skip

    assert world.database.committed.applications == {}
    assert world.database.committed.assisted[session].is_open


def test_a_committed_application_ends_its_session_in_the_same_commit(world):
    card = world.card()
    session, preview = world.session_ready(card)

    applied = commit(
        world.uow(), world.counter, CLERK,
        Confirmation(session, preview, CardReading(card, PIN)), DAY,
    )  # fmt: skip

    committed = world.database.committed
    assert committed.applications[applied.application.application_id].person
    assert committed.assisted[session].end_reason is EndReason.APPLIED
    applied_entry, ended_entry = (e.entry for e in world.entries()[-2:])
    assert applied_entry.action == "applied"
    assert ended_entry.details == {"session": session, "reason": "applied"}
