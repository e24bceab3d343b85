"""The account a citizen's preview checked, kept with their sign-in session for the commit.

The security code is checked once, at the preview, and is not kept: the confirmation page
carries only `preview_id`, and the commit applies for this account as it stands then (still
registered, not locked since), as the support-corner counter does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mynapoint.domain.measures import EventKind, Measure


@dataclass(frozen=True)
class AccountPreview:
    preview_id: str  # the confirmation shown; a newer preview makes it void
    measure: Measure
    service_code: str
    payment_service_id: str
    counts: EventKind | None
    holder_name_masked: str
    # The demo card file the legal representative will sign the commit with ("" for none).
    representative_card: str
    at: datetime
