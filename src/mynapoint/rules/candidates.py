"""Candidate rules for the policy lab (issue 16): a campaigns file as policy staff would write
one, to replay the program's history under it, forecast its budget and read how it differs
from the rules in force.

A candidate is either a whole campaigns file (the shape of rules/campaigns.yaml) or, when it
starts with `extends: in-force`, only the keys it changes, merged over the packaged rules the
way JSON Merge Patch (RFC 7386) merges: a mapping is merged key by key, a list or a scalar
replaces the base's whole, and a key set to null is removed from the base (an optional key
then takes its default, e.g. `carries_into: null` carries nothing; a required one is reported
missing). Either way the result is checked by the same strict schema as the rules in force,
and an error names the file, the key and, where the candidate wrote that key, its line.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from mynapoint.domain.campaigns import CampaignRules
from mynapoint.rules.loader import (
    CAMPAIGNS_FILE,
    RuleDataError,
    campaigns_from_data,
    load_campaigns,
    packaged_campaigns_text,
)
from mynapoint.rules.schema import describe
from mynapoint.rules.yaml_source import MAX_EXPANDED_VALUES, KeyLines, SourceError, parse_yaml

IN_FORCE = "in-force"  # the name of the rules the platform runs on (the packaged file)
EXTENDS = "extends"  # the key that makes a candidate say only what it changes
PACKAGED_FOLDER = "candidates"  # rules/candidates/NAME.yaml, installed with the package
_SUFFIX = ".yaml"


@dataclass(frozen=True)
class Candidate:
    name: str  # the file's name, or IN_FORCE
    text: str  # as written (kept with a replay, so that it can be shown and run again)
    rules: CampaignRules


class UnknownCandidate(RuleDataError):
    """Neither a file nor a packaged candidate has that name; the message lists the names."""


def in_force() -> Candidate:
    return Candidate(IN_FORCE, packaged_campaigns_text(), load_campaigns())


def candidate_from_text(text: str, name: str) -> Candidate:
    """A candidate from its text; a RuleDataError says what is wrong and where."""
    try:
        data = parse_yaml(text, name, max_values=MAX_EXPANDED_VALUES)
    except SourceError as exc:
        raise RuleDataError(str(exc)) from None
    lines = KeyLines.of(text)
    if isinstance(data, dict) and EXTENDS in data:
        data = _over_in_force(data, name, lines)
    return Candidate(name, text, campaigns_from_data(data, name, lines))


def load_candidate(path: Path) -> Candidate:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleDataError(f"{path}: cannot read the rules file: {exc}") from None
    return candidate_from_text(text, path.name)


def packaged_candidates() -> tuple[str, ...]:
    """The names of the candidates shipped with the platform (rules/candidates/), sorted."""
    folder = resources.files("mynapoint.rules").joinpath(PACKAGED_FOLDER)
    return tuple(
        sorted(
            entry.name.removesuffix(_SUFFIX)
            for entry in folder.iterdir()
            if entry.name.endswith(_SUFFIX)
        )
    )


def packaged_candidate(name: str) -> Candidate:
    """A shipped candidate by name, e.g. `rate-20` (`rate-20.yaml` too)."""
    stem = name.removesuffix(_SUFFIX)
    if stem not in packaged_candidates():
        raise UnknownCandidate(f"{name!r} is not a packaged candidate; packaged: {_known_names()}")
    file = f"{stem}{_SUFFIX}"
    text = resources.files("mynapoint.rules").joinpath(PACKAGED_FOLDER, file)
    return candidate_from_text(text.read_text(encoding="utf-8"), file)


def resolve_candidate(name_or_path: str | Path) -> Candidate:
    """The rules a command line names: `in-force`, a file's path, or a packaged candidate's
    name (a file wins over a packaged candidate of the same name).

    For the command line only: it reads any file its user may read. A page takes a packaged
    candidate's name (packaged_candidate) or the text sent (candidate_from_text), never a path
    from a request."""
    given = str(name_or_path)
    if given == IN_FORCE:
        return in_force()
    path = Path(name_or_path)
    if path.is_file():
        return load_candidate(path)
    if path.parent == Path() and path.name.removesuffix(_SUFFIX) in packaged_candidates():
        return packaged_candidate(path.name)
    raise UnknownCandidate(
        f"{given!r}: no such rules file, nor a packaged candidate of that name; "
        f"give a path to a YAML file or one of: {_known_names()}"
    )


def _known_names() -> str:
    return ", ".join((IN_FORCE, *packaged_candidates()))


def _over_in_force(data: dict[Any, Any], name: str, lines: KeyLines) -> Any:  # noqa: ANN401
    base_name = data[EXTENDS]
    if base_name != IN_FORCE:
        line = lines.line_of((EXTENDS,))
        where = f"line {line}: {EXTENDS}" if line is not None else EXTENDS
        raise RuleDataError(
            f"{name}: {where}: {describe(base_name)} cannot be extended; write "
            f"`{EXTENDS}: {IN_FORCE}` (the packaged rules), or leave the key out and write a "
            "whole campaigns file"
        )
    changes = {key: value for key, value in data.items() if key != EXTENDS}
    return merged(parse_yaml(packaged_campaigns_text(), CAMPAIGNS_FILE), changes)


def merged(base: Any, changes: Any) -> Any:  # noqa: ANN401 - parsed YAML
    """`changes` over `base` as JSON Merge Patch (RFC 7386) does it; neither is modified."""
    if not isinstance(changes, dict):
        return changes
    out = dict(base) if isinstance(base, dict) else {}
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merged(out.get(key), value)
    return out
