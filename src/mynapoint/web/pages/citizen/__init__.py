"""The signed-in citizen's pages: card login, MyKey ID, applying, cancelling, my points.

They call the same services as the JSON API (services/auth.py, mykey.py, applications.py,
points.py); the sign-in is a session token kept in an HttpOnly cookie (session.py).
"""
