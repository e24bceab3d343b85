"""/staff, /staff/sign-in, /staff/sign-out and /staff/password: the console's sign-in
(web/pages/console/sign_in.py) with what the counter adds: signing out, or in again
elsewhere, ends the counter session the staff member had open.
"""

from __future__ import annotations

from datetime import datetime

from mynapoint.bootstrap import Platform
from mynapoint.domain.assist import EndReason
from mynapoint.domain.staff import StaffAccount
from mynapoint.services.counter_sessions import Clerk, end
from mynapoint.services.staff import SignedInStaff
from mynapoint.web.pages.console.areas import STAFF_CONSOLE
from mynapoint.web.pages.console.sign_in import SignInHooks, sign_in_routes


def _end_counter(
    platform: Platform, account: StaffAccount, reason: EndReason, now: datetime
) -> None:
    if account.runs_counter and account.corner is not None:
        clerk = Clerk(account.name, account.role, account.corner)
        end(platform.unit_of_work(), clerk, None, reason, now)


def _signing_out(platform: Platform, me: SignedInStaff, now: datetime) -> None:
    _end_counter(platform, me.account, EndReason.SIGNED_OUT, now)


def _signed_in(platform: Platform, account: StaffAccount, now: datetime) -> None:
    # A new sign-in starts afresh: a session left open on another terminal ends.
    _end_counter(platform, account, EndReason.SIGNED_IN_AGAIN, now)


router = sign_in_routes(
    STAFF_CONSOLE, SignInHooks(before_sign_out=_signing_out, after_sign_in=_signed_in)
)
