"""The citizen's own confirmation step: the security code is checked once, at the preview, and
the account it checked is kept with the sign-in session, so that the confirmation page carries
no code and the commit applies for the account as it stands (services/applications.py's
`account_checked`, as the support-corner counter does).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mynapoint.domain.account_previews import AccountPreview
from mynapoint.domain.assist import PreviewOutdated
from mynapoint.domain.auth import Session
from mynapoint.domain.measures import EventKind, Measure
from mynapoint.services.account_checks import AccountCredentials
from mynapoint.services.applications import (
    Applicant,
    ApplicationDesk,
    Applied,
    NewApplication,
    RepresentativeProof,
    apply,
    preview,
)
from mynapoint.services.ports import UnitOfWork


@dataclass(frozen=True)
class AccountChoice:
    """What the person chose and typed on the form."""

    measure: Measure
    credentials: AccountCredentials
    counts: EventKind | None = None
    representative_card: str = ""


def preview_account(
    uow: UnitOfWork, desk: ApplicationDesk, session: Session, choice: AccountChoice, now: datetime
) -> AccountPreview:
    """Check the security code (a wrong one counts toward the person's lock) and keep the
    account with the session, replacing any earlier preview; the holder's masked name is shown
    from it."""
    masked = preview(uow, desk, session.person, choice.credentials, now)
    shown = AccountPreview(
        preview_id=secrets.token_hex(16),
        measure=choice.measure,
        service_code=choice.credentials.service_code,
        payment_service_id=choice.credentials.payment_service_id,
        counts=choice.counts,
        holder_name_masked=masked,
        representative_card=choice.representative_card,
        at=now,
    )
    with uow:
        uow.sessions.keep_preview(session.token_hash, shown)
        uow.commit()
    return shown


def latest_preview(uow: UnitOfWork, session: Session, service_code: str) -> AccountPreview | None:
    """The session's latest preview if it is of this service and unused: what its confirmation
    page shows (the page the preview's POST redirects to)."""
    with uow:
        kept = uow.sessions.preview(session.token_hash)
    return kept if kept is not None and kept.service_code == service_code else None


def shown_preview(
    uow: UnitOfWork, session: Session, preview_id: str, service_code: str
) -> AccountPreview:
    """The preview this session was shown last, if it is the one answered (and of this service);
    PreviewOutdated otherwise: another session's, an older one, or one used already."""
    with uow:
        kept = uow.sessions.preview(session.token_hash)
    if kept is None or kept.preview_id != preview_id or kept.service_code != service_code:
        raise PreviewOutdated("this confirmation is not the latest one shown; check again")
    return kept


def apply_previewed(
    uow: UnitOfWork,
    desk: ApplicationDesk,
    session: Session,
    shown: AccountPreview,
    representative: RepresentativeProof | None,
    now: datetime,
) -> Applied:
    """Apply for the previewed account as it stands (still registered, not locked since); the
    preview is used up in the application's own transaction, so it commits at most once."""

    def use_up(uow: UnitOfWork, what: str, facts: Mapping[str, Any]) -> None:
        del facts
        if what == "applied" and not uow.sessions.forget_preview(
            session.token_hash, shown.preview_id
        ):
            raise PreviewOutdated("this confirmation is not the latest one shown; check again")

    return apply(
        uow,
        desk,
        Applicant(session.person, session.serial),
        NewApplication(
            shown.measure,
            # The code was checked at the preview, for this session: it is not carried again.
            AccountCredentials(shown.service_code, shown.payment_service_id, ""),
            shown.counts,
            representative,
            account_checked=True,
        ),
        now,
        before_commit=use_up,
    )
