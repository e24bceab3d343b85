"""The shape of the rule files, checked strictly: unknown keys and naive timestamps fail."""

from __future__ import annotations

import itertools
import re
from datetime import date
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from mynapoint.domain.measures import Category, Channel, Counts, Measure, MeasureKind, Rounding


def _text_only(value: object) -> object:
    # A number is not a timestamp or a date here: refuse it instead of reading it as epoch seconds.
    if isinstance(value, int | float):
        raise ValueError(f"{value!r} is a number; write a date or timestamp as text")  # noqa: TRY004 - pydantic reports ValueError as a field error
    return value


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day_text(value: object) -> object:
    _text_only(value)
    if isinstance(value, str) and not _DAY.fullmatch(value.strip()):
        raise ValueError(f"{value!r} is not a date; write YYYY-MM-DD, e.g. 2021-04-30")
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_text_only)]
Day = Annotated[date, BeforeValidator(_day_text)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class VersionIn(Strict):
    effective: Day
    announced: Day
    note: str = ""


class TimestampVersion(VersionIn):
    value: Timestamp


class CutoffIn(Strict):
    applied_by: Day
    applied_online_by: Day | None = None

    @model_validator(mode="after")
    def _online_not_earlier(self) -> CutoffIn:
        if self.applied_online_by is not None and self.applied_online_by < self.applied_by:
            raise ValueError("applied_online_by must not be before applied_by")
        return self


class CutoffVersion(VersionIn):
    value: CutoffIn | None


V = TypeVar("V", bound=VersionIn)


def _ordered(versions: list[V]) -> list[V]:
    for earlier, later in itertools.pairwise(versions):
        if later.effective <= earlier.effective:
            raise ValueError(
                f"versions overlap: a version takes effect {later.effective.isoformat()}, "
                f"not after the one before it ({earlier.effective.isoformat()}); "
                "list versions in order of strictly increasing 'effective' dates"
            )
    return versions


class MeasureIn(Strict):
    phase: Literal["phase1", "phase2"]
    name_ja: str
    name_en: str
    kind: MeasureKind
    announced: Day
    applications_open: Timestamp
    applications_close: Annotated[list[TimestampVersion], Field(min_length=1)]
    card_cutoff: Annotated[list[CutoffVersion], Field(min_length=1)]
    waiting_after_issuance_hours: Annotated[int, Field(ge=0)]
    rate_percent: Annotated[int, Field(gt=0, le=100)] | None = None
    cap_group: str | None = None
    fixed_points: Annotated[int, Field(gt=0)] | None = None
    spending_opens: Timestamp | None = None
    spending_closes: list[TimestampVersion] | None = None
    carries_into: Measure | None = None
    notes: list[str] = []

    _order_close = field_validator("applications_close", "card_cutoff", "spending_closes")(
        lambda v: v if v is None else _ordered(v)
    )

    @model_validator(mode="after")
    def _fits_kind(self) -> MeasureIn:
        spending = (self.rate_percent, self.cap_group, self.spending_opens, self.spending_closes)
        if self.kind is MeasureKind.SPENDING:
            if any(value is None for value in spending):
                raise ValueError(
                    "a spending measure needs rate_percent, cap_group, spending_opens and "
                    "spending_closes"
                )
            if self.fixed_points is not None:
                raise ValueError("fixed_points belongs to fixed measures only")
        else:
            if self.fixed_points is None:
                raise ValueError("a fixed measure needs fixed_points")
            if any(value is not None for value in spending):
                raise ValueError(
                    "rate_percent, cap_group, spending_opens and spending_closes belong to "
                    "spending measures only"
                )
        for version in self.applications_close:
            if version.value <= self.applications_open:
                raise ValueError(
                    f"applications_close {version.value.isoformat()} is not after "
                    f"applications_open {self.applications_open.isoformat()}"
                )
        for version in self.spending_closes or []:
            assert self.spending_opens is not None  # noqa: S101 - checked above
            if version.value <= self.spending_opens:
                raise ValueError(
                    f"spending_closes {version.value.isoformat()} is not after "
                    f"spending_opens {self.spending_opens.isoformat()}"
                )
        return self


class BudgetFrameIn(Strict):
    phase: Literal["phase1", "phase2"]
    yen: Annotated[int, Field(gt=0)]
    persons: Annotated[int, Field(gt=0)]
    announced: Day
    note: str = ""


class ProgramIn(Strict):
    timezone: Literal["Asia/Tokyo"]
    person_total_cap: Annotated[int, Field(gt=0)]
    cap_groups: dict[str, Annotated[int, Field(gt=0)]]
    budget_frames: list[BudgetFrameIn] = []


class CampaignsIn(Strict):
    program: ProgramIn
    measures: dict[Measure, MeasureIn]

    @model_validator(mode="after")
    def _consistent(self) -> CampaignsIn:
        missing = [m.value for m in Measure if m not in self.measures]
        if missing:
            raise ValueError(f"measures: missing {', '.join(missing)}")
        rates: dict[str, tuple[Measure, int]] = {}  # cap group -> the first measure, its rate
        for code, measure in self.measures.items():
            if measure.cap_group is not None:
                if measure.cap_group not in self.program.cap_groups:
                    raise ValueError(
                        f"measures.{code.value}.cap_group '{measure.cap_group}' is not one of "
                        f"program.cap_groups ({', '.join(self.program.cap_groups)})"
                    )
                first, rate = rates.setdefault(measure.cap_group, (code, measure.rate_percent or 0))
                if rate != measure.rate_percent:
                    raise ValueError(
                        f"measures sharing cap group '{measure.cap_group}' must share one rate: "
                        f"measures.{first.value}.rate_percent is {rate}, "
                        f"measures.{code.value}.rate_percent is {measure.rate_percent}"
                    )
            if measure.carries_into is not None and measure.carries_into not in self.measures:
                raise ValueError(f"measures.{code.value}.carries_into names an unknown measure")
        most = sum(self.program.cap_groups.values()) + sum(
            m.fixed_points or 0 for m in self.measures.values()
        )
        if most > self.program.person_total_cap:
            raise ValueError(
                f"the caps add up to {most}, above program.person_total_cap "
                f"{self.program.person_total_cap}"
            )
        return self


# --- the service catalog ---------------------------------------------------------------


class TimingIn(Strict):
    rule: Literal["at_event", "days_after", "monthly"]
    days: Annotated[StrictInt, Field(ge=0)] | None = None
    from_next_day: StrictBool | None = None
    day: Annotated[StrictInt, Field(ge=1, le=31)] | None = None
    # At least the next month: a grant is never dated before what earned it.
    months_after: Annotated[StrictInt, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _fits_rule(self) -> TimingIn:
        keys = {"days_after": {"days", "from_next_day"}, "monthly": {"day", "months_after"}}
        allowed = keys.get(self.rule, set())
        given = {
            k
            for k in ("days", "from_next_day", "day", "months_after")
            if getattr(self, k) is not None
        }
        if given - allowed:
            raise ValueError(
                f"rule {self.rule} takes {', '.join(sorted(allowed)) or 'no other keys'}, "
                f"not {', '.join(sorted(given - allowed))}"
            )
        if self.rule == "days_after" and self.days is None:
            raise ValueError("rule days_after needs days")
        if self.rule == "monthly" and self.day is None:
            raise ValueError("rule monthly needs day (1-31)")
        return self


class CodeFormatIn(Strict):
    name_ja: str
    name_en: str
    pattern: str
    example: str
    description_ja: str = ""
    description_en: str = ""

    @model_validator(mode="after")
    def _pattern_fits_example(self) -> CodeFormatIn:
        try:
            compiled = re.compile(self.pattern)
        except re.error as exc:
            raise ValueError(
                f"pattern {self.pattern!r} is not a regular expression: {exc}"
            ) from None
        if compiled.fullmatch(self.example) is None:
            raise ValueError(f"example {self.example!r} does not match pattern {self.pattern!r}")
        return self


class OperatorIn(Strict):
    name: str
    name_en: str = ""  # the English pages show the Japanese name when this is empty


def _unique(values: list[Any]) -> list[Any]:
    repeated = sorted({str(v) for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"{', '.join(repeated)} listed more than once")
    return values


_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")


def _code(value: str) -> str:
    if not _CODE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a code; use lower-case letters, digits and _, e.g. rakuten_edy"
        )
    return value


Code = Annotated[str, AfterValidator(_code)]


class ServiceIn(Strict):
    name: str
    name_en: str
    operator: str
    category: Category
    counts: Counts
    timing: dict[Literal["charge", "purchase"], TimingIn]
    rounding: Rounding = Rounding.CUMULATIVE
    preregistration: StrictBool
    channels: Annotated[list[Channel], Field(min_length=1), AfterValidator(_unique)]
    measures: Annotated[list[Measure], Field(min_length=1), AfterValidator(_unique)]
    payment_service_id: CodeFormatIn
    security_codes: Annotated[list[CodeFormatIn], Field(min_length=1)]
    expiry_ja: str
    expiry_en: str
    closes_at: Timestamp | None = None
    keywords: Annotated[list[str], AfterValidator(_unique)] = []
    assumptions: list[str] = []

    @model_validator(mode="after")
    def _timing_for_what_counts(self) -> ServiceIn:
        needed = {"charge", "purchase"} if self.counts is Counts.PICK else {self.counts.value}
        given = set(self.timing)
        if given != needed:
            raise ValueError(
                f"timing must have exactly the keys {sorted(needed)} for counts "
                f"'{self.counts.value}', not {sorted(given)}"
            )
        return self


class CatalogIn(Strict):
    operators: dict[Code, OperatorIn]
    services: dict[Code, ServiceIn]

    @model_validator(mode="after")
    def _operators_known(self) -> CatalogIn:
        for code, service in self.services.items():
            if service.operator not in self.operators:
                raise ValueError(
                    f"services.{code}.operator '{service.operator}' is not one of operators "
                    f"({', '.join(self.operators)})"
                )
        return self


def describe(value: Any) -> str:  # noqa: ANN401 - any parsed YAML value
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
