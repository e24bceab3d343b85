"""Every rule a comment, test or page cites is in the project's own docs/RULES.md.

The code cites the program's rules by number (R14) and the rules summary by section
(RULES.md §6); a newcomer must find each in the project itself, not in a document it does
not ship.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "docs" / "RULES.md"
SCANNED = ("src", "tests", "examples", "docs", "bench", "reliability", "README.md")
SKIPPED_PARTS = {"vendor", "__pycache__", "locales"}
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".html", ".txt", ".csv", ".toml", ".po"}

RULE = re.compile(r"\bR(\d{1,3})\b")
SECTION = re.compile(r"\bRULES(?:\.md)?\s*§(\d+)")
FOREIGN = re.compile(r"\bDOMAIN(?:\.md|\s+R\d|\s*§)")


def _scanned_files() -> list[Path]:
    found: list[Path] = []
    for name in SCANNED:
        path = ROOT / name
        candidates = [path] if path.is_file() else sorted(path.rglob("*"))
        found.extend(
            candidate
            for candidate in candidates
            if candidate.is_file()
            and candidate.suffix in TEXT_SUFFIXES
            and not SKIPPED_PARTS & set(candidate.relative_to(ROOT).parts)
            and candidate != RULES
            and candidate != Path(__file__).resolve()
        )
    return found


def _rules_text() -> str:
    return RULES.read_text(encoding="utf-8")


def test_rules_md_numbers_the_rules_r1_to_r19_once_each() -> None:
    numbers = [int(n) for n in re.findall(r"^\| R(\d+) \|", _rules_text(), flags=re.MULTILINE)]
    assert numbers == list(range(1, 20))


def test_every_cited_rule_number_is_a_rule_of_rules_md() -> None:
    known = set(re.findall(r"^\| R(\d+) \|", _rules_text(), flags=re.MULTILINE))
    unknown = [
        f"{path.relative_to(ROOT)}:{number}: R{cited}"
        for path in _scanned_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for cited in RULE.findall(line)
        if cited not in known
    ]
    assert unknown == []


def test_every_cited_section_is_a_section_of_rules_md() -> None:
    sections = set(re.findall(r"^## §(\d+) ", _rules_text(), flags=re.MULTILINE))
    assert sections == {str(n) for n in range(1, 9)}
    unknown = [
        f"{path.relative_to(ROOT)}:{number}: §{cited}"
        for path in _scanned_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for cited in SECTION.findall(line)
        if cited not in sections
    ]
    assert unknown == []


def test_nothing_cites_a_domain_document_the_project_does_not_ship() -> None:
    foreign = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _scanned_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if FOREIGN.search(line)
    ]
    assert foreign == []


@pytest.mark.parametrize(
    "cited",
    sorted(
        set(
            re.findall(
                r"`((?:domain|services|jpki|rules|web)/[\w/.]+\.(?:py|yaml))`",
                RULES.read_text(encoding="utf-8"),
            )
        )
    ),
)
def test_every_module_rules_md_points_to_exists(cited: str) -> None:
    assert (ROOT / "src" / "mynapoint" / cited).is_file()
