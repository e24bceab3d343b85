"""The support-corner staff console: sign-in, the counter's assisted sessions, records, accounts.

Japanese first like every page. A staff member signs in with a name and password; the
sign-in is a random token in an HttpOnly, SameSite=Strict cookie of which only the hash is
stored (services/staff.py). Every form carries the CSRF token (web/csrf.py), and no page
that shows a citizen's data is ever cached (Cache-Control: no-store).
"""
