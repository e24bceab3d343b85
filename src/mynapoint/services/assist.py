"""Assisted sessions at a support-corner counter (RULES.md §6, "The incident to design against").

One session is one card read: reading a card ends whatever session the staff member had
open, and every later step names its session, which must still be the staff member's open
one and not idle. What the citizen confirms (the account and its holder's masked name) is
kept with the session, and the commit applies exactly that, after a fresh signature of the
session's own card. The session then ends by itself. A session ends after `idle_limit`
without a step too, judged by the platform clock.

Every step is recorded in the audit log inside the same unit of work as the step: the use
cases call back (`before_commit`) just before they commit, and the callback checks the
session again under its row lock, so an application can never land for a session that
another card read or the idle limit ended meanwhile.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from mynapoint.domain.accounts import AccountLocked, InvalidAccountCredentials
from mynapoint.domain.assist import (
    AssistedSession,
    CardMismatch,
    EndReason,
    Preview,
    PreviewOutdated,
    RepresentativeCardMissing,
    SessionEnded,
)
from mynapoint.domain.auth import WrongPin
from mynapoint.domain.calendar import jst_date
from mynapoint.domain.campaigns import CampaignRules, MeasureRule
from mynapoint.domain.cards import CardFacts
from mynapoint.domain.errors import MynapointError
from mynapoint.domain.ledger import StoredApplication
from mynapoint.domain.measures import Channel, EventKind, Measure
from mynapoint.domain.representatives import Representation, representation_for
from mynapoint.domain.services import Catalog, PaymentService
from mynapoint.jpki.card import VirtualCard
from mynapoint.services.account_checks import AccountCredentials
from mynapoint.services.applications import (
    Applicant,
    Applied,
    NewApplication,
    RepresentativeProof,
    applications_of,
    apply,
    preview,
)
from mynapoint.services.auth import sign_fresh_challenge, use_challenge, verify_card_response
from mynapoint.services.counter_sessions import (
    Clerk,
    Counter,
    check_session,
    end_session,
    locked_step,
    record_alone,
    record_end,
    record_step,
    refused_step,
    touch,
)
from mynapoint.services.mykey import ensure_mykey, holder_of
from mynapoint.services.ports import UnitOfWork


@dataclass(frozen=True)
class CardReading:
    """A card placed on the reader and the PIN its holder typed (never stored)."""

    card: VirtualCard
    pin: str = field(repr=False)


@dataclass(frozen=True)
class AccountForm:
    """What the staff member types for the application."""

    measure: Measure
    service_code: str
    payment_service_id: str
    security_code: str = field(repr=False)
    counts: EventKind | None = None
    with_representative: bool = False


@dataclass(frozen=True)
class CitizenView:
    """Only what this citizen's application needs: no name, address or birth date."""

    mykey_id: str | None
    applications: list[StoredApplication]
    may_use_representative: bool


# --- what the counter offers -----------------------------------------------------------------


def open_measures(rules: CampaignRules, now: datetime) -> list[MeasureRule]:
    """Measures taking applications now, as announced by today."""
    today = jst_date(now)
    found = []
    for rule in rules.measures.values():
        terms = rule.terms_at(now, today)
        if terms is not None and terms.applications.contains(now):
            found.append(rule)
    return found


def corner_services(catalog: Catalog) -> list[PaymentService]:
    return [s for s in catalog if Channel.SUPPORT_CORNER in s.channels]


def services_elsewhere(catalog: Catalog) -> list[PaymentService]:
    """Services whose application cannot be made at a corner (their own app or store only)."""
    return [s for s in catalog if Channel.SUPPORT_CORNER not in s.channels]


# --- the session -----------------------------------------------------------------------------


def read_card(
    uow: UnitOfWork, counter: Counter, clerk: Clerk, reading: CardReading, now: datetime
) -> AssistedSession:
    """Start a session for the card's holder. Whatever its outcome, a read ends the clerk's
    open session first: nothing typed for one citizen survives the next card."""
    with uow:
        previous = uow.assisted.open_for(clerk.name, lock=True)
        if previous is not None:
            end_session(uow, clerk, previous, EndReason.NEXT_CARD, now)
            uow.commit()
    try:
        facts = _signed_facts(uow, counter, reading, now)
    except MynapointError as exc:
        record_alone(uow, counter, clerk, None, now, "card_read_failed", _failure(exc, "start"))
        raise
    with uow:
        mykey = uow.mykeys.for_person(facts.person)
        session = AssistedSession(
            session_id=secrets.token_hex(16),
            staff=clerk.name,
            corner=clerk.corner,
            card_serial=facts.serial,
            person=facts.person,
            mykey_id=None if mykey is None else mykey.mykey_id,
            started_at=now,
            last_activity_at=now,
        )
        raced = uow.assisted.open_for(clerk.name, lock=True)
        if raced is not None:  # another read at the clerk's other terminal came first
            uow.assisted.save(raced.ended(now, EndReason.NEXT_CARD))
        if not uow.assisted.add(session):
            raise SessionEnded(session.session_id, EndReason.NEXT_CARD)
        # Recorded last: the audit log's end stays locked until the commit (services/audit.py).
        if raced is not None:
            record_end(uow, clerk, raced, EndReason.NEXT_CARD, now)
        record_step(uow, clerk, session, now, "session_started", {"card_serial": facts.serial})
        uow.commit()
    return session


def citizen_view(
    uow: UnitOfWork, counter: Counter, session: AssistedSession, now: datetime
) -> CitizenView:
    with uow:
        mykey = uow.mykeys.for_person(session.person)
    facts = counter.desk.authority.facts(session.card_serial)
    may_use_representative = facts is not None and (
        representation_for(facts.birth_date, adult_ward=facts.adult_ward, on=jst_date(now))
        is not Representation.NOT_ALLOWED
    )
    return CitizenView(
        mykey_id=None if mykey is None else mykey.mykey_id,
        applications=applications_of(uow, session.person),
        may_use_representative=may_use_representative,
    )


def set_up_mykey(
    uow: UnitOfWork, counter: Counter, clerk: Clerk, session_id: str, now: datetime
) -> str:
    session = check_session(uow, counter, clerk, session_id, now)

    def witness(uow: UnitOfWork, _: str, facts: Mapping[str, Any]) -> None:
        current = locked_step(uow, counter, clerk, session_id, now)
        mykey_id = str(facts["mykey_id"])
        uow.assisted.save(replace(current.touched(now), mykey_id=mykey_id))
        record_step(uow, clerk, current, now, "mykey_set_up", {}, mykey_id=mykey_id)

    try:
        result = ensure_mykey(
            uow,
            session.person,
            now,
            counter.desk.rules,
            before_commit=witness,
            holder=holder_of(counter.desk.authority, session.card_serial),
        )
    except SessionEnded as ended:
        refused_step(uow, clerk, session_id, now, ended)
        raise
    except MynapointError as exc:
        record_alone(uow, counter, clerk, session, now, "mykey_refused", {"code": exc.code})
        raise
    if not result.created:  # set up meanwhile elsewhere: the session learns of it
        with uow:
            current = locked_step(uow, counter, clerk, session_id, now)
            uow.assisted.save(replace(current.touched(now), mykey_id=result.mykey.mykey_id))
            uow.commit()
    return result.mykey.mykey_id


def show_account(
    uow: UnitOfWork,
    counter: Counter,
    clerk: Clerk,
    session_id: str,
    form: AccountForm,
    now: datetime,
) -> Preview:
    """Check the account and keep what the citizen is to confirm: its holder's masked name.

    A wrong security code counts toward the citizen's lock of the account, as online.
    """
    session = check_session(uow, counter, clerk, session_id, now)
    desk = counter.desk
    shown: list[Preview] = []
    account = {"service_code": form.service_code, "payment_service_id": form.payment_service_id}

    def witness(uow: UnitOfWork, what: str, facts: Mapping[str, Any]) -> None:
        if what != "previewed":  # a wrong security code, counted: recorded with the count
            touch(uow, clerk, session_id, now, counter.idle_limit)
            record_step(uow, clerk, session, now, "preview_refused", {"code": what, **account})
            return
        current = locked_step(uow, counter, clerk, session_id, now)
        shown.append(
            Preview(
                preview_id=secrets.token_hex(8),
                measure=form.measure,
                service_code=form.service_code,
                payment_service_id=form.payment_service_id,
                counts=counts,
                holder_name_masked=str(facts["holder_name_masked"]),
                with_representative=form.with_representative,
                at=now,
            )
        )
        uow.assisted.save(replace(current.touched(now), preview=shown[-1]))
        details = {
            **account,
            "measure": form.measure.value,
            "holder_name_masked": shown[-1].holder_name_masked,
            "representative": form.with_representative,
        }
        record_step(uow, clerk, current, now, "preview", details)

    try:
        service = desk.catalog.get(form.service_code)
        counts = service.resolve_counts(desk.rules.rule(form.measure).kind, form.counts)
        preview(
            uow,
            desk,
            session.person,
            AccountCredentials(form.service_code, form.payment_service_id, form.security_code),
            now,
            Channel.SUPPORT_CORNER,
            before_commit=witness,
        )
    except SessionEnded as ended:
        refused_step(uow, clerk, session_id, now, ended)
        raise
    except (InvalidAccountCredentials, AccountLocked):
        raise  # recorded by the witness, with the count
    except MynapointError as exc:
        record_alone(
            uow, counter, clerk, session, now, "preview_refused", {"code": exc.code, **account}
        )
        raise
    return shown[-1]


def reject_preview(
    uow: UnitOfWork,
    counter: Counter,
    clerk: Clerk,
    session_id: str,
    preview_id: str,
    now: datetime,
) -> None:
    """The citizen says the holder's name is not theirs: the account is forgotten."""
    try:
        with uow:
            current = locked_step(uow, counter, clerk, session_id, now)
            if current.preview is None or current.preview.preview_id != preview_id:
                raise PreviewOutdated("this confirmation is not the latest one shown")
            details = {
                "service_code": current.preview.service_code,
                "payment_service_id": current.preview.payment_service_id,
            }
            uow.assisted.save(replace(current.touched(now), preview=None))
            record_step(uow, clerk, current, now, "preview_rejected", details)
            uow.commit()
    except SessionEnded as ended:
        refused_step(uow, clerk, session_id, now, ended)
        raise


@dataclass(frozen=True)
class Confirmation:
    """The citizen's answer: this is my account, and here are my card and PIN again."""

    session_id: str
    preview_id: str  # the confirmation shown; a newer one makes this one void
    holder: CardReading = field(repr=False)
    representative: CardReading | None = field(default=None, repr=False)


def commit(
    uow: UnitOfWork, counter: Counter, clerk: Clerk, answer: Confirmation, now: datetime
) -> Applied:
    """Apply with the account the citizen confirmed, after a fresh signature of the session's
    card (and of the representative's own card, RULES.md R14); the session then ends."""
    session = check_session(uow, counter, clerk, answer.session_id, now)
    shown = _confirmed_preview(uow, counter, clerk, session, answer, now)
    _check_same_card(uow, counter, clerk, session, answer.holder, now)
    proof = None
    if answer.representative is not None and shown.with_representative:
        try:
            proof = _representative_proof(uow, counter, answer.representative, now)
        except MynapointError as exc:
            details = _failure(exc, "representative")
            record_alone(uow, counter, clerk, session, now, "card_read_failed", details)
            exc.details.setdefault("card", "representative")  # whose card: for the page
            raise
    request = NewApplication(
        measure=shown.measure,
        # The code was checked at the preview this answer confirms (stored with the session,
        # for this card): it is not carried through the confirmation page.
        account=AccountCredentials(shown.service_code, shown.payment_service_id, ""),
        counts=shown.counts,
        representative=proof,
        channel=Channel.SUPPORT_CORNER,
        account_checked=True,
    )
    try:
        return apply(
            uow,
            counter.desk,
            Applicant(session.person, session.card_serial),
            request,
            now,
            before_commit=_commit_witness(counter, clerk, session, answer.preview_id, now),
        )
    except SessionEnded as ended:
        refused_step(uow, clerk, answer.session_id, now, ended)
        raise
    except (InvalidAccountCredentials, AccountLocked):
        raise  # recorded by the witness, with the count
    except MynapointError as exc:
        record_alone(uow, counter, clerk, session, now, "apply_refused", {"code": exc.code})
        raise


def _confirmed_preview(
    uow: UnitOfWork,
    counter: Counter,
    clerk: Clerk,
    session: AssistedSession,
    answer: Confirmation,
    now: datetime,
) -> Preview:
    shown = session.preview
    if shown is None or shown.preview_id != answer.preview_id:
        details = {"code": PreviewOutdated.code}
        record_alone(uow, counter, clerk, session, now, "apply_refused", details)
        raise PreviewOutdated("this confirmation is not the latest one shown; check again")
    if shown.with_representative and answer.representative is None:
        raise RepresentativeCardMissing(
            "the legal representative's card and PIN are needed", field="representative"
        )
    return shown


def _check_same_card(
    uow: UnitOfWork,
    counter: Counter,
    clerk: Clerk,
    session: AssistedSession,
    holder: CardReading,
    now: datetime,
) -> None:
    """The card signs afresh, and must be the very card the session began with."""
    try:
        facts = _signed_facts(uow, counter, holder, now)
    except MynapointError as exc:
        details = _failure(exc, "commit")
        record_alone(uow, counter, clerk, session, now, "card_read_failed", details)
        raise
    if facts.serial == session.card_serial:
        return
    with uow:
        current = uow.assisted.get(session.session_id, lock=True)
        if current is not None and current.is_open:
            end_session(uow, clerk, current, EndReason.CARD_MISMATCH, now, card_serial=facts.serial)
            uow.commit()
    raise CardMismatch(
        "the card that signed is not the card this session began with; the session has "
        "ended, and nothing was applied",
        session_id=session.session_id,
    )


def _commit_witness(
    counter: Counter, clerk: Clerk, session: AssistedSession, preview_id: str, now: datetime
) -> Callable[[UnitOfWork, str, Mapping[str, Any]], None]:
    """Inside the application's transaction: the session must still be open and showing the
    confirmation answered; it ends with the application, recorded in the same commit."""

    def witness(uow: UnitOfWork, what: str, facts: Mapping[str, Any]) -> None:
        if what != "applied":  # a wrong security code, counted: recorded with the count
            touch(uow, clerk, session.session_id, now, counter.idle_limit)
            record_step(uow, clerk, session, now, "apply_refused", {"code": what})
            return
        current = locked_step(uow, counter, clerk, session.session_id, now)
        if current.preview is None or current.preview.preview_id != preview_id:
            raise PreviewOutdated("this confirmation is not the latest one shown; check again")
        mykey = uow.mykeys.for_person(current.person)
        mykey_id = None if mykey is None else mykey.mykey_id
        uow.assisted.save(current.ended(now, EndReason.APPLIED))
        record_step(uow, clerk, current, now, "applied", dict(facts), mykey_id=mykey_id)
        record_end(uow, clerk, current, EndReason.APPLIED, now, mykey_id=mykey_id)

    return witness


# --- internals -------------------------------------------------------------------------------


def _signed_facts(
    uow: UnitOfWork, counter: Counter, reading: CardReading, now: datetime
) -> CardFacts:
    """The card signs a fresh challenge after its PIN; the platform checks it as at login."""
    signed = sign_fresh_challenge(uow, counter.reader, reading.card, reading.pin, now)
    used = use_challenge(uow, signed.challenge_id, now)
    return verify_card_response(
        counter.desk.authority,
        counter.desk.revocations,
        used,
        signed.certificate_pem,
        signed.signature_b64,
        now,
    )


def _representative_proof(
    uow: UnitOfWork, counter: Counter, reading: CardReading, now: datetime
) -> RepresentativeProof:
    return sign_fresh_challenge(uow, counter.reader, reading.card, reading.pin, now)


def _failure(exc: MynapointError, purpose: str) -> dict[str, Any]:
    details: dict[str, Any] = {"code": exc.code, "purpose": purpose}
    if isinstance(exc, WrongPin):
        details["tries_left"] = exc.tries_left
    return details
