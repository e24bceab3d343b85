"""/operator/keys: the API keys of the signed-in account's operator (its administrator only).

Listed by key ID, creation and end (never the secret); a new key (created or rotated) is
shown once, on a page no browser keeps, and only its SHA-256 is stored. Rotating gives a new
key and lets the old one work for the overlap (Settings.operator_key_overlap_days), then it
stops; revoking stops a key now. Each change is written in the audit log
(services/operators.py). Another operator's key is not found, whatever its ID.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' `Annotated` parameters.

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from mynapoint.domain.ledger import OperatorKey
from mynapoint.services.operators import (
    IssuedKey,
    KeyNotFound,
    KeyStopped,
    create_operator_key,
    is_working,
    operator_keys_of,
    revoke_operator_key,
    rotate_operator_key,
)
from mynapoint.services.staff import SignedInStaff
from mynapoint.web.csrf import check_csrf
from mynapoint.web.dependencies import ClockDep, PlatformDep
from mynapoint.web.i18n import N_, _
from mynapoint.web.pages.console.access import member_of, operator_name, page, redirect
from mynapoint.web.pages.console.areas import OPERATOR_CONSOLE

PATH: Final = "/operator/keys"
KEY_ID_PATTERN: Final = r"^[A-Za-z0-9_-]{1,24}$"
NO_SUCH_KEY: Final = N_(
    "そのAPIキーは、あなたの決済事業者のキーにありません(error: not_found)。"
    "一覧から選んでください。"
)
STOPPED: Final = N_(
    "そのAPIキーはすでに使えなくなっています(error: conflict)。新しいキーを作成してください。"
)
DONE: Final = {"revoked": N_("APIキー {key_id} を失効させました。このキーでは接続できません。")}

router = APIRouter(include_in_schema=False)
Admin = Annotated[SignedInStaff, Depends(member_of(OPERATOR_CONSOLE, PATH))]
KeyId = Annotated[str, Path(pattern=KEY_ID_PATTERN)]


@dataclass(frozen=True)
class KeyRow:
    key: OperatorKey
    working: bool


def _rows(keys: list[OperatorKey], clock: ClockDep) -> list[KeyRow]:
    now = clock.now()
    return [KeyRow(key, is_working(key, now)) for key in keys]


def _overlap(platform: PlatformDep) -> timedelta:
    return timedelta(days=platform.settings.operator_key_overlap_days)


def _shown_once(
    request: Request, me: SignedInStaff, issued: IssuedKey, *, rotated: OperatorKey | None
) -> Response:
    context = {
        "page_title": N_("新しいAPIキー"),
        "issued": issued,
        "rotated": rotated,
        "operator_label": operator_name(request, issued.key.operator_code),
        "me_name": me.account.name,
    }
    return page(request, OPERATOR_CONSOLE, "operator/key_issued.html", context)


@router.get(PATH, response_class=HTMLResponse)
def keys_page(
    request: Request,
    me: Admin,
    platform: PlatformDep,
    clock: ClockDep,
    done: Annotated[str | None, Query(max_length=16)] = None,
    key: Annotated[str | None, Query(pattern=KEY_ID_PATTERN)] = None,
) -> Response:
    keys = operator_keys_of(platform.unit_of_work(), me.account)
    notice = _(DONE[done]).format(key_id=key) if done in DONE and key else None
    context = {
        "page_title": N_("APIキー"),
        "rows": _rows(keys, clock),
        "overlap_days": platform.settings.operator_key_overlap_days,
        "operator_label": operator_name(request, me.account.operator or ""),
        "notice": notice,
    }
    return page(request, OPERATOR_CONSOLE, "operator/keys.html", context)


@router.post(PATH, dependencies=[Depends(check_csrf)])
def create_key(request: Request, me: Admin, platform: PlatformDep, clock: ClockDep) -> Response:
    issued = create_operator_key(platform.unit_of_work(), me.account, platform.catalog, clock.now())
    return _shown_once(request, me, issued, rotated=None)


@router.post(f"{PATH}/{{key_id}}/rotate", dependencies=[Depends(check_csrf)])
def rotate_key(
    request: Request, me: Admin, platform: PlatformDep, clock: ClockDep, key_id: KeyId
) -> Response:
    try:
        issued = rotate_operator_key(
            platform.unit_of_work(),
            me.account,
            key_id,
            platform.catalog,
            clock.now(),
            _overlap(platform),
        )
    except KeyNotFound:
        return _refused(request, NO_SUCH_KEY, 404)
    except KeyStopped:
        return _refused(request, STOPPED, 409)
    with platform.unit_of_work() as uow:
        old = uow.operator_keys.get(key_id)
    return _shown_once(request, me, issued, rotated=old)


@router.post(f"{PATH}/{{key_id}}/revoke", dependencies=[Depends(check_csrf)])
def revoke_key(
    request: Request, me: Admin, platform: PlatformDep, clock: ClockDep, key_id: KeyId
) -> Response:
    try:
        revoke_operator_key(platform.unit_of_work(), me.account, key_id, clock.now())
    except KeyNotFound:
        return _refused(request, NO_SUCH_KEY, 404)
    except KeyStopped:
        return _refused(request, STOPPED, 409)
    return redirect(f"{PATH}?{urlencode({'done': 'revoked', 'key': key_id})}")


def _refused(request: Request, text: str, status_code: int) -> Response:
    context = {"title": N_("APIキーを操作できません"), "text": _(text)}
    return page(request, OPERATOR_CONSOLE, "console/forbidden.html", context, status_code)
