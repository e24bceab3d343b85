"""How two sets of campaign rules differ, rule by rule, in words a person reads (issue 16):
"マイナポイント第1弾: 還元率 25% → 20%" / "Mynapoint phase 1: rate 25 % → 20 %".

Versioned values are compared version by version, matched on the day each takes effect: a
version only one side has is a change from that day (gained: announced on its own date;
withdrawn: the candidate does not say when, so `announced` is None). A value that is not
versioned governs throughout, so its change has neither date. Program-wide changes come
first, then the measures in the old rules' order (measures only the new rules have last).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import TypeVar

from mynapoint.domain.calendar import jst_date
from mynapoint.domain.campaigns import BudgetFrame, CampaignRules, MeasureRule
from mynapoint.domain.measures import Measure, MeasureKind
from mynapoint.domain.rule_changes import (
    RuleChange,
    Scope,
    cutoff,
    first_day,
    from_to,
    hours,
    ja_units,
    last_day,
    points,
    short,
)
from mynapoint.domain.versions import Versioned

__all__ = ["RuleChange", "rules_diff"]

T = TypeVar("T")
_PROGRAM = ("事業全体", "Program-wide")
_PHASES = {"phase1": ("第1弾", "phase 1"), "phase2": ("第2弾", "phase 2")}
_KINDS = {MeasureKind.SPENDING: ("決済還元", "spending"), MeasureKind.FIXED: ("定額付与", "fixed")}


def rules_diff(old: CampaignRules, new: CampaignRules) -> tuple[RuleChange, ...]:
    """What changes from `old` to `new`; () when they say the same."""
    changes = list(_program(old, new))
    order = [*old.measures, *(m for m in new.measures if m not in old.measures)]
    for measure in order:
        changes += _measure(measure, old, new)
    return tuple(changes)


# --- program-wide ---------------------------------------------------------------------------


def _program(old: CampaignRules, new: CampaignRules) -> Iterator[RuleChange]:
    scope = Scope(None, *_PROGRAM)
    if old.person_total_cap != new.person_total_cap:
        was, now = points(old.person_total_cap), points(new.person_total_cap)
        yield scope.change(
            "person_total_cap",
            f"1人あたりの上限合計 {from_to(was, now)}ポイント",
            f"total cap per person {from_to(was, now)} points",
        )
    yield from _cap_groups(scope, old.cap_groups, new.cap_groups)
    yield from _budget_frames(scope, old.budget_frames, new.budget_frames)


def _cap_groups(
    scope: Scope, old: Mapping[str, int], new: Mapping[str, int]
) -> Iterator[RuleChange]:
    for group in [*old, *(g for g in new if g not in old)]:
        rule = f"cap_groups.{group}"
        was, now = old.get(group), new.get(group)
        if was == now:
            continue
        if was is None:
            yield scope.change(
                rule,
                f"上限グループ「{group}」を追加（上限 {points(now or 0)}ポイント）",
                f"cap group '{group}' added (cap {points(now or 0)} points)",
            )
        elif now is None:
            yield scope.change(
                rule,
                f"上限グループ「{group}」（上限 {points(was)}ポイント）を廃止",
                f"cap group '{group}' (cap {points(was)} points) removed",
            )
        else:
            change = from_to(points(was), points(now))
            yield scope.change(
                rule,
                f"上限グループ「{group}」の上限 {change}ポイント",
                f"cap of group '{group}' {change} points",
            )


def _keyed_frames(frames: tuple[BudgetFrame, ...]) -> dict[tuple[str, int], BudgetFrame]:
    """Frames by phase, and by their order within a phase should one have several."""
    keyed: dict[tuple[str, int], BudgetFrame] = {}
    for frame in frames:
        keyed[(frame.phase, sum(1 for phase, _ in keyed if phase == frame.phase))] = frame
    return keyed


def _budget_frames(
    scope: Scope, old: tuple[BudgetFrame, ...], new: tuple[BudgetFrame, ...]
) -> Iterator[RuleChange]:
    olds, news = _keyed_frames(old), _keyed_frames(new)
    for key in [*olds, *(k for k in news if k not in olds)]:
        was, now = olds.get(key), news.get(key)
        phase_ja, phase_en = _PHASES.get(key[0], (key[0], key[0]))
        ja, en = f"予算枠（{phase_ja}）", f"budget frame ({phase_en})"
        if now is None:
            assert was is not None  # noqa: S101 - the key is one side's
            yield scope.change(
                "budget_frames",
                f"{ja}を廃止: {ja_units(was.yen)}円、{ja_units(was.persons)}人",
                f"{en} removed: ¥{was.yen:,}, {was.persons:,} persons",
            )
        elif was is None:
            yield scope.change(
                "budget_frames",
                f"{ja}を追加: {ja_units(now.yen)}円、{ja_units(now.persons)}人",
                f"{en} added: ¥{now.yen:,}, {now.persons:,} persons",
                announced=now.announced,
            )
        else:
            yield from _budget_frame(scope, (ja, en), was, now)


def _budget_frame(
    scope: Scope, label: tuple[str, str], was: BudgetFrame, now: BudgetFrame
) -> Iterator[RuleChange]:
    ja, en = label
    if was.yen != now.yen:
        yield scope.change(
            "budget_frames.yen",
            f"{ja} {from_to(ja_units(was.yen) + '円', ja_units(now.yen) + '円')}",
            f"{en} {from_to(f'¥{was.yen:,}', f'¥{now.yen:,}')}",
            announced=now.announced,
        )
    if was.persons != now.persons:
        yield scope.change(
            "budget_frames.persons",
            f"{ja}の想定人数 {from_to(ja_units(was.persons), ja_units(now.persons))}人",
            f"{en} sized for {from_to(f'{was.persons:,}', f'{now.persons:,}')} persons",
            announced=now.announced,
        )
    if was.announced != now.announced:
        days = from_to(was.announced.isoformat(), now.announced.isoformat())
        yield scope.change(
            "budget_frames.announced",
            f"{ja}の発表日 {days}",
            f"{en} announced {days}",
            announced=now.announced,
            announced_in_text=False,
        )


# --- one measure ----------------------------------------------------------------------------


def _measure(measure: Measure, old: CampaignRules, new: CampaignRules) -> list[RuleChange]:
    was, now = old.measures.get(measure), new.measures.get(measure)
    named = was or now
    assert named is not None  # noqa: S101 - the measure is one side's
    scope = Scope(measure, *short(named))
    if now is None:
        return [scope.change("measures", "施策を廃止", "measure removed")]
    if was is None:
        return [_added(scope, now)]
    return list(_measure_changes(scope, was, now, old, new))


def _added(scope: Scope, rule: MeasureRule) -> RuleChange:
    opens = first_day(rule.applications_open)[0]
    closes = last_day(rule.applications_close.versions[-1].value)
    if rule.kind is MeasureKind.SPENDING:
        what_ja = f"還元率 {rule.rate_percent}%、上限グループ「{rule.cap_group}」"
        what_en = f"rate {rule.rate_percent} %, cap group '{rule.cap_group}'"
    else:
        what_ja = f"{points(rule.fixed_points)}ポイント"
        what_en = f"{points(rule.fixed_points)} points"
    return scope.change(
        "measures",
        f"施策を追加: {what_ja}、申込 {opens}〜{closes}",
        f"measure added: {what_en}, applications {opens} to {closes}",
        effective=jst_date(rule.applications_open),
        announced=rule.announced,
    )


def _measure_changes(
    scope: Scope, was: MeasureRule, now: MeasureRule, old: CampaignRules, new: CampaignRules
) -> Iterator[RuleChange]:
    yield from _plain(scope, "kind", ("種類", "kind"), _KINDS[was.kind], _KINDS[now.kind])
    phases = (_PHASES.get(was.phase, (was.phase,) * 2), _PHASES.get(now.phase, (now.phase,) * 2))
    yield from _plain(scope, "phase", ("区分", "belongs to"), *phases)
    if was.name_ja != now.name_ja:
        yield scope.change(
            "name_ja",
            f"名称 {from_to(was.name_ja, now.name_ja)}",
            f"Japanese name {from_to(was.name_ja, now.name_ja)}",
        )
    if was.name_en != now.name_en:
        yield scope.change(
            "name_en",
            f"英語名 {from_to(was.name_en, now.name_en)}",
            f"name {from_to(was.name_en, now.name_en)}",
        )
    if was.announced != now.announced:
        days = from_to(was.announced.isoformat(), now.announced.isoformat())
        yield scope.change(
            "announced",
            f"発表日 {days}",
            f"announced {days}",
            announced=now.announced,
            announced_in_text=False,
        )
    yield from _plain(
        scope,
        "rate_percent",
        ("還元率", "rate"),
        (f"{was.rate_percent}%", f"{was.rate_percent} %"),
        (f"{now.rate_percent}%", f"{now.rate_percent} %"),
    )
    if was.fixed_points != now.fixed_points:
        change = from_to(points(was.fixed_points), points(now.fixed_points))
        yield scope.change("fixed_points", f"付与ポイント {change}", f"fixed grant {change} points")
    yield from _plain(
        scope,
        "cap_group",
        ("上限グループ", "cap group"),
        (was.cap_group or "なし", was.cap_group or "none"),
        (now.cap_group or "なし", now.cap_group or "none"),
    )
    yield from _plain(
        scope,
        "applications_open",
        ("申込開始", "applications open"),
        first_day(was.applications_open),
        first_day(now.applications_open),
    )
    yield from _versions(
        scope,
        "applications_close",
        ("申込期限", "applications due"),
        (was.applications_close, now.applications_close),
        lambda at: (last_day(at),) * 2,
    )
    yield from _plain(
        scope,
        "spending_opens",
        ("対象決済の開始", "spending counts from"),
        first_day(was.spending_opens),
        first_day(now.spending_opens),
    )
    yield from _spending_closes(scope, was.spending_closes, now.spending_closes)
    yield from _versions(
        scope,
        "card_cutoff",
        ("対象カードの申請期限", "card cut-off"),
        (was.card_cutoff, now.card_cutoff),
        cutoff,
    )
    yield from _plain(
        scope,
        "waiting_after_issuance_hours",
        ("カード発行後の待機時間", "waiting after card issuance"),
        hours(was.waiting_after_issuance),
        hours(now.waiting_after_issuance),
    )
    if was.carries_into != now.carries_into:
        yield from _plain(
            scope,
            "carries_into",
            ("申込みの引き継ぎ先", "carries into"),
            _named(was.carries_into, (old, new)),
            _named(now.carries_into, (new, old)),
        )
    for note in (n for n in was.notes if n not in now.notes):
        yield scope.change("notes", f"注記を削除: {note}", f"note removed: {note}")
    for note in (n for n in now.notes if n not in was.notes):
        yield scope.change("notes", f"注記を追加: {note}", f"note added: {note}")


def _named(measure: Measure | None, rules: tuple[CampaignRules, ...]) -> tuple[str, str]:
    """A measure's short names, from the first rules that have it."""
    if measure is None:
        return ("なし", "none")
    for some in rules:
        if measure in some.measures:
            return short(some.rule(measure))
    return (measure.value, measure.value)


def _plain(
    scope: Scope,
    rule: str,
    label: tuple[str, str],
    was: tuple[str, str],
    now: tuple[str, str],
) -> Iterator[RuleChange]:
    if was != now:
        yield scope.change(
            rule, f"{label[0]} {from_to(was[0], now[0])}", f"{label[1]} {from_to(was[1], now[1])}"
        )


def _spending_closes(
    scope: Scope, was: Versioned[datetime] | None, now: Versioned[datetime] | None
) -> Iterator[RuleChange]:
    label = ("対象決済の期限", "spending counts until")
    if was is not None and now is not None:
        yield from _versions(
            scope, "spending_closes", label, (was, now), lambda at: (last_day(at),) * 2
        )
        return
    # A measure that became (or stopped being) a spending measure: its last end, or none.
    ends = [
        (last_day(v.versions[-1].value),) * 2 if v is not None else ("なし", "none")
        for v in (was, now)
    ]
    yield from _plain(scope, "spending_closes", label, ends[0], ends[1])


def _versions(
    scope: Scope,
    rule: str,
    label: tuple[str, str],
    pair: tuple[Versioned[T], Versioned[T]],
    show: Callable[[T], tuple[str, str]],
) -> Iterator[RuleChange]:
    """Version by version, matched on the day each takes effect."""
    old, new = pair
    olds = {v.effective: v for v in old.versions}
    news = {v.effective: v for v in new.versions}
    for day in sorted(olds.keys() | news.keys()):
        was, now = olds.get(day), news.get(day)
        if now is not None:
            # Gained: compared with what governed that day before.
            before = was if was is not None else old.version_on(day, None)
            assert before is not None  # noqa: S101 - a Versioned has a version
            if before.value != now.value:
                yield scope.change(
                    rule,
                    f"{label[0]} {from_to(show(before.value)[0], show(now.value)[0])}",
                    f"{label[1]} {from_to(show(before.value)[1], show(now.value)[1])}",
                    effective=day,
                    announced=now.announced,
                )
            elif was is None:  # a version that repeats the value before it
                same = show(now.value)
                yield scope.change(
                    rule,
                    f"{label[0]} {same[0]}のまま",
                    f"{label[1]} stays {same[1]}",
                    effective=day,
                    announced=now.announced,
                )
            elif was.announced != now.announced:
                same = show(now.value)
                days = from_to(was.announced.isoformat(), now.announced.isoformat())
                yield scope.change(
                    rule,
                    f"{label[0]} {same[0]}の発表日 {days}",
                    f"{label[1]} {same[1]} announced {days}",
                    effective=day,
                    announced=now.announced,
                    announced_in_text=False,
                )
        elif was is not None:
            # Withdrawn: what governs that day now is the version before it.
            after = new.version_on(day, None)
            assert after is not None  # noqa: S101 - a Versioned has a version
            yield scope.change(
                rule,
                f"{label[0]} {from_to(show(was.value)[0], show(after.value)[0])}",
                f"{label[1]} {from_to(show(was.value)[1], show(after.value)[1])}",
                effective=day,
                withdrawn=was.announced,
            )
