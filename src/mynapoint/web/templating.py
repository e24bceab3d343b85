"""The one Jinja2 environment of the pages: gettext, reader-language filters, CSRF token."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates

from mynapoint.domain.calendar import to_jst
from mynapoint.rules.corners import load_corner_directory
from mynapoint.web import i18n
from mynapoint.web.csrf import CSRF_FIELD, csrf_token
from mynapoint.web.pages.citizen.session import signed_in

templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
    )
)
# `{% trans %}` blocks are looked up with their whitespace trimmed, as `make messages` reads them.
templates.env.policies["ext.i18n.trimmed"] = True
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    i18n._, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext
)
templates.env.filters["jdate"] = i18n.long_date
templates.env.filters["jdatetime"] = i18n.date_time
templates.env.filters["hhmm"] = i18n.clock_time
templates.env.filters["yen"] = i18n.yen
templates.env.filters["points"] = i18n.points
templates.env.filters["number"] = i18n.number


def switch_language_url(request: Request, locale: str) -> str:
    """This page in another language: same path and query, `lang` replaced."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != i18n.LOCALE_QUERY]
    query.append((i18n.LOCALE_QUERY, locale))
    return f"{request.url.path}?{urlencode(query)}"


def platform_now(request: Request) -> datetime:
    """The platform's clock (fixed in the demo), which every page shows and judges by."""
    now: datetime = request.app.state.platform.clock.now()
    return now


def jst_iso_date(value: datetime) -> str:
    """The JST day of an instant, as a <time datetime> carries it."""
    return to_jst(value).date().isoformat()


def issuing_cities() -> list[str]:
    """The cities whose support corners the site shows (the corner files), in the reader's
    language: the footer names them beside the ministry that runs the program."""
    english = i18n.current_locale() == "en"
    return [
        (city.name_en or city.name) if english else city.name
        for city in load_corner_directory().cities
    ]


templates.env.filters["jst_iso_date"] = jst_iso_date
templates.env.globals["issuing_cities"] = issuing_cities
templates.env.globals["locale"] = i18n.current_locale
templates.env.globals["platform_now"] = platform_now
templates.env.globals["switch_language_url"] = switch_language_url
templates.env.globals["csrf_token"] = csrf_token
templates.env.globals["CSRF_FIELD"] = CSRF_FIELD
# The navigation shows マイページ/ログアウト or ログイン (web/pages/citizen/session.py).
templates.env.globals["signed_in"] = signed_in
