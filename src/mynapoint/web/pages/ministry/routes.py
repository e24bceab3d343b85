"""Every page of the ministry's console, as one router for the app."""

from __future__ import annotations

from fastapi import APIRouter

from mynapoint.web.pages.console.accounts import accounts_routes
from mynapoint.web.pages.console.areas import MINISTRY_CONSOLE
from mynapoint.web.pages.console.sign_in import sign_in_routes
from mynapoint.web.pages.ministry.audit import router as audit
from mynapoint.web.pages.ministry.budget import router as budget
from mynapoint.web.pages.ministry.forecast import router as forecast
from mynapoint.web.pages.ministry.overview import router as overview
from mynapoint.web.pages.ministry.policy import router as policy
from mynapoint.web.pages.ministry.settlement import router as settlement_router

router = APIRouter(include_in_schema=False)
router.include_router(sign_in_routes(MINISTRY_CONSOLE))
router.include_router(accounts_routes(MINISTRY_CONSOLE))
router.include_router(overview)
router.include_router(budget)
router.include_router(forecast)
router.include_router(audit)
router.include_router(settlement_router)
router.include_router(policy)
