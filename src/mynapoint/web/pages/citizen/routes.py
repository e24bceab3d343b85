"""The citizen pages' routes, for the app factory to include at once."""

from __future__ import annotations

from fastapi import APIRouter

from mynapoint.web.pages.citizen import applications, apply, login, me, mykey

router = APIRouter(include_in_schema=False)
for part in (login.router, mykey.router, apply.router, me.router, applications.router):
    router.include_router(part)
