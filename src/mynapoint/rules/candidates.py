"""Candidate rules for the policy lab (issue 16): a campaigns file as policy staff would write
one, to replay the program's history under it, forecast its budget and read how it differs
from the rules in force."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mynapoint.domain.campaigns import CampaignRules
from mynapoint.rules.loader import (
    RuleDataError,
    campaigns_from_text,
    load_campaigns,
    packaged_campaigns_text,
)

IN_FORCE = "in-force"  # the name of the rules the platform runs on (the packaged file)


@dataclass(frozen=True)
class Candidate:
    name: str  # the file's name, or IN_FORCE
    text: str  # as written (kept with a replay, so that it can be shown and run again)
    rules: CampaignRules


def in_force() -> Candidate:
    return Candidate(IN_FORCE, packaged_campaigns_text(), load_campaigns())


def candidate_from_text(text: str, name: str) -> Candidate:
    """A candidate from its text; a RuleDataError says what is wrong and where."""
    return Candidate(name, text, campaigns_from_text(text, name))


def load_candidate(path: Path) -> Candidate:
    return candidate_from_text(path.read_text(encoding="utf-8"), path.name)


def resolve_candidate(name_or_path: str) -> Candidate:
    """A candidate named on the command line: `in-force`, or a file's path."""
    if name_or_path == IN_FORCE:
        return in_force()
    path = Path(name_or_path)
    try:
        return load_candidate(path)
    except OSError as exc:
        msg = f"cannot read the rules file {name_or_path}: {exc.strerror}"
        raise RuleDataError(msg) from None
