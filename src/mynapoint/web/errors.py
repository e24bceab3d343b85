"""The one place where errors become HTTP: every body is {"error": {code, message, details}}."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from mynapoint.db.engine import is_database_unavailable
from mynapoint.domain.errors import MynapointError
from mynapoint.domain.input_policy import text_problem
from mynapoint.logs import ROUTE_TEMPLATE, logged_path
from mynapoint.web.csrf import CsrfRejected
from mynapoint.web.i18n import N_

log = logging.getLogger("mynapoint.web")

# INTERFACES.md, "Error codes and statuses".
STATUS_BY_CODE: dict[str, int] = {
    "malformed_request": 400,
    "not_authenticated": 401,
    "invalid_token": 401,
    "token_expired": 401,
    "unknown_challenge": 401,
    "challenge_expired": 401,
    "challenge_used": 401,
    "invalid_signature": 401,
    "untrusted_certificate": 401,
    "certificate_revoked": 401,
    "certificate_expired": 401,
    "certificate_not_yet_valid": 401,
    "not_eligible": 403,
    "not_your_service": 403,
    "not_legal_representative": 403,
    "representative_required": 403,
    "forbidden": 403,
    "not_found": 404,
    "unknown_service": 404,
    "method_not_allowed": 405,
    "mykey_required": 409,
    "already_applied": 409,
    "account_taken": 409,
    "waiting_period": 409,
    "application_window_closed": 409,
    "service_not_accepting": 409,
    "channel_not_allowed": 409,
    "cancellation_not_allowed": 409,
    "representative_not_allowed": 409,
    "budget_frame_reached": 409,
    "batch_too_large": 413,
    "request_too_large": 413,
    "invalid_request": 422,
    "invalid_text": 422,
    "instant_out_of_range": 422,
    "invalid_account_credentials": 422,
    "invalid_counts": 422,
    "invalid_date_range": 422,
    "account_locked": 423,
    "rate_limited": 429,
    "card_locked": 423,
    "wrong_pin": 401,
    "invalid_card_file": 422,
    "invalid_pin": 422,
    "internal_error": 500,
    "unavailable": 503,
    "revocation_list_stale": 503,
    # The statistics' summary tables have never been refreshed (services/statistics.py).
    "statistics_not_computed": 503,
    # Admission control (web/admission.py): the platform is at capacity; nothing was done.
    "overloaded": 503,
}

ErrorCode = Literal[
    "malformed_request", "not_authenticated", "invalid_token", "token_expired",
    "unknown_challenge", "challenge_expired", "challenge_used", "invalid_signature",
    "untrusted_certificate", "certificate_revoked", "certificate_expired",
    "certificate_not_yet_valid", "not_eligible", "not_your_service", "not_legal_representative",
    "representative_required",
    "forbidden", "not_found", "unknown_service", "method_not_allowed", "mykey_required",
    "already_applied", "account_taken", "waiting_period", "application_window_closed",
    "service_not_accepting", "channel_not_allowed", "cancellation_not_allowed",
    "representative_not_allowed", "budget_frame_reached", "batch_too_large", "request_too_large",
    "invalid_request", "invalid_text", "instant_out_of_range",
    "invalid_account_credentials", "invalid_counts", "account_locked", "rate_limited",
    "card_locked", "wrong_pin", "invalid_card_file", "invalid_pin", "internal_error",
    "unavailable", "revocation_list_stale", "overloaded", "statistics_not_computed",
    "invalid_date_range",
]  # fmt: skip


class ServiceUnavailable(MynapointError):
    code = "unavailable"


class ErrorDetail(BaseModel):
    code: ErrorCode
    message: str
    details: dict[str, Any] = {}


class ErrorOut(BaseModel):
    """Clients branch on `error.code`, never on the message."""

    error: ErrorDetail


def error_response(
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    status: int | None = None,
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return JSONResponse(body, status_code=status or STATUS_BY_CODE.get(code, 400), headers=headers)


def responses(*codes: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route: each status with the codes it may carry."""
    by_status: dict[int, list[str]] = {}
    # Any request may be malformed (a body that is not JSON, a Content-Length that is not a
    # number), too large for its route (web/limits_body.py), refused by the input policy, or
    # refused by admission control when the platform is at capacity (web/admission.py).
    always = (
        "malformed_request", "request_too_large", "invalid_request", "invalid_text",
        "instant_out_of_range", "internal_error", "overloaded",
    )  # fmt: skip
    for code in (*codes, *always):
        by_status.setdefault(STATUS_BY_CODE[code], []).append(code)
    documented: dict[int | str, dict[str, Any]] = {}
    for status, cs in sorted(by_status.items()):
        documented[status] = {
            "model": ErrorOut,
            "description": "error codes: " + ", ".join(sorted(set(cs))),
        }
        if status in RETRY_AFTER_STATUSES:
            documented[status]["headers"] = {"Retry-After": RETRY_AFTER_HEADER}
    return documented


# A rate limit (429), a temporary lock (423) and a busy platform (503) say when to try again.
RETRY_AFTER_STATUSES = frozenset({423, 429, 503})
RETRY_AFTER_HEADER: dict[str, Any] = {
    "description": "whole seconds to wait before trying again",
    "schema": {"type": "integer", "minimum": 1},
}


def _field_name(location: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in location if p not in {"body", "query", "path", "header"}]
    return ".".join(parts) or "(body)"


def is_page(request: Request) -> bool:
    """Pages answer errors with a page in the reader's language; the API with its JSON body."""
    path = request.url.path
    return not (path.startswith(("/api/", "/static/")) or path in {"/openapi.json", "/healthz"})


# What a citizen reads when a page fails: no codes, no traces.
PAGE_ERRORS: dict[int, tuple[str, str]] = {
    403: (
        N_("この操作を続けることができません"),
        N_(
            "ページの有効期限が切れたか、別の画面から送信されました。"
            "お手数ですが、前のページに戻り、もう一度操作してください。"
        ),
    ),
    404: (
        N_("ページが見つかりません"),
        N_(
            "お探しのページは移動したか、削除された可能性があります。トップページからお探しください。"
        ),
    ),
    405: (
        N_("この操作はできません"),
        N_("ページを再読み込みするか、トップページからやり直してください。"),
    ),
    500: (
        N_("ただいま処理できません"),
        N_(
            "システムで問題が発生しました。記録は残っていますので、時間をおいてもう一度お試しください。"
            "入力した内容は送信されていないか、送信済みのままです。二重に登録されることはありません。"
        ),
    ),
}


REFUSED_TITLE = N_("手続きを完了できませんでした")


def error_page(
    request: Request,
    status: int,
    exc: MynapointError | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The error as a page: a refusal in the words of web/error_messages.py, else by status."""
    from mynapoint.web.error_messages import message_for  # noqa: PLC0415 - they import i18n
    from mynapoint.web.templating import templates  # noqa: PLC0415

    if exc is not None:
        title, text = REFUSED_TITLE, message_for(exc.code, exc.details)
    else:
        title, text = PAGE_ERRORS.get(status, PAGE_ERRORS[500])
    return templates.TemplateResponse(
        request,
        "error.html",
        {"title": title, "text": text, "status": status},
        status_code=status,
        headers=headers,
    )


def retry_after(exc: MynapointError) -> dict[str, str] | None:
    """The Retry-After header of a refusal that says when to try again (a rate limit, a
    temporary lock): whole seconds, from its `retry_after_seconds`."""
    seconds = exc.details.get("retry_after_seconds")
    if isinstance(seconds, int) and not isinstance(seconds, bool) and seconds > 0:
        return {"Retry-After": str(seconds)}
    return None


async def _domain(request: Request, exc: MynapointError) -> Response:
    headers = retry_after(exc)
    if is_page(request):
        return error_page(request, STATUS_BY_CODE.get(exc.code, 400), exc, headers=headers)
    details = dict(exc.details)
    if exc.code in POLICY_CODES and "fields" not in details:
        # A refusal of the input policy names its fields as a validation problem does.
        field = str(details.get("field", "(body)"))
        details["fields"] = [{"field": field, "message": exc.message, "type": exc.code}]
    return error_response(exc.code, exc.message, details, headers=headers)


# The input policy's refusals have codes of their own (web/inputs.py raises them as
# validation problems of these types); the first one found names the whole answer.
POLICY_CODES = ("invalid_text", "instant_out_of_range")


def _policy_first(problem: dict[str, Any]) -> dict[str, Any]:
    """A value the text policy refuses is refused for that, whatever else is wrong with it
    (a NUL in an enumeration's value is invalid_text, not "not one of the values")."""
    given = problem.get("input")
    found = text_problem(given) if isinstance(given, str) else None
    if found is None:
        return problem
    return {**problem, "type": "invalid_text", "msg": found}


async def _validation(request: Request, exc: RequestValidationError) -> Response:
    problems = [_policy_first(p) for p in exc.errors()]
    types = {str(p.get("type", "")) for p in problems}
    code = next((c for c in POLICY_CODES if c in types), "invalid_request")
    if is_page(request):
        # A page's own forms are checked by the page; this is a hand-made or stale request.
        return error_page(
            request,
            422,
            MynapointError("invalid request") if code == "invalid_request" else _Refused(code),
        )
    if "json_invalid" in types:
        return error_response("malformed_request", "the request body is not valid JSON")
    fields = [
        {
            "field": _field_name(tuple(p.get("loc", ()))),
            "message": str(p.get("msg", "")),
            "type": str(p.get("type", "")),
        }
        for p in problems
    ]
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    return error_response(code, summary, {"fields": fields})


class _Refused(MynapointError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# What an HTTP error raised by the framework (not by the platform) is called: its status and
# headers are kept (a 405's Allow, a 401's WWW-Authenticate), and the code names the status.
CODE_BY_HTTP_STATUS: dict[int, str] = {
    400: "malformed_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    429: "rate_limited",
    503: "unavailable",
}
_HTTP_MESSAGES: dict[int, str] = {
    404: "no such resource; see /docs for the API",
    405: "this method is not allowed here; the Allow header lists the methods that are",
    413: "the request body is too large",
}


async def _http(request: Request, exc: StarletteHTTPException) -> Response:
    status = exc.status_code
    headers = dict(exc.headers or {})
    if isinstance(exc, CsrfRejected) or (is_page(request) and status in PAGE_ERRORS):
        return error_page(request, status, headers=headers)
    code = CODE_BY_HTTP_STATUS.get(status, "internal_error" if status >= 500 else "invalid_request")
    message = _HTTP_MESSAGES.get(status, str(exc.detail))
    if is_page(request):
        return error_page(request, status, _Refused(code), headers=headers)
    return error_response(code, message, headers=headers, status=status)


class SendInstead(Exception):
    """Raised by a page's dependency when the page may not be shown (not signed in, not
    allowed): the response to send instead, so that each route need not check."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def _send_instead(_request: Request, exc: SendInstead) -> Response:
    return exc.response


# Seconds a client is asked to wait when the database cannot be reached.
DATABASE_RETRY_AFTER_SECONDS = 5


def database_unavailable(request: Request, exc: Exception) -> Response:
    """503 unavailable with Retry-After (the busy page on pages), logged as a warning."""
    path = logged_path(request.url.path, request.scope.get(ROUTE_TEMPLATE))
    # hide_parameters keeps bound values out of this line (db/engine.py).
    log.warning("database unavailable on %s %s: %s", request.method, path, type(exc).__name__)
    unavailable = ServiceUnavailable("the database is not reachable just now; retry shortly")
    headers = {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
    if is_page(request):
        return error_page(request, 503, unavailable, headers=headers)
    return error_response(unavailable.code, unavailable.message, headers=headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    if is_database_unavailable(exc):
        return database_unavailable(request, exc)
    path = logged_path(request.url.path, request.scope.get(ROUTE_TEMPLATE))
    log.error("unhandled error on %s %s", request.method, path, exc_info=exc)
    if is_page(request):
        return error_page(request, 500)
    return error_response("internal_error", "an unexpected error occurred; it has been logged")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SendInstead, _send_instead)  # type: ignore[arg-type]
    app.add_exception_handler(MynapointError, _domain)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    # Database errors are answered where the route's other errors are (Starlette's exception
    # middleware), not by the outermost handler of `Exception`, which answers and then raises
    # again: uvicorn then closed the connection under a client still sending its body, and
    # the client saw no answer at all (make reliability's PostgreSQL restart).
    app.add_exception_handler(DBAPIError, _unexpected)
    app.add_exception_handler(Exception, _unexpected)
