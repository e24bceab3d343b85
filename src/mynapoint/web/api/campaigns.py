"""GET /api/v1/campaigns: the measures, their windows and the history of every changed value."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, TypeVar

from fastapi import APIRouter, Query
from pydantic import BaseModel

from mynapoint.domain.calendar import jst_date, to_jst
from mynapoint.domain.campaigns import CampaignRules, CardCutoff, MeasureRule
from mynapoint.domain.measures import Measure, MeasureKind
from mynapoint.domain.versions import Version, Versioned
from mynapoint.web.dependencies import ClockDep, RulesDep
from mynapoint.web.errors import responses
from mynapoint.web.inputs import Day

router = APIRouter(tags=["public"])


class WindowOut(BaseModel):
    opens: datetime
    closes: datetime  # exclusive
    last_day: date  # the last JST day inside the window, as people are told ("due 2021-09-30")


class CutoffOut(BaseModel):
    applied_by: date
    applied_online_by: date | None


class TimestampVersionOut(BaseModel):
    value: datetime
    last_day: date
    effective: date
    announced: date


class CutoffVersionOut(BaseModel):
    value: CutoffOut | None
    effective: date
    announced: date


class HistoryOut(BaseModel):
    applications_close: list[TimestampVersionOut]
    spending_closes: list[TimestampVersionOut] | None
    card_cutoff: list[CutoffVersionOut]


class CampaignOut(BaseModel):
    measure: Measure
    phase: str
    name_ja: str
    name_en: str
    kind: MeasureKind
    announced: date
    rate_percent: int | None
    cap: int  # the most this measure can give one person, in points (yen)
    cap_group: str | None
    applications: WindowOut
    spending: WindowOut | None
    card_cutoff: CutoffOut | None
    waiting_after_issuance_hours: int
    carries_into: Measure | None
    history: HistoryOut
    notes: list[str]


class CampaignsOut(BaseModel):
    as_of: date
    timezone: str
    person_total_cap: int
    campaigns: list[CampaignOut]


def _window(opens: datetime, closes: datetime) -> WindowOut:
    return WindowOut(
        opens=to_jst(opens),
        closes=to_jst(closes),
        last_day=jst_date(closes - timedelta(microseconds=1)),
    )


T = TypeVar("T")


def _latest(versioned: Versioned[T], as_of: date) -> Version[T]:
    return versioned.visible(as_of)[-1]


def _cutoff(value: CardCutoff | None) -> CutoffOut | None:
    if value is None:
        return None
    return CutoffOut(applied_by=value.applied_by, applied_online_by=value.applied_online_by)


def _timestamps(versioned: Versioned[datetime], as_of: date) -> list[TimestampVersionOut]:
    return [
        TimestampVersionOut(
            value=to_jst(v.value),
            last_day=jst_date(v.value - timedelta(microseconds=1)),
            effective=v.effective,
            announced=v.announced,
        )
        for v in versioned.visible(as_of)
    ]


def campaign_out(rule: MeasureRule, rules: CampaignRules, as_of: date) -> CampaignOut:
    spending = None
    spending_history = None
    if rule.spending_opens is not None and rule.spending_closes is not None:
        spending = _window(rule.spending_opens, _latest(rule.spending_closes, as_of).value)
        spending_history = _timestamps(rule.spending_closes, as_of)
    cap = rules.cap_groups[rule.cap_group] if rule.cap_group else rule.fixed_points
    return CampaignOut(
        measure=rule.measure,
        phase=rule.phase,
        name_ja=rule.name_ja,
        name_en=rule.name_en,
        kind=rule.kind,
        announced=rule.announced,
        rate_percent=rule.rate_percent if rule.kind is MeasureKind.SPENDING else None,
        cap=cap,
        cap_group=rule.cap_group,
        applications=_window(rule.applications_open, _latest(rule.applications_close, as_of).value),
        spending=spending,
        card_cutoff=_cutoff(_latest(rule.card_cutoff, as_of).value),
        waiting_after_issuance_hours=int(rule.waiting_after_issuance.total_seconds() // 3600),
        carries_into=rule.carries_into,
        history=HistoryOut(
            applications_close=_timestamps(rule.applications_close, as_of),
            spending_closes=spending_history,
            card_cutoff=[
                CutoffVersionOut(
                    value=_cutoff(v.value), effective=v.effective, announced=v.announced
                )
                for v in rule.card_cutoff.visible(as_of)
            ],
        ),
        notes=list(rule.notes),
    )


@router.get("/api/v1/campaigns", responses=responses())
def list_campaigns(
    rules: RulesDep,
    clock: ClockDep,
    as_of: Annotated[
        Day | None,
        Query(description="rules as announced by the end of this day (default: platform today)"),
    ] = None,
) -> CampaignsOut:
    """The measures in force, as announced by `as_of`, with every earlier version."""
    day = as_of or jst_date(clock.now())
    return CampaignsOut(
        as_of=day,
        timezone="Asia/Tokyo",
        person_total_cap=rules.person_total_cap,
        campaigns=[
            campaign_out(r, rules, day) for r in rules.measures.values() if r.is_announced(day)
        ],
    )
