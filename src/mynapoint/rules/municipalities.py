"""The municipalities reference data (municipalities.yaml), loaded strictly: an unknown key, a
code that is not six digits with its check digit, or a code listed twice is refused with a
message naming the file and the entry."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator

from mynapoint.domain.municipalities import Municipalities, Municipality, is_well_formed
from mynapoint.rules.loader import RuleDataError, validate
from mynapoint.rules.schema import Strict
from mynapoint.rules.yaml_source import SourceError, parse_yaml

MUNICIPALITIES_FILE = "municipalities.yaml"


def _jis_code(value: str) -> str:
    if not is_well_formed(value):
        raise ValueError(
            f"'{value}' is not a local government code; write six digits in quotes whose last "
            'is the check digit, e.g. "401331"'
        )
    return value


class MunicipalityIn(Strict):
    code: Annotated[str, AfterValidator(_jis_code)]
    name: str
    name_en: str


class MunicipalitiesIn(Strict):
    municipalities: list[MunicipalityIn]


def municipalities_from_text(text: str, source: str = MUNICIPALITIES_FILE) -> Municipalities:
    try:
        data = parse_yaml(text, source)
    except SourceError as exc:
        raise RuleDataError(str(exc)) from None
    parsed = validate(MunicipalitiesIn, data, source)
    known: dict[str, Municipality] = {}
    for number, raw in enumerate(parsed.municipalities):
        if raw.code in known:
            raise RuleDataError(
                f"{source}: municipalities[{number}].code '{raw.code}' is listed twice; "
                "list each code once"
            )
        known[raw.code] = Municipality(raw.code, raw.name, raw.name_en)
    return Municipalities(known)


@cache
def load_municipalities(path: Path | None = None) -> Municipalities:
    """The municipalities: the packaged file unless a path is given."""
    if path is None:
        text = (
            resources.files("mynapoint.rules")
            .joinpath(MUNICIPALITIES_FILE)
            .read_text(encoding="utf-8")
        )
        return municipalities_from_text(text)
    return municipalities_from_text(path.read_text(encoding="utf-8"), path.name)
