"""A change of the campaign rules in words (issue 16), and how rule values read in Japanese
and in English: dates, points, yen, card cut-offs. rules_diff.py decides what changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from mynapoint.domain.calendar import to_jst
from mynapoint.domain.campaigns import CardCutoff, MeasureRule
from mynapoint.domain.measures import Measure

ARROW = " → "
_JA_UNITS = ((10**12, "兆"), (10**8, "億"), (10**4, "万"))


@dataclass(frozen=True)
class RuleChange:
    measure: Measure | None  # None: program-wide
    rule: str  # the key in the rules file, e.g. "rate_percent", "cap_groups.spending"
    ja: str  # the whole line, measure and dates included
    en: str
    effective: date | None = None  # from which day it governs; None: throughout
    announced: date | None = None  # when it was announced; None: not said


def change_document(change: RuleChange) -> dict[str, Any]:
    """A change as `--json` gives it and the lab's pages serve it."""
    return {
        "measure": None if change.measure is None else change.measure.value,
        "rule": change.rule,
        "ja": change.ja,
        "en": change.en,
        "effective": None if change.effective is None else change.effective.isoformat(),
        "announced": None if change.announced is None else change.announced.isoformat(),
    }


@dataclass(frozen=True)
class Scope:
    """Whose rule changes: a measure (its short names) or the program."""

    measure: Measure | None
    ja: str
    en: str

    def change(
        self,
        rule: str,
        ja: str,
        en: str,
        effective: date | None = None,
        announced: date | None = None,
        withdrawn: date | None = None,  # the announcement day of a version taken back
        *,
        announced_in_text: bool = True,  # False when the text already says it
    ) -> RuleChange:
        when_ja = [f"{effective.isoformat()}から"] if effective is not None else []
        when_en = [f"from {effective.isoformat()}"] if effective is not None else []
        if announced is not None and announced_in_text:
            when_ja.append(f"{announced.isoformat()}発表")
            when_en.append(f"announced {announced.isoformat()}")
        if withdrawn is not None:
            when_ja.append(f"{withdrawn.isoformat()}発表の版を取り消し")
            when_en.append(f"withdraws the version announced {withdrawn.isoformat()}")
        suffix_ja = f"（{'、'.join(when_ja)}）" if when_ja else ""
        suffix_en = f" ({', '.join(when_en)})" if when_en else ""
        return RuleChange(
            self.measure,
            rule,
            f"{self.ja}: {ja}{suffix_ja}",
            f"{self.en}: {en}{suffix_en}",
            effective,
            announced,
        )


def from_to(old: str, new: str) -> str:
    return f"{old}{ARROW}{new}"


def points(value: int) -> str:
    return f"{value:,}"


def ja_units(value: int) -> str:
    """1,813,400,000,000 -> "1兆8,134億": counted in 万, 億 and 兆 as Japanese texts count."""
    parts, rest = [], value
    for size, unit in _JA_UNITS:
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count:,}{unit}")
    if rest or not parts:
        parts.append(f"{rest:,}")
    return "".join(parts)


def last_day(at: datetime) -> str:
    """The last day of a half-open window ending at `at` (midnight JST), or the instant."""
    local = to_jst(at)
    if local.time() == time(0, 0):
        return (local.date() - timedelta(days=1)).isoformat()
    return local.strftime("%Y-%m-%d %H:%M")


def first_day(at: datetime | None) -> tuple[str, str]:
    if at is None:
        return ("なし", "none")
    local = to_jst(at)
    text = local.date().isoformat() if local.time() == time(0, 0) else f"{local:%Y-%m-%d %H:%M}"
    return (text, text)


def cutoff(value: CardCutoff | None) -> tuple[str, str]:
    if value is None:
        return ("なし", "none")
    if value.applied_online_by is None:
        return (value.applied_by.isoformat(), value.applied_by.isoformat())
    online = value.applied_online_by.isoformat()
    return (
        f"{value.applied_by.isoformat()}（オンライン申請は{online}）",
        f"{value.applied_by.isoformat()} (online applications {online})",
    )


def hours(value: timedelta) -> tuple[str, str]:
    minutes = int(value.total_seconds() // 60)
    if minutes % 60:
        return (f"{minutes}分", f"{minutes} min")
    return (f"{minutes // 60}時間", f"{minutes // 60} h")


def short(rule: MeasureRule) -> tuple[str, str]:
    """The measure's name without its explanation: "マイナポイント第2弾 施策1"."""
    ja = rule.name_ja.replace("（", "(").split("(", 1)[0].strip() or rule.name_ja
    en = rule.name_en.split(":", 1)[0].strip() or rule.name_en
    return (ja, en)
