"""docs/GLOSSARY.md: one English word per Japanese term, in the catalogs and the reference data."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).parents[2]
GLOSSARY = ROOT / "docs" / "GLOSSARY.md"
CATALOGS = ROOT / "src" / "mynapoint" / "web" / "locales" / "en" / "LC_MESSAGES"
RULES = ROOT / "src" / "mynapoint" / "rules"


def never_written() -> list[str]:
    """The first column of the glossary's table under "## Never write"."""
    section = GLOSSARY.read_text(encoding="utf-8").split("## Never write", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    return [row.split("|")[1].strip() for row in rows[1:]]  # the header row off


def english_texts() -> dict[str, str]:
    """Every English text a page may show: each msgstr, and each English field of the data."""
    found = {}
    for po in sorted(CATALOGS.glob("*.po")):
        with po.open("rb") as source:
            for entry in read_po(source, locale="en"):
                strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
                for text in strings:
                    found[f"{po.name}: {entry.id!r}"] = text
    english_field = re.compile(r"^\s*(?:\w+_en|en):\s*(.+)$")
    for data in sorted(RULES.rglob("*.yaml")):
        for number, line in enumerate(data.read_text(encoding="utf-8").splitlines(), 1):
            match = english_field.match(line)
            if match:
                found[f"{data.name}:{number}"] = match[1]
    return found


def test_the_glossary_lists_forms_never_to_write():
    assert "My Number Point" in never_written()


def test_no_english_text_uses_a_form_the_glossary_rejects():
    rejected = never_written()
    uses = {
        where: form
        for where, text in english_texts().items()
        for form in rejected
        if re.search(rf"\b{re.escape(form)}\b", text)
    }
    assert uses == {}


def test_the_program_is_mynapoint_and_the_card_is_the_my_number_card():
    texts = english_texts()
    assert texts["common.po: 'マイナポイント'"] == "Mynapoint"
    assert all("My Number card" not in text for text in texts.values())
