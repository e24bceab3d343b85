"""Load the campaign rules and the service catalog from YAML into domain values.

Loading is strict: an unknown key, a version that overlaps another, a window
that ends before it starts or a timestamp without a UTC offset is refused with
a message naming the file, the key and the expected form.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from mynapoint.domain.campaigns import BudgetFrame, CampaignRules, CardCutoff, MeasureRule
from mynapoint.domain.measures import EventKind, Measure
from mynapoint.domain.services import (
    AtEvent,
    Catalog,
    CodeFormat,
    DaysAfter,
    GrantTiming,
    Monthly,
    Operator,
    PaymentService,
)
from mynapoint.domain.versions import Version, Versioned
from mynapoint.rules.schema import (
    CampaignsIn,
    CatalogIn,
    CodeFormatIn,
    CutoffVersion,
    MeasureIn,
    TimestampVersion,
    TimingIn,
    describe,
)
from mynapoint.rules.yaml_source import KeyLines, SourceError, dotted, parse_yaml

CAMPAIGNS_FILE = "campaigns.yaml"
CATALOG_FILE = "services.yaml"

M = TypeVar("M", bound=BaseModel)

# What to write instead, for the mistakes people make most in these files.
_EXPECTED = {
    "timezone_aware": "a timestamp with a UTC offset, e.g. 2021-04-01T00:00:00+09:00",
    "datetime_from_date_parsing": "a timestamp with a UTC offset, e.g. 2021-04-01T00:00:00+09:00",
    "datetime_parsing": "a timestamp with a UTC offset, e.g. 2021-04-01T00:00:00+09:00",
    "datetime_type": "a timestamp with a UTC offset, e.g. 2021-04-01T00:00:00+09:00",
    "date_from_datetime_parsing": "a date, e.g. 2021-04-30",
    "date_parsing": "a date, e.g. 2021-04-30",
    "date_type": "a date, e.g. 2021-04-30",
    "extra_forbidden": "check the spelling against the documented keys",
    "int_type": "a whole number, e.g. 3000",
    "int_parsing": "a whole number, e.g. 3000",
    "int_from_float": "a whole number, e.g. 3000",
    "greater_than": "a positive whole number, e.g. 3000",
}


class RuleDataError(SourceError):
    """A rule file that does not say what the platform needs; the message says where and how."""


def validation_message(
    source: str, error: ValidationError, lines_of_keys: KeyLines | None = None
) -> str:
    """One line per problem: the file, the key (and its line when `lines_of_keys` knows it),
    what is wrong and the expected form."""
    lines = []
    for problem in error.errors():
        location = tuple(problem["loc"])
        where = dotted(location)
        line = None if lines_of_keys is None else _line_of(lines_of_keys, problem)
        if line is not None:
            where = f"line {line}: {where}"
        expected = _EXPECTED.get(problem["type"])
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "timezone_aware":
            message = f"{describe(problem['input'])} has no UTC offset"
        if problem["type"] == "missing":
            message = "required key is missing"
        elif (
            "input" in problem
            and problem["type"] not in {"extra_forbidden", "timezone_aware"}
            # a whole mapping (a rule about several of its keys): the key already names it
            and not isinstance(problem["input"], dict)
        ):
            message = f"{describe(problem['input'])}: {message}"
        text = f"{source}: {where}: {message}"
        if expected is not None and problem["type"] != "extra_forbidden":
            text += f"; expected {expected}"
        elif problem["type"] == "extra_forbidden":
            text = f"{source}: {where}: unknown key; {expected}"
        lines.append(text)
    return "\n".join(lines)


def _line_of(lines_of_keys: KeyLines, problem: ErrorDetails) -> int | None:
    location = tuple(problem["loc"])
    line = lines_of_keys.line_of(location)
    if line is None and problem["type"] == "missing":
        return lines_of_keys.line_of(location[:-1])  # the mapping that lacks the key
    return line


def validate(
    model: type[M],
    data: Any,  # noqa: ANN401 - parsed YAML
    source: str,
    lines_of_keys: KeyLines | None = None,
) -> M:
    if not isinstance(data, dict):
        raise RuleDataError(
            f"{source}: (top level): expected a mapping of keys, got {describe(data)}"
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RuleDataError(validation_message(source, exc, lines_of_keys)) from None


def _timestamps(versions: list[TimestampVersion]) -> Versioned[datetime]:
    return Versioned(tuple(Version(v.value, v.effective, v.announced) for v in versions))


def _cutoffs(versions: list[CutoffVersion]) -> Versioned[CardCutoff | None]:
    return Versioned(
        tuple(
            Version(
                None
                if v.value is None
                else CardCutoff(v.value.applied_by, v.value.applied_online_by),
                v.effective,
                v.announced,
            )
            for v in versions
        )
    )


def _measure_rule(code: Measure, raw: MeasureIn) -> MeasureRule:
    return MeasureRule(
        measure=code,
        phase=raw.phase,
        name_ja=raw.name_ja,
        name_en=raw.name_en,
        kind=raw.kind,
        announced=raw.announced,
        applications_open=raw.applications_open,
        applications_close=_timestamps(raw.applications_close),
        card_cutoff=_cutoffs(raw.card_cutoff),
        waiting_after_issuance=timedelta(hours=raw.waiting_after_issuance_hours),
        rate_percent=raw.rate_percent or 0,
        cap_group=raw.cap_group,
        fixed_points=raw.fixed_points or 0,
        spending_opens=raw.spending_opens,
        spending_closes=None if raw.spending_closes is None else _timestamps(raw.spending_closes),
        carries_into=raw.carries_into,
        notes=tuple(raw.notes),
    )


def _parse(text: str, source: str) -> Any:  # noqa: ANN401 - parsed YAML
    try:
        return parse_yaml(text, source)
    except SourceError as exc:
        raise RuleDataError(str(exc)) from None


def campaigns_from_text(text: str, source: str = CAMPAIGNS_FILE) -> CampaignRules:
    return campaigns_from_data(_parse(text, source), source)


def campaigns_from_data(
    data: Any,  # noqa: ANN401 - parsed YAML
    source: str,
    lines_of_keys: KeyLines | None = None,
) -> CampaignRules:
    """Campaign rules from a parsed document (e.g. a candidate merged over the rules in force);
    `lines_of_keys` lets an error name the line of the key it is about."""
    raw = validate(CampaignsIn, data, source, lines_of_keys)
    # In programme order, so "most recent first" (R8) is the reverse of this order.
    measures = {
        code: _measure_rule(code, raw.measures[code]) for code in Measure if code in raw.measures
    }
    frames = tuple(
        BudgetFrame(f.phase, f.yen, f.persons, f.announced) for f in raw.program.budget_frames
    )
    return CampaignRules(
        measures=measures,
        cap_groups=dict(raw.program.cap_groups),
        person_total_cap=raw.program.person_total_cap,
        budget_frames=frames,
    )


def _timing(raw: TimingIn) -> GrantTiming:
    if raw.rule == "at_event":
        return AtEvent()
    if raw.rule == "days_after":
        return DaysAfter(raw.days or 0, from_next_day=bool(raw.from_next_day))
    return Monthly(raw.day or 1, raw.months_after or 1)


def _code_format(raw: CodeFormatIn) -> CodeFormat:
    return CodeFormat(
        name_ja=raw.name_ja,
        name_en=raw.name_en,
        pattern=raw.pattern,
        example=raw.example,
        description_ja=raw.description_ja,
        description_en=raw.description_en,
    )


def catalog_from_text(text: str, source: str = CATALOG_FILE) -> Catalog:
    raw = validate(CatalogIn, _parse(text, source), source)
    operators = {code: Operator(code, op.name, op.name_en) for code, op in raw.operators.items()}
    services = {
        code: PaymentService(
            code=code,
            name=s.name,
            name_en=s.name_en,
            operator=operators[s.operator],
            category=s.category,
            counts=s.counts,
            timing={EventKind(kind): _timing(t) for kind, t in s.timing.items()},
            rounding=s.rounding,
            preregistration=s.preregistration,
            channels=frozenset(s.channels),
            measures=frozenset(s.measures),
            payment_service_id=_code_format(s.payment_service_id),
            security_codes=tuple(_code_format(c) for c in s.security_codes),
            expiry_ja=s.expiry_ja,
            expiry_en=s.expiry_en,
            closes_at=s.closes_at,
            keywords=tuple(s.keywords),
            assumptions=tuple(s.assumptions),
        )
        for code, s in raw.services.items()
    }
    return Catalog(services)


def _packaged(name: str) -> str:
    return resources.files("mynapoint.rules").joinpath(name).read_text(encoding="utf-8")


def packaged_campaigns_text() -> str:
    """The text of the campaign rules the platform runs on."""
    return _packaged(CAMPAIGNS_FILE)


@cache
def load_campaigns(path: Path | None = None) -> CampaignRules:
    """The campaign rules: the packaged file unless a path is given."""
    if path is None:
        return campaigns_from_text(_packaged(CAMPAIGNS_FILE))
    return campaigns_from_text(path.read_text(encoding="utf-8"), path.name)


@cache
def load_catalog(path: Path | None = None) -> Catalog:
    """The payment-service catalog: the packaged file unless a path is given."""
    if path is None:
        return catalog_from_text(_packaged(CATALOG_FILE))
    return catalog_from_text(path.read_text(encoding="utf-8"), path.name)
