"""Applying for a measure (申込み) with one payment account, and the same-day cancellation.

RULES.md R3 (one application per person and measure, final but for a same-day
cancellation), R4 (one person per account), R5 (the pick of what counts),
R10-R13 (windows, card cut-offs, waiting after issuance) and R14 (legal
representatives). The checks run from the cheapest to the ones that count
something: the request itself, then the representative's signature, then the
person's standing, and last the security code, whose wrong entries lock the
person out of the account for a while. The database has the final word where two
requests race: a unique index for one application per measure, a primary key for
one person per account.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mynapoint.domain.accounts import (
    AccountTaken,
    mask_holder_name,
)
from mynapoint.domain.applications import ApplicationRequest, refusal_for
from mynapoint.domain.auth import InvalidToken, LoginFailed
from mynapoint.domain.calendar import jst_date, to_jst
from mynapoint.domain.campaigns import CampaignRules
from mynapoint.domain.cards import CardFacts, age_on
from mynapoint.domain.errors import MynapointError
from mynapoint.domain.ledger import StoredApplication
from mynapoint.domain.measures import ApplicationRefusal, Channel, EventKind, Measure
from mynapoint.domain.representatives import (
    Representation,
    RepresentedBecause,
    representation_for,
    represented_because,
)
from mynapoint.domain.services import Catalog, PaymentService
from mynapoint.jpki.ports import CardAuthority
from mynapoint.jpki.revocation import CachedRevocationList
from mynapoint.services.account_checks import (
    DEFAULT_ACCOUNT_LOCK,
    AccountCredentials,
    CodeRules,
    checked_account,
    previewed_account,
)
from mynapoint.services.audit import BeforeCommit
from mynapoint.services.auth import SignedChallenge, use_challenge, verify_card_response
from mynapoint.services.codes import CodeHasher, check_account_input
from mynapoint.services.ledger import reevaluate
from mynapoint.services.ports import UnitOfWork
from mynapoint.services.refusals import ApplicationRefused, refusal_error
from mynapoint.services.throttling import NullThrottle, Throttle


class MyKeyRequired(MynapointError):
    code = "mykey_required"


class ChannelNotAllowed(MynapointError):
    code = "channel_not_allowed"


class NotLegalRepresentative(MynapointError):
    code = "not_legal_representative"


class RepresentativeNotAllowed(MynapointError):
    code = "representative_not_allowed"


class RepresentativeRequired(MynapointError):
    """A holder under 15, or an adult ward, applies through the legal representative (R14)."""

    code = "representative_required"


class CancellationNotAllowed(MynapointError):
    code = "cancellation_not_allowed"


class ApplicationNotFound(MynapointError):
    code = "not_found"


# A legal representative's own card signature over a fresh challenge: they are present.
RepresentativeProof = SignedChallenge


@dataclass(frozen=True)
class NewApplication:
    measure: Measure
    account: AccountCredentials
    counts: EventKind | None = None
    representative: RepresentativeProof | None = None
    # Where the application is made: the citizen API is online; a support corner passes its own.
    channel: Channel = Channel.ONLINE
    # The security code of this account was checked for this person moments ago, in a step
    # the platform itself keeps (the counter's preview, bound to the session and its card):
    # the account is taken as it stands, without the code. Never set from a request.
    account_checked: bool = False


@dataclass(frozen=True)
class Applicant:
    """The signed-in card holder: the person, and the certificate that signed in (R13)."""

    person: str
    serial: str


@dataclass(frozen=True)
class ApplicationDesk:
    """What applying needs besides storage."""

    rules: CampaignRules
    catalog: Catalog
    authority: CardAuthority
    revocations: CachedRevocationList
    hasher: CodeHasher
    # How often a person may check accounts, and how long 5 wrong codes keep them from one.
    throttle: Throttle = field(default_factory=NullThrottle)
    account_lock: timedelta = DEFAULT_ACCOUNT_LOCK

    @property
    def code_rules(self) -> CodeRules:
        return CodeRules(self.hasher, self.throttle, self.account_lock)


@dataclass(frozen=True)
class Applied:
    application: StoredApplication
    holder_name_masked: str


def new_application_id() -> str:
    return secrets.token_hex(8)


def preview(
    uow: UnitOfWork,
    desk: ApplicationDesk,
    person: str,
    credentials: AccountCredentials,
    now: datetime,
    channel: Channel = Channel.ONLINE,
    *,
    before_commit: BeforeCommit | None = None,
) -> str:
    """The account holder's masked name, for the person to confirm the account is theirs.

    A wrong security code counts toward the person's lock of the account, as at application.
    """
    service = desk.catalog.get(credentials.service_code)
    _check_channel(service, channel)
    check_account_input(service, credentials.payment_service_id, credentials.security_code)
    with uow:
        _require_mykey(uow, person)
        account = checked_account(
            uow, desk.code_rules, service, person, credentials, now, before_commit
        )
        masked = mask_holder_name(account.holder_name)
        if before_commit is not None:
            before_commit(uow, "previewed", {"holder_name_masked": masked})
        uow.commit()
    return masked


def apply(
    uow: UnitOfWork,
    desk: ApplicationDesk,
    applicant: Applicant,
    request: NewApplication,
    now: datetime,
    *,
    before_commit: BeforeCommit | None = None,
) -> Applied:
    credentials = request.account
    service = desk.catalog.get(credentials.service_code)
    counts = service.resolve_counts(desk.rules.rule(request.measure).kind, request.counts)
    _check_channel(service, request.channel)
    if not request.account_checked:
        check_account_input(service, credentials.payment_service_id, credentials.security_code)
    holder = _holder_facts(desk.authority, applicant, now)
    if request.representative is None:
        _check_applies_alone(holder, now)
    representative = (
        _verified_representative(uow, desk, holder, request.representative, now)
        if request.representative is not None
        else None
    )
    application = StoredApplication(
        application_id=new_application_id(),
        person=applicant.person,
        measure=request.measure,
        service_code=service.code,
        payment_service_id=credentials.payment_service_id,
        counts=counts,
        channel=request.channel,
        applied_at=now,
        representative=representative,
    )
    with uow:
        # Refreshed first, then held: applications of one person are decided one at a time.
        uow.persons.save_locked(holder.snapshot(), now)
        _require_mykey(uow, applicant.person)
        _check_standing(uow, desk.rules, service, holder, application)
        account = (
            previewed_account(uow, service, applicant.person, credentials, now)
            if request.account_checked
            else checked_account(
                uow, desk.code_rules, service, applicant.person, credentials, now, before_commit
            )
        )
        linked_to = uow.applications.link_account(
            service.code, credentials.payment_service_id, applicant.person, now
        )
        if linked_to != applicant.person:
            raise AccountTaken(
                f"account {credentials.payment_service_id} of {service.name_en} is linked to "
                "another person; one account can be linked to one person only",
                service_code=service.code,
            )
        if not uow.applications.add(application):
            raise _refused(ApplicationRefusal.ALREADY_APPLIED, desk.rules, application, holder)
        reevaluate(uow, [applicant.person], desk.rules, desk.catalog, now, locked=True)
        masked = mask_holder_name(account.holder_name)
        if before_commit is not None:
            before_commit(
                uow,
                "applied",
                {
                    "application_id": application.application_id,
                    "measure": application.measure.value,
                    "service_code": application.service_code,
                    "payment_service_id": application.payment_service_id,
                    "representative": representative is not None,
                    "holder_name_masked": masked,
                },
            )
        uow.commit()
    return Applied(application, masked)


def cancel(
    uow: UnitOfWork,
    rules: CampaignRules,
    catalog: Catalog,
    person: str,
    application_id: str,
    now: datetime,
) -> StoredApplication:
    """Cancel on the JST day of the application only (当日取消); the account is free again."""
    with uow:
        application = uow.applications.get(application_id)
        if application is None or application.person != person:
            # Another person's application is not theirs to know of.
            raise ApplicationNotFound(
                f"you have no application {application_id}", application_id=application_id
            )
        uow.persons.lock([person])
        if not application.is_active:
            cancelled = application.cancelled_at or now
            raise CancellationNotAllowed(
                f"application {application_id} was cancelled already, at "
                f"{to_jst(cancelled).isoformat(timespec='seconds')}",
                application_id=application_id,
            )
        applied_on = jst_date(application.applied_at)
        if jst_date(now) != applied_on:
            raise CancellationNotAllowed(
                f"application {application_id} was made on {applied_on} (JST); it can be "
                "cancelled on that day only, and is final now",
                application_id=application_id,
                applied_on=applied_on.isoformat(),
            )
        uow.applications.cancel(application_id, now)
        account = (application.service_code, application.payment_service_id)
        still_used = any(
            other.is_active
            and other.application_id != application_id
            and (other.service_code, other.payment_service_id) == account
            for other in uow.applications.for_person(person)
        )
        if not still_used:
            uow.applications.unlink_account(*account, person)
        reevaluate(uow, [person], rules, catalog, now, locked=True)
        uow.commit()
    return application


def applications_of(uow: UnitOfWork, person: str) -> list[StoredApplication]:
    with uow:
        found = uow.applications.for_person(person)
    return sorted(found, key=lambda a: (a.applied_at, a.application_id))


# --- the checks ------------------------------------------------------------------------------


def _check_channel(service: PaymentService, channel: Channel) -> None:
    if channel not in service.channels:
        where = ", ".join(sorted(c.value for c in service.channels))
        raise ChannelNotAllowed(
            f"{service.name_en} takes applications only via: {where}; not via {channel.value}",
            service_code=service.code,
            channel=channel.value,
            channels=sorted(c.value for c in service.channels),
        )


def _require_mykey(uow: UnitOfWork, person: str) -> None:
    if uow.mykeys.for_person(person) is None:
        raise MyKeyRequired("set up your MyKey ID first: POST /api/v1/mykey")


def _holder_facts(authority: CardAuthority, applicant: Applicant, now: datetime) -> CardFacts:
    facts = authority.facts(applicant.serial)
    if facts is None or facts.person != applicant.person:
        raise InvalidToken("the card authority no longer knows the card you signed in with")
    if facts.revoked_at is not None and facts.revoked_at <= now:
        raise InvalidToken(
            "the certificate you signed in with has been revoked; sign in with your current card"
        )
    return facts


def _check_applies_alone(holder: CardFacts, now: datetime) -> None:
    today = jst_date(now)
    needs = representation_for(holder.birth_date, adult_ward=holder.adult_ward, on=today)
    if needs is not Representation.REQUIRED:
        return
    because = represented_because(holder.birth_date, adult_ward=holder.adult_ward, on=today)
    age = age_on(holder.birth_date, today)
    who = (
        f"the card holder is {age} on {today}: under 15"
        if because is RepresentedBecause.UNDER_15
        else "the card holder is an adult ward"
    )
    raise RepresentativeRequired(
        f"{who}, so the legal representative applies (RULES.md R14); send representative, the "
        "representative's own card signature over a fresh challenge",
        reason=because.value,
        age=age,
    )


def _verified_representative(
    uow: UnitOfWork,
    desk: ApplicationDesk,
    holder: CardFacts,
    proof: RepresentativeProof,
    now: datetime,
) -> str:
    """The person of a legal representative who signed for the holder (RULES.md R14)."""
    today = jst_date(now)
    age = age_on(holder.birth_date, today)
    allowed = representation_for(holder.birth_date, adult_ward=holder.adult_ward, on=today)
    if allowed is Representation.NOT_ALLOWED:
        raise RepresentativeNotAllowed(
            f"the card holder is {age} on {today}: an adult who is not an adult ward applies "
            "in person; leave out representative",
            age=age,
        )
    try:
        challenge = use_challenge(uow, proof.challenge_id, now)
        signer = verify_card_response(
            desk.authority, desk.revocations, challenge, proof.certificate_pem,
            proof.signature_b64, now,
        )  # fmt: skip
    except LoginFailed as exc:
        # The same 401 codes as a login, said to be about the representative's card.
        details = dict(exc.details)
        details["field"] = "representative." + str(details.get("field", "certificate"))
        raise type(exc)(f"representative: {exc.message}", **details) from None
    if signer.person == holder.person or not desk.authority.is_legal_representative(
        signer.person, holder.person
    ):
        raise NotLegalRepresentative(
            "the card that signed as representative is not a legal representative of this "
            "card holder according to the card authority"
        )
    return signer.person


def _check_standing(
    uow: UnitOfWork,
    rules: CampaignRules,
    service: PaymentService,
    holder: CardFacts,
    application: StoredApplication,
) -> None:
    held = {a.measure for a in uow.applications.for_person(holder.person) if a.is_active}
    request = ApplicationRequest(
        index=0,
        measure=application.measure,
        service_code=service.code,
        applied_at=application.applied_at,
        counts=application.counts,
    )
    refusal = refusal_for(request, service, holder.person_facts(), held, rules)
    if refusal is not None:
        raise _refused(refusal, rules, application, holder, held)


def _refused(
    refusal: ApplicationRefusal,
    rules: CampaignRules,
    application: StoredApplication,
    holder: CardFacts,
    held: set[Measure] | None = None,
) -> ApplicationRefused:
    return refusal_error(
        refusal,
        rules,
        application.measure,
        holder,
        application.applied_at,
        service_code=application.service_code,
        held=held,
    )
