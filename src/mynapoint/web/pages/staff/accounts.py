"""/staff/accounts: the console's accounts pages (web/pages/console/accounts.py) for the
support corners: a supervisor sees the corner's accounts; the corners' administrator and a
city administrator manage the accounts in their care.

Accounts never lock (services/staff.py throttles failed sign-ins per terminal instead), so
there is nothing to unlock: the page lists who may sign in, who has a one-time password
still to change, and who is disabled.
"""

from __future__ import annotations

from mynapoint.web.pages.console.accounts import accounts_routes
from mynapoint.web.pages.console.areas import STAFF_CONSOLE

router = accounts_routes(STAFF_CONSOLE)
