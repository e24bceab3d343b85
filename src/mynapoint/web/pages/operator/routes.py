"""Every page of the payment operators' console, as one router for the app."""

from __future__ import annotations

from fastapi import APIRouter

from mynapoint.web.pages.console.accounts import accounts_routes
from mynapoint.web.pages.console.areas import OPERATOR_CONSOLE
from mynapoint.web.pages.console.sign_in import sign_in_routes
from mynapoint.web.pages.operator import events, grants, keys, registered

router = APIRouter(include_in_schema=False)
router.include_router(sign_in_routes(OPERATOR_CONSOLE))
router.include_router(accounts_routes(OPERATOR_CONSOLE))
router.include_router(keys.router)
router.include_router(grants.router)
router.include_router(events.router)
router.include_router(registered.router)
