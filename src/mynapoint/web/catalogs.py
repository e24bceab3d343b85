"""Which page texts lack a translation: `python -m mynapoint.web.catalogs [LOCALE]`.

Extracts every message the pages use (`_()`, `N_()`, `ngettext`, `pgettext` in web/**.py;
`_()` and `{% trans %}` in the templates) with Babel's extractors, and prints those that no
`locales/LOCALE/LC_MESSAGES/*.po` translates, as .po entries to paste into the area's file.
`make messages` runs it; tests/unit/test_messages.py fails while anything is missing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from mynapoint.web.i18n import CATALOGS

WEB = Path(__file__).parent
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}
METHODS = [("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}


def used_messages() -> dict[str, list[str]]:
    """Each message id the pages use, with the places that use it (file:line)."""
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        WEB, METHODS, OPTIONS, keywords=KEYWORDS
    ):
        ids = message if isinstance(message, tuple) else (message,)
        for msgid in ids:
            if msgid:
                found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def translated(locale: str) -> set[str]:
    ids: set[str] = set()
    for po in sorted((CATALOGS / locale / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as source:
            catalog = read_po(source, locale=locale)
        for entry in catalog:
            if not entry.id:
                continue
            strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
            if all(strings) and not entry.fuzzy:
                ids.update(entry.id if isinstance(entry.id, tuple) else (str(entry.id),))
    return ids


def missing(locale: str) -> dict[str, list[str]]:
    done = translated(locale)
    return {msgid: where for msgid, where in used_messages().items() if msgid not in done}


def _po_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main() -> int:
    locale = sys.argv[1] if len(sys.argv) > 1 else "en"
    gaps = missing(locale)
    for msgid, where in sorted(gaps.items(), key=lambda item: item[1][0]):
        sys.stdout.write(f'#: {" ".join(where)}\nmsgid {_po_string(msgid)}\nmsgstr ""\n\n')
    sys.stderr.write(f"# {len(gaps)} message(s) without a {locale} translation\n")
    return 1 if gaps else 0


if __name__ == "__main__":
    raise SystemExit(main())
