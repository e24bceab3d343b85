"""Every page of the staff console, as one router for the app."""

from __future__ import annotations

from fastapi import APIRouter

from mynapoint.web.pages.staff import accounts, counter, records, sign_in

router = APIRouter(include_in_schema=False)
router.include_router(sign_in.router)
router.include_router(counter.router)
router.include_router(records.router)
router.include_router(accounts.router)
