"""The public pages can be read in English: no Japanese text outside the catalog.

Every Japanese character in a public template must be inside `_()` / `ngettext()` /
`pgettext()` or a `{% trans %}` block, and every Japanese string in a public page module
inside `_()` / `N_()` / `pgettext()`: anything else could never be translated.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

WEB = Path(__file__).parents[2] / "src" / "mynapoint" / "web"
TEMPLATES = [
    "home.html",
    "corners.html",
    "services.html",
    "services_results.html",
    "services_count.html",
    "services_detail.html",
    "help.html",
    "public_parts.html",
]
MODULES = ["home.py", "corners.py", "services.py", "help.py", "deadlines.py", "opening_times.py"]
TRANSLATING = {"_", "N_", "gettext", "ngettext", "pgettext"}

JAPANESE = re.compile(r"[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
_STRING = r"""(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
_CALL = re.compile(rf"\b(?:_|gettext|ngettext|pgettext)\(\s*{_STRING}(?:\s*,\s*{_STRING})*")
_TRANS_BLOCK = re.compile(r"\{%-?\s*trans\b.*?%\}.*?\{%-?\s*endtrans\s*-?%\}", re.DOTALL)
_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)


def untranslatable_lines(source: str) -> list[str]:
    """The lines of a template with Japanese outside `_()` and `{% trans %}`."""

    def blank(found: re.Match[str]) -> str:
        # Keep the line count, so a problem is reported on its own line.
        return "\n" * found.group().count("\n")

    stripped = _TRANS_BLOCK.sub(blank, _COMMENT.sub(blank, source))
    stripped = _CALL.sub(lambda m: "_(" + blank(m), stripped)
    originals = source.splitlines()
    return [
        f"{number}: {originals[number - 1].strip()}"
        for number, line in enumerate(stripped.splitlines(), start=1)
        if JAPANESE.search(line)
    ]


def untranslatable_strings(source: str) -> list[str]:
    """Japanese string constants of a module that no translation call wraps (docstrings aside)."""
    tree = ast.parse(source)
    wrapped: set[int] = set()
    docstrings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name in TRANSLATING:
                wrapped.update(id(arg) for arg in node.args)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [
        f"{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and JAPANESE.search(node.value)
        and id(node) not in wrapped
        and id(node) not in docstrings
    ]


@pytest.mark.parametrize("name", TEMPLATES)
def test_a_public_template_has_no_japanese_outside_the_catalog(name):
    source = (WEB / "templates" / name).read_text(encoding="utf-8")
    assert untranslatable_lines(source) == []


@pytest.mark.parametrize("name", MODULES)
def test_a_public_page_module_has_no_japanese_outside_the_catalog(name):
    source = (WEB / "pages" / name).read_text(encoding="utf-8")
    assert untranslatable_strings(source) == []


@pytest.mark.parametrize(
    ("template", "problems"),
    [
        ('<p>{{ _("申込み") }}</p>', []),
        ("<p>{% trans %}申込み{% endtrans %}</p>", []),
        ("<p>{% trans count=n %}\n{{ count }}件\n{% pluralize %}件{% endtrans %}</p>", []),
        ("{# 日本語のコメント #}<p>ok</p>", []),
        ('<p>{{ ngettext("%(num)s件", "%(num)s件", n) }}</p>', []),
        ('<p>{{ pgettext("list", "、") }}</p>', []),
        ("<p>申込み</p>", ["1: <p>申込み</p>"]),
        ('<p>{{ _("ok") }}(注)</p>', ['1: <p>{{ _("ok") }}(注)</p>']),
        ('<p title="受付">x</p>', ['1: <p title="受付">x</p>']),
    ],
)
def test_the_check_finds_japanese_outside_the_catalog_and_only_there(template, problems):
    assert untranslatable_lines(template) == problems


def test_the_module_check_finds_a_bare_japanese_string_but_not_a_wrapped_one():
    source = (
        '"""モジュールの説明。"""\nA = N_("受付")\nB = "受付中"\nC = _("{x}まで").format(x=1)\n'
    )
    assert untranslatable_strings(source) == ["3: '受付中'"]
