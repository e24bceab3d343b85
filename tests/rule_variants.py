"""Campaign rules that differ from the rules in force in one place, for the rules-diff tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from mynapoint.domain.campaigns import CampaignRules, CardCutoff
from mynapoint.domain.measures import Measure
from mynapoint.domain.versions import Version, Versioned
from mynapoint.rules.loader import load_campaigns

JST = ZoneInfo("Asia/Tokyo")
P1, P2S, P2H, P2P = (
    Measure.PHASE1,
    Measure.PHASE2_SPENDING,
    Measure.PHASE2_HEALTH_INSURANCE,
    Measure.PHASE2_PUBLIC_FUNDS,
)
FORCE = load_campaigns()


def jst(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=JST)


def with_measure(measure: Measure, **changes: object) -> CampaignRules:
    measures = dict(FORCE.measures)
    measures[measure] = replace(FORCE.rule(measure), **changes)  # type: ignore[arg-type]
    return replace(FORCE, measures=measures)


def without(measure: Measure) -> CampaignRules:
    return replace(FORCE, measures={m: r for m, r in FORCE.measures.items() if m is not measure})


PHASE1_CLOSE = FORCE.rule(P1).applications_close.versions
PHASE1_CUTOFF = FORCE.rule(P1).card_cutoff.versions
EXTENDED = Versioned((*PHASE1_CLOSE, Version(jst(2022, 4, 1), date(2022, 1, 1), date(2021, 12, 1))))
FRAME1, FRAME2 = FORCE.budget_frames


def close_with(index: int, **changes: object) -> Versioned[datetime]:
    """Phase 1's applications_close with version `index` changed."""
    versions = list(PHASE1_CLOSE)
    versions[index] = replace(versions[index], **changes)  # type: ignore[arg-type]
    return Versioned(tuple(versions))


def cutoff_with(value: CardCutoff | None) -> Versioned[CardCutoff | None]:
    """Phase 1's card cut-off with its second version (from 2021-04-01) set to `value`."""
    return Versioned((PHASE1_CUTOFF[0], replace(PHASE1_CUTOFF[1], value=value)))
