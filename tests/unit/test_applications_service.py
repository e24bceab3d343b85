"""The application use cases over the in-memory unit of work and a simulated card authority."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from itertools import cycle

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from factories import make_catalog, make_service
from fakes import FakeDatabase, FakeUnitOfWork
from mynapoint.domain.accounts import AccountLocked, InvalidAccountCredentials
from mynapoint.domain.auth import InvalidToken, NotAuthenticated
from mynapoint.domain.calendar import JST
from mynapoint.domain.ledger import OperatorKey
from mynapoint.domain.measures import Channel, EventKind, Measure
from mynapoint.domain.mykey import MyKey
from mynapoint.jpki.authority import SimulatedCardAuthority
from mynapoint.jpki.card import VirtualCard
from mynapoint.jpki.certificates import generate_key
from mynapoint.jpki.memory import InMemoryAuthorityStore
from mynapoint.jpki.revocation import CachedRevocationList
from mynapoint.services.account_checks import AccountCredentials
from mynapoint.services.applications import (
    Applicant,
    ApplicationDesk,
    CancellationNotAllowed,
    ChannelNotAllowed,
    NewApplication,
    RepresentativeNotAllowed,
    RepresentativeProof,
    RepresentativeRequired,
    apply,
    cancel,
    preview,
)
from mynapoint.services.auth import create_challenge
from mynapoint.services.codes import CodeHasher, InvalidAccountInput
from mynapoint.services.operators import (
    authenticate_operator,
    issue_operator_key,
    register_account,
    secret_hash,
)
from mynapoint.services.passwords import PasswordHasher
from mynapoint.services.refusals import ApplicationRefused, person_standing
from mynapoint.services.throttling import (
    ACCOUNT_CHECKS,
    LimitsThrottle,
    NullThrottle,
    RateLimited,
    Throttle,
)

DAY = datetime(2021, 7, 19, 10, 0, tzinfo=JST)
PHASE2_DAY = datetime(2022, 7, 1, 10, 0, tzinfo=JST)
PIN = "1234"
ACCOUNT_ID = "12345678"  # the factories' service: 8 digits, a 4-digit code
CODE = "1234"
UNKNOWN_ID = "87654321"  # never registered
LOCK = timedelta(minutes=15)


@cache
def keys() -> tuple[rsa.RSAPrivateKey, ...]:
    return tuple(generate_key() for _ in range(8))


TEST_CODE_KEY = b"k" * 32


@cache
def fast_hasher() -> CodeHasher:
    return CodeHasher(TEST_CODE_KEY)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, by: timedelta) -> None:
        self.at += by


@dataclass
class World:
    clock: Clock
    database: FakeDatabase
    desk: ApplicationDesk

    @property
    def authority(self) -> SimulatedCardAuthority:
        authority = self.desk.authority
        assert isinstance(authority, SimulatedCardAuthority)
        return authority

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.database)

    def card(
        self,
        *,
        birth_date: date = date(1980, 4, 1),
        card_applied_on: date = date(2021, 1, 10),
        representative_of: str | None = None,
        adult_ward: bool = False,
        municipality: str | None = None,
    ) -> VirtualCard:
        return self.authority.issue_card(
            PIN,
            birth_date=birth_date,
            card_applied_on=card_applied_on,
            issued_at=datetime(2021, 3, 1, 9, 0, tzinfo=JST),
            representative_of=representative_of,
            adult_ward=adult_ward,
            municipality=municipality,
        )

    def applicant(self, card: VirtualCard, *, mykey: bool = True) -> Applicant:
        facts = self.authority.facts(card.serial)
        assert facts is not None
        if mykey:
            uow = self.uow()
            with uow:
                uow.mykeys.add(MyKey(card.serial[:8].upper().ljust(8, "0"), facts.person, DAY))
                uow.commit()
        return Applicant(facts.person, card.serial)

    def account(self, payment_service_id: str = ACCOUNT_ID, code: str = CODE) -> None:
        service = next(iter(self.desk.catalog))
        register_account(
            self.uow(),
            self.desk.hasher,
            service.operator.code,
            self.desk.catalog,
            service.code,
            payment_service_id,
            code,
            "ヤマダ タロウ",
            self.clock.now(),
        )

    def apply(
        self,
        applicant: Applicant,
        *,
        measure: Measure = Measure.PHASE1,
        service_code: str = "charge_card",
        payment_service_id: str = ACCOUNT_ID,
        code: str = CODE,
        channel: Channel = Channel.ONLINE,
        representative: RepresentativeProof | None = None,
    ):
        request = NewApplication(
            measure,
            AccountCredentials(service_code, payment_service_id, code),
            representative=representative,
            channel=channel,
        )
        return apply(self.uow(), self.desk, applicant, request, self.clock.now())

    def proof(self, card: VirtualCard) -> RepresentativeProof:
        challenge = create_challenge(self.uow(), self.clock.now())
        signature = self.authority.sign_challenge(card, PIN, challenge.nonce)
        return RepresentativeProof(
            challenge.challenge_id, card.certificate_pem, base64.b64encode(signature).decode()
        )

    def wrong_codes(self, person: str, payment_service_id: str = ACCOUNT_ID) -> int:
        uow = self.uow()
        with uow:
            tries = uow.accounts.code_tries(person, "charge_card", payment_service_id)
        return 0 if tries is None else tries.wrong_codes

    def preview(self, applicant: Applicant, code: str, payment_service_id: str = ACCOUNT_ID) -> str:
        wrong = AccountCredentials("charge_card", payment_service_id, code)
        return preview(self.uow(), self.desk, applicant.person, wrong, self.clock.now())


def make_world(rules, *services, at: datetime = DAY, throttle: Throttle | None = None) -> World:
    clock = Clock(at)
    authority = SimulatedCardAuthority(
        InMemoryAuthorityStore(), now=clock.now, new_key=cycle(keys()).__next__
    )
    catalog = make_catalog(*(services or (make_service(code="charge_card"),)))
    desk = ApplicationDesk(
        rules=rules,
        catalog=catalog,
        authority=authority,
        revocations=CachedRevocationList(authority.revocation_list, clock.now),
        hasher=fast_hasher(),
        throttle=throttle or NullThrottle(),
        account_lock=LOCK,
    )
    world = World(clock, FakeDatabase(), desk)
    world.account()
    return world


@pytest.fixture
def world(rules) -> World:
    return make_world(rules)


# --- the code hasher --------------------------------------------------------------------------


def test_the_hasher_says_false_for_a_wrong_code_or_a_damaged_hash_and_never_raises():
    hasher = fast_hasher()
    stored = hasher.hash("1234")
    assert hasher.verify(stored, "1234")
    assert not hasher.verify(stored, "1235")
    assert not hasher.verify("not a hash", "1234")
    assert not hasher.verify(stored[:-4], "1234")
    assert not hasher.verify_decoy("decoy")


def test_staff_passwords_are_hashed_with_owasps_minimum_argon2id_parameters():
    assert "$argon2id$v=19$m=19456,t=2,p=1$" in PasswordHasher().hash("kantoku-2021")


def test_a_security_code_is_kept_as_a_keyed_hmac_that_another_key_does_not_accept():
    stored = fast_hasher().hash("1234")
    assert stored.startswith("$hmac-sha256$v=1$")
    assert "1234" not in stored
    other = CodeHasher(b"another key of thirty-two bytes!")
    assert other.hash("1234") != stored
    assert not other.verify(stored, "1234")
    assert not fast_hasher().needs_rehash(stored)


def test_a_code_key_shorter_than_32_bytes_is_refused():
    with pytest.raises(ValueError, match="at least 32"):
        CodeHasher(b"short")


def test_an_argon2id_hash_stored_before_the_hmac_still_verifies_and_asks_to_be_replaced():
    legacy = PasswordHasher(time_cost=1, memory_cost_kib=8, parallelism=1).hash("1234")
    hasher = fast_hasher()
    assert hasher.verify(legacy, "1234")
    assert not hasher.verify(legacy, "1235")
    assert not hasher.verify(legacy[:-4], "1234")
    assert hasher.needs_rehash(legacy)


def test_the_first_right_code_replaces_an_argon2id_hash_with_the_hmac_and_a_wrong_one_does_not(
    world,
):
    legacy = PasswordHasher(time_cost=1, memory_cost_kib=8, parallelism=1).hash(CODE)

    def stored_hash() -> str:
        uow = world.uow()
        with uow:
            account = uow.accounts.get("charge_card", ACCOUNT_ID)
        assert account is not None
        return account.security_code_hash

    registered = stored_hash()
    uow = world.uow()
    with uow:
        assert uow.accounts.replace_code_hash("charge_card", ACCOUNT_ID, registered, legacy)
        uow.commit()
    applicant = world.applicant(world.card())
    with pytest.raises(InvalidAccountCredentials):
        world.preview(applicant, "9999")
    assert stored_hash() == legacy

    world.preview(applicant, CODE)
    assert stored_hash() == fast_hasher().hash(CODE)
    world.apply(applicant)  # and the code still opens the account in its new form


def test_an_unknown_account_id_is_checked_with_the_same_hmac_as_a_registered_one():
    calls: list[str] = []

    class Recording(CodeHasher):
        def hash(self, code: str) -> str:
            calls.append(code)
            return super().hash(code)

    hasher = Recording(TEST_CODE_KEY)
    calls.clear()
    hasher.verify(hasher.hash("1234"), "9999")
    registered = list(calls)
    calls.clear()
    hasher.verify_decoy("9999")
    assert calls == registered[1:] == ["9999"]


# --- operator keys -----------------------------------------------------------------------------


def test_an_operator_key_authenticates_its_operator_until_it_is_revoked(world):
    uow = world.uow()
    key = issue_operator_key(uow, "test_operator", world.desk.catalog, DAY)
    assert key.startswith("mnp_")
    key_id, secret = key.removeprefix("mnp_").split(".")
    assert len(key_id) == 12
    assert len(base64.urlsafe_b64decode(secret + "=")) == 32
    assert authenticate_operator(uow, key, DAY) == "test_operator"
    with uow:
        stored = uow.operator_keys.get(key_id)
        assert stored is not None
        assert stored.secret_hash == secret_hash(secret)
    revoked = OperatorKey("revokedkey01", "test_operator", secret_hash("s"), DAY, revoked_at=DAY)
    with uow:
        uow.operator_keys.add(revoked)
        uow.commit()
    with pytest.raises(InvalidToken):
        authenticate_operator(uow, "mnp_revokedkey01.s", DAY)


@pytest.mark.parametrize("key", ["mnp_", "mnp_short.secret", "abc", "mnp_abcdefghijkl.", "x" * 80])
def test_malformed_operator_keys_are_invalid(world, key):
    with pytest.raises(InvalidToken):
        authenticate_operator(world.uow(), key, DAY)


def test_a_missing_operator_key_is_not_authenticated(world):
    with pytest.raises(NotAuthenticated):
        authenticate_operator(world.uow(), None, DAY)


# --- applying ----------------------------------------------------------------------------------


def test_applying_keeps_the_persons_card_facts_for_intake(world):
    card = world.card(birth_date=date(1970, 2, 3), municipality="401331")
    applicant = world.applicant(card)
    applied = world.apply(applicant)
    assert applied.holder_name_masked == "ヤマダ タ**"
    assert applied.application.counts is EventKind.CHARGE  # the service counts charges only
    assert applied.application.channel is Channel.ONLINE
    uow = world.uow()
    with uow:
        snapshot = uow.persons.get(applicant.person)
        linked = uow.applications.person_for_account("charge_card", ACCOUNT_ID)
    assert snapshot is not None
    assert snapshot.birth_date == date(1970, 2, 3)
    assert snapshot.municipality == "401331"  # the statistics count applications by it
    assert linked == applicant.person


def test_a_refused_application_counts_no_security_code(world):
    applicant = world.applicant(world.card(card_applied_on=date(2021, 5, 10)))
    with pytest.raises(ApplicationRefused) as refused:
        world.apply(applicant, code="9999")
    assert refused.value.code == "not_eligible"
    assert world.wrong_codes(applicant.person) == 0


def test_the_standing_before_a_service_is_the_applications_own_refusal_with_its_rule(world):
    late = world.authority.facts(world.card(card_applied_on=date(2021, 5, 10)).serial)
    on_time = world.authority.facts(world.card().serial)
    assert late is not None
    assert on_time is not None
    rules = world.desk.rules
    [refused] = person_standing(rules, late, set(), DAY)
    assert refused.measure is Measure.PHASE1
    assert refused.refused is not None
    assert refused.refused.code == "not_eligible"
    assert refused.refused.details["card_applied_by"] == "2021-04-30"
    [open_now] = person_standing(rules, on_time, set(), DAY)
    assert open_now.refused is None
    [applied] = person_standing(rules, on_time, {Measure.PHASE1}, DAY)
    assert applied.refused is not None
    assert applied.refused.code == "already_applied"
    # In 2022 measure 1 takes applications; after the program nothing does, so there is
    # nothing to say about anyone.
    assert person_standing(rules, on_time, set(), datetime(2022, 1, 5, tzinfo=JST)) != []
    assert person_standing(rules, on_time, set(), datetime(2024, 1, 5, tzinfo=JST)) == []


def test_a_code_out_of_format_is_refused_without_counting(world):
    applicant = world.applicant(world.card())
    with pytest.raises(InvalidAccountInput):
        world.apply(applicant, code="12345")
    assert world.wrong_codes(applicant.person) == 0


def test_the_fifth_wrong_code_in_a_row_locks_the_person_out_of_the_account(world):
    applicant = world.applicant(world.card())
    for tries in range(1, 5):
        with pytest.raises(InvalidAccountCredentials):
            world.preview(applicant, "9999")
        assert world.wrong_codes(applicant.person) == tries
    with pytest.raises(AccountLocked) as locked:
        world.apply(applicant, code="9999")
    assert locked.value.details["retry_after_seconds"] == LOCK.total_seconds()
    with pytest.raises(AccountLocked):
        world.apply(applicant)


def test_another_persons_wrong_codes_never_lock_the_account_for_its_holder(world):
    attacker = world.applicant(world.card())
    holder = world.applicant(world.card())
    for _ in range(10):
        with pytest.raises((InvalidAccountCredentials, AccountLocked)):
            world.preview(attacker, "9999")
    assert world.preview(holder, CODE) == "ヤマダ タ**"
    assert world.apply(holder).application.payment_service_id == ACCOUNT_ID


@pytest.mark.parametrize(
    ("waited", "still_locked"), [(LOCK - timedelta(seconds=1), True), (LOCK, False)]
)
def test_the_lock_ends_by_itself_after_its_time(world, waited, still_locked):
    applicant = world.applicant(world.card())
    for _ in range(5):
        with pytest.raises((InvalidAccountCredentials, AccountLocked)):
            world.preview(applicant, "9999")
    world.clock.advance(waited)
    if still_locked:
        with pytest.raises(AccountLocked) as locked:
            world.preview(applicant, CODE)
        assert locked.value.details["retry_after_seconds"] == 1
    else:
        assert world.preview(applicant, CODE) == "ヤマダ タ**"
        assert world.wrong_codes(applicant.person) == 0


def test_an_unknown_account_id_is_counted_and_locked_like_a_known_one(world):
    applicant = world.applicant(world.card())
    answers = {}
    for payment_service_id in (ACCOUNT_ID, UNKNOWN_ID):
        seen = []
        for _ in range(6):
            with pytest.raises((InvalidAccountCredentials, AccountLocked)) as refused:
                world.preview(applicant, "9999", payment_service_id)
            seen.append(
                (
                    refused.value.code,
                    refused.value.message.replace(payment_service_id, "ID"),
                    refused.value.details,
                )
            )
        answers[payment_service_id] = seen
    assert answers[ACCOUNT_ID] == answers[UNKNOWN_ID]
    assert [code for code, _, _ in answers[UNKNOWN_ID]] == [
        *["invalid_account_credentials"] * 4,
        *["account_locked"] * 2,
    ]


def test_a_right_code_forgets_the_wrong_ones_before_it(world):
    applicant = world.applicant(world.card())
    for _ in range(4):
        with pytest.raises(InvalidAccountCredentials):
            world.preview(applicant, "9999")
    world.preview(applicant, CODE)
    assert world.wrong_codes(applicant.person) == 0


def test_a_person_may_check_only_so_many_accounts_an_hour(rules):
    world = make_world(rules, throttle=LimitsThrottle("memory://", {ACCOUNT_CHECKS: "3/hour"}))
    applicant = world.applicant(world.card())
    other = world.applicant(world.card())
    for _ in range(3):
        world.preview(applicant, CODE)
    with pytest.raises(RateLimited) as limited:
        world.preview(applicant, CODE)
    # The oldest counted check leaves the hour then (a loaded machine may take a while here).
    assert 3000 < limited.value.retry_after_seconds <= 3600
    assert world.preview(other, CODE) == "ヤマダ タ**"  # counted per person


def test_a_service_that_left_the_measure_is_not_accepting(rules):
    phase1_only = make_service(code="charge_card", measures=frozenset({Measure.PHASE1}))
    world = make_world(rules, phase1_only, at=PHASE2_DAY)
    applicant = world.applicant(world.card())
    with pytest.raises(ApplicationRefused) as refused:
        world.apply(applicant, measure=Measure.PHASE2_SPENDING)
    assert refused.value.code == "service_not_accepting"


def test_a_closed_service_is_not_accepting(rules):
    closed = make_service(code="charge_card", closes_at=DAY - timedelta(days=1))
    world = make_world(rules, closed)
    with pytest.raises(ApplicationRefused) as refused:
        world.apply(world.applicant(world.card()))
    assert refused.value.code == "service_not_accepting"


def test_a_holder_who_died_is_not_eligible(world):
    card = world.card()
    world.authority.record_death(card.serial, date(2021, 7, 1))
    with pytest.raises(ApplicationRefused) as refused:
        world.apply(world.applicant(card))
    assert refused.value.code == "not_eligible"
    assert "died on 2021-07-01" in refused.value.message


@pytest.mark.parametrize(
    ("channels", "channel", "allowed"),
    [
        (frozenset({Channel.APP}), Channel.ONLINE, False),
        (frozenset({Channel.APP}), Channel.SUPPORT_CORNER, False),
        (frozenset({Channel.ONLINE}), Channel.SUPPORT_CORNER, False),
        (frozenset({Channel.ONLINE, Channel.SUPPORT_CORNER}), Channel.SUPPORT_CORNER, True),
    ],
)
def test_the_channel_must_be_one_the_service_takes(rules, channels, channel, allowed):
    world = make_world(rules, make_service(code="charge_card", channels=channels))
    applicant = world.applicant(world.card())
    if allowed:
        assert world.apply(applicant, channel=channel).application.channel is channel
    else:
        with pytest.raises(ChannelNotAllowed):
            world.apply(applicant, channel=channel)


@pytest.mark.parametrize(
    ("birth_date", "allowed"),
    [
        (date(2006, 7, 20), True),  # 14: a child
        (date(2004, 7, 20), True),  # 16, turning 17 tomorrow: the guardian is present
        (date(2003, 7, 20), True),  # 17 until tomorrow
        (date(2003, 7, 19), False),  # 18 today
        (date(1980, 4, 1), False),
    ],
)
def test_a_representative_is_for_minors_only_unless_the_holder_is_a_ward(
    world, birth_date, allowed
):
    holder = world.card(birth_date=birth_date)
    guardian = world.card(birth_date=date(1970, 1, 1), representative_of=holder.serial)
    applicant = world.applicant(holder)
    if allowed:
        applied = world.apply(applicant, representative=world.proof(guardian))
        assert applied.application.representative is not None
    else:
        with pytest.raises(RepresentativeNotAllowed):
            world.apply(applicant, representative=world.proof(guardian))


@pytest.mark.parametrize(
    ("birth_date", "adult_ward", "alone"),
    [
        (date(2012, 6, 1), False, False),  # 9
        (date(2006, 7, 20), False, False),  # 14, turning 15 tomorrow
        (date(2006, 7, 19), False, True),  # 15 today
        (date(2004, 7, 20), False, True),  # 16
        (date(1980, 4, 1), False, True),
        (date(1950, 1, 1), True, False),  # an adult ward
    ],
)
def test_a_holder_under_15_or_a_ward_cannot_apply_alone(world, birth_date, adult_ward, alone):
    applicant = world.applicant(world.card(birth_date=birth_date, adult_ward=adult_ward))
    if alone:
        assert world.apply(applicant).application.representative is None
        return
    with pytest.raises(RepresentativeRequired) as refused:
        world.apply(applicant, code="9999")
    assert refused.value.code == "representative_required"
    assert refused.value.details["reason"] == ("adult_ward" if adult_ward else "under_15")
    # Refused before the account is looked at: the wrong code cost no try.
    assert world.wrong_codes(applicant.person) == 0


def test_a_child_applies_through_the_legal_representative(world):
    child = world.card(birth_date=date(2012, 6, 1))
    parent = world.card(birth_date=date(1985, 5, 15), representative_of=child.serial)
    applied = world.apply(world.applicant(child), representative=world.proof(parent))
    assert applied.application.representative is not None


def test_a_revoked_session_certificate_cannot_apply(world):
    card = world.card()
    applicant = world.applicant(card)
    world.authority.revoke(card.serial, DAY - timedelta(minutes=1))
    with pytest.raises(InvalidToken):
        world.apply(applicant)


# --- cancelling --------------------------------------------------------------------------------


def test_cancelling_one_of_two_applications_on_one_account_keeps_the_link(rules):
    world = make_world(rules, at=PHASE2_DAY)
    applicant = world.applicant(world.card())
    spending = world.apply(applicant, measure=Measure.PHASE2_SPENDING).application
    fixed = world.apply(applicant, measure=Measure.PHASE2_HEALTH_INSURANCE).application

    def linked() -> str | None:
        uow = world.uow()
        with uow:
            return uow.applications.person_for_account("charge_card", ACCOUNT_ID)

    args = (world.desk.rules, world.desk.catalog, applicant.person)
    cancel(world.uow(), *args, fixed.application_id, PHASE2_DAY)
    assert linked() == applicant.person
    cancel(world.uow(), *args, spending.application_id, PHASE2_DAY)
    assert linked() is None
    with pytest.raises(CancellationNotAllowed):
        cancel(world.uow(), *args, spending.application_id, PHASE2_DAY)


@pytest.mark.parametrize(
    ("cancel_at", "allowed"),
    [
        # 23:30 JST is 14:30 UTC: one UTC day, two JST days; JST decides (RULES.md R18).
        (datetime(2021, 7, 19, 23, 59, tzinfo=JST), True),
        (datetime(2021, 7, 20, 0, 10, tzinfo=JST), False),
    ],
)
def test_the_day_of_a_cancellation_is_the_jst_day(world, cancel_at, allowed):
    world.clock.at = datetime(2021, 7, 19, 23, 30, tzinfo=JST)
    applicant = world.applicant(world.card())
    applied = world.apply(applicant).application
    args = (world.desk.rules, world.desk.catalog, applicant.person, applied.application_id)
    if allowed:
        assert cancel(world.uow(), *args, cancel_at).application_id == applied.application_id
    else:
        with pytest.raises(CancellationNotAllowed):
            cancel(world.uow(), *args, cancel_at)
