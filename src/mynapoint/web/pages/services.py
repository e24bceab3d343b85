"""/services: find a payment service, as the Ministry's search let people, and read its facts.

The search is a GET form that works without JavaScript; with htmx the results follow the
typing (the same URL answers an htmx request with the results alone). The filters are the
API's (`web/api/payment_services.search`), read leniently: an empty or unknown choice means
"any", never an error page. `/services/{code}` gives one service's facts from the catalog
and the way on to `/apply/{code}`, with the warning that the choice is final.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Annotated, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from mynapoint.domain.calendar import jst_date
from mynapoint.domain.measures import Category, Channel, Counts, EventKind
from mynapoint.domain.services import AtEvent, CodeFormat, DaysAfter, GrantTiming, PaymentService
from mynapoint.web.api.payment_services import search
from mynapoint.web.dependencies import CatalogDep, ClockDep, RulesDep
from mynapoint.web.i18n import N_, _, long_date, ngettext, number, pgettext
from mynapoint.web.pages.opening_times import lang_of, localized
from mynapoint.web.templating import templates

router = APIRouter(include_in_schema=False)

CATEGORY_LABELS = {
    Category.E_MONEY: N_("電子マネー"),
    Category.QR_CODE: N_("QRコード決済"),
    Category.PREPAID: N_("プリペイド"),
    Category.CREDIT_CARD: N_("クレジットカード"),
    Category.DEBIT_CARD: N_("デビットカード"),
}
COUNTS_LABELS = {
    Counts.CHARGE: N_("チャージ"),
    Counts.PURCHASE: N_("お買い物"),
    Counts.PICK: N_("チャージまたはお買い物(申込み時に選択)"),
}
KIND_LABELS = {EventKind.CHARGE: N_("チャージ"), EventKind.PURCHASE: N_("お買い物")}
KIND_EXAMPLES = {
    EventKind.CHARGE: N_("例: {day}のチャージは{grant}に付与"),
    EventKind.PURCHASE: N_("例: {day}のお買い物は{grant}に付与"),
}
CHANNEL_LABELS = {
    Channel.APP: N_("決済サービスのアプリ"),
    Channel.STORE: N_("店頭"),
    Channel.ONLINE: N_("このサイト(ご自身のスマートフォン・パソコン)"),
    Channel.SUPPORT_CORNER: N_("マイナポイント・サポートコーナー"),
}
# What the search form offers for "what counts": a service where the person picks is found
# under either (the API's rule).
COUNTS_CHOICES = (Counts.CHARGE, Counts.PURCHASE)

E = TypeVar("E", bound=Enum)


def _choice(enum: type[E], value: str | None, allowed: tuple[E, ...] | None = None) -> E | None:
    try:
        chosen = enum((value or "").strip())
    except ValueError:
        return None
    return chosen if allowed is None or chosen in allowed else None


@dataclass(frozen=True)
class SearchForm:
    q: str = ""
    category: Category | None = None
    counts: Counts | None = None
    preregistration: bool | None = None
    channel: Channel | None = None

    @property
    def is_set(self) -> bool:
        return bool(self.q) or any(
            v is not None for v in (self.category, self.counts, self.preregistration, self.channel)
        )

    def query(self) -> str:
        """The form as a query string, without the empty fields."""
        fields = {
            "q": self.q,
            "category": self.category.value if self.category else "",
            "counts": self.counts.value if self.counts else "",
            "preregistration": {True: "yes", False: "no", None: ""}[self.preregistration],
            "channel": self.channel.value if self.channel else "",
        }
        return urlencode({k: v for k, v in fields.items() if v})


def search_form(
    q: str | None,
    category: str | None,
    counts: str | None,
    preregistration: str | None,
    channel: str | None,
) -> SearchForm:
    """The form as sent; an empty or unknown choice means "any"."""
    needed = (preregistration or "").strip().lower()
    return SearchForm(
        q=" ".join((q or "").split()),
        category=_choice(Category, category),
        counts=_choice(Counts, counts, COUNTS_CHOICES),
        preregistration={"yes": True, "true": True, "no": False, "false": False}.get(needed),
        channel=_choice(Channel, channel),
    )


def find(services: list[PaymentService], form: SearchForm) -> list[PaymentService]:
    return search(
        services,
        q=form.q or None,
        category=form.category,
        counts=form.counts,
        preregistration=form.preregistration,
        channel=form.channel,
    )


# --- the facts of a service ------------------------------------------------------------------


def timing_text(timing: GrantTiming) -> str:
    if isinstance(timing, AtEvent):
        return _("当日に付与")
    if isinstance(timing, DaysAfter):
        days = number(timing.days)
        if timing.from_next_day:
            return ngettext(
                "翌日から{days}日後に付与", "翌日から{days}日後に付与", timing.days
            ).format(days=days)
        return ngettext("{days}日後に付与", "{days}日後に付与", timing.days).format(days=days)
    if timing.months_after == 1:
        return _("1か月分をまとめて翌月{day}日に付与").format(day=timing.day)
    return ngettext(
        "1か月分をまとめて{months}か月後の{day}日に付与",
        "1か月分をまとめて{months}か月後の{day}日に付与",
        timing.months_after,
    ).format(months=number(timing.months_after), day=timing.day)


@dataclass(frozen=True)
class TimingLine:
    kind: str  # チャージ / お買い物
    rule: str  # 当日に付与 …
    example: str  # 例: 2021年7月19日(月)のチャージ → 2021年8月28日(土)に付与


def timing_lines(service: PaymentService, today: date) -> list[TimingLine]:
    lines = []
    for kind in service.countable_kinds():
        timing = service.timing.get(kind) or service.timing[service.countable_kinds()[0]]
        lines.append(
            TimingLine(
                kind=_(KIND_LABELS[kind]),
                rule=timing_text(timing),
                example=_(KIND_EXAMPLES[kind]).format(
                    day=long_date(today), grant=long_date(service.grant_on(kind, today))
                ),
            )
        )
    return lines


@dataclass(frozen=True)
class CodeView:
    name: str
    description: str
    example: str


def code_view(fmt: CodeFormat) -> CodeView:
    return CodeView(
        name=localized(fmt.name_ja, fmt.name_en),
        description=localized(fmt.description_ja, fmt.description_en),
        example=fmt.example,
    )


@dataclass(frozen=True)
class ServiceSummary:
    service: PaymentService
    name: str
    name_lang: str
    category: str
    counts: str
    preregistration: str
    channels: list[str]
    at_corner: bool


def summary(service: PaymentService) -> ServiceSummary:
    return ServiceSummary(
        service=service,
        name=localized(service.name, service.name_en),
        name_lang=lang_of(service.name_en),
        category=_(CATEGORY_LABELS[service.category]),
        counts=_(COUNTS_LABELS[service.counts]),
        preregistration=_("必要") if service.preregistration else _("不要"),
        channels=[_(CHANNEL_LABELS[c]) for c in Channel if c in service.channels],
        at_corner=Channel.SUPPORT_CORNER in service.channels,
    )


@dataclass(frozen=True)
class ServiceFacts:
    summary: ServiceSummary
    operator: str
    operator_lang: str
    timing: list[TimingLine]
    expiry: str
    expiry_lang: str
    payment_service_id: CodeView
    security_codes: list[CodeView]
    measures: list[str]
    closes_at: datetime | None
    is_closed: bool
    can_apply_here: bool
    elsewhere: str  # where to apply when not on this site
    has_assumptions: bool


def service_facts(service: PaymentService, measures: list[str], now: datetime) -> ServiceFacts:
    today = jst_date(now)
    return ServiceFacts(
        summary=summary(service),
        operator=localized(service.operator.name, service.operator.name_en),
        operator_lang=lang_of(service.operator.name_en),
        timing=timing_lines(service, today),
        expiry=localized(service.expiry_ja, service.expiry_en),
        expiry_lang=lang_of(service.expiry_en),
        payment_service_id=code_view(service.payment_service_id),
        security_codes=[code_view(c) for c in service.security_codes],
        measures=measures,
        closes_at=service.closes_at,
        is_closed=service.is_closed_at(now),
        can_apply_here=Channel.ONLINE in service.channels,
        elsewhere=pgettext("alternatives", "・").join(
            _(CHANNEL_LABELS[c]) for c in Channel if c in service.channels
        ),
        has_assumptions=bool(service.assumptions),
    )


def _labels(labels: dict[E, str]) -> list[tuple[str, str]]:
    return [(key.value, _(label)) for key, label in labels.items()]


@router.get("/services", response_class=HTMLResponse)
def services_page(
    request: Request,
    catalog: CatalogDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    category: Annotated[str | None, Query(max_length=20)] = None,
    counts: Annotated[str | None, Query(max_length=20)] = None,
    preregistration: Annotated[str | None, Query(max_length=10)] = None,
    channel: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    form = search_form(q, category, counts, preregistration, channel)
    services = list(catalog)
    found = [summary(s) for s in find(services, form)]
    context: dict[str, object] = {
        "form": form,
        "found": found,
        "total": len(services),
        "categories": _labels(CATEGORY_LABELS),
        "counts_choices": [(c.value, _(COUNTS_LABELS[c])) for c in COUNTS_CHOICES],
        "channels": _labels(CHANNEL_LABELS),
    }
    # htmx asks for the results alone while the reader types; a history restore needs the page.
    partial = request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )
    context["partial"] = partial
    name = "services_results.html" if partial else "services.html"
    return templates.TemplateResponse(request, name, context)


@router.get("/services/{service_code}", response_class=HTMLResponse)
def service_page(
    request: Request, service_code: str, catalog: CatalogDep, rules: RulesDep, clock: ClockDep
) -> HTMLResponse:
    if service_code not in catalog:
        raise HTTPException(status_code=404)
    service = catalog.get(service_code)
    now = clock.now()
    today = jst_date(now)
    measures = [
        localized(rule.name_ja, rule.name_en)
        for measure, rule in rules.measures.items()
        if rule.is_announced(today) and service.takes_part_in(measure)
    ]
    return templates.TemplateResponse(
        request, "services_detail.html", {"facts": service_facts(service, measures, now)}
    )
