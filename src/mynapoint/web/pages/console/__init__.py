"""What every console shares: the support corners' (/staff), the ministry's (/ministry) and
the payment operators' (/operator). Each area has its own sign-in page, cookie and sessions
(domain/staff.py `Area`); the sign-in, the password change, the home page and the accounts
pages are built once here for all three (routes made per area by `sign_in.py` and
`accounts.py`), so the areas differ only in their `Console` (areas.py).
"""
