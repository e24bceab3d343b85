"""Reading the public pages in tests: their main text, and Japanese left in English pages."""

from __future__ import annotations

import re
from html.parser import HTMLParser

JAPANESE = re.compile(r"[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
PUBLIC_PAGES = ["/", "/services", "/services/paypay", "/support-corners", "/help", "/open-data"]
# What a citizen must never read: codes, exception names, stack traces.
RAW_ERRORS = re.compile(
    r"Traceback|Exception|Error:|not_found|unknown_service|invalid_request|internal_error|"
    r"jinja2|StrictUndefined|\{\{|\{%"
)


class _Main(HTMLParser):
    """Collects the text of <main>, each piece with the language it is marked as."""

    def __init__(self, page_lang: str) -> None:
        super().__init__()
        self.stack: list[tuple[str, str]] = [("html", page_lang)]
        self.in_main = 0
        self.pieces: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "main":
            self.in_main += 1
        if tag in VOID:
            return
        lang = dict(attrs).get("lang") or self.stack[-1][1]
        self.stack.append((tag, lang))

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self.in_main -= 1
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data: str) -> None:
        if self.in_main:
            self.pieces.append((data, self.stack[-1][1]))


def main_pieces(html: str, page_lang: str) -> list[tuple[str, str]]:
    parser = _Main(page_lang)
    parser.feed(html)
    return parser.pieces


def main_text(html: str) -> str:
    """The text of <main> as a reader sees it, white space collapsed."""
    return " ".join("".join(text for text, _ in main_pieces(html, "ja")).split())


def japanese_not_marked(html: str) -> list[str]:
    """Text in <main> of an English page with Japanese in it but not inside lang="ja"."""
    return [
        text.strip()
        for text, lang in main_pieces(html, "en")
        if lang != "ja" and JAPANESE.search(text)
    ]


# A masked holder name as the operator registered it (ヤマダ タ**): a person's name, not text
# to translate.
HOLDER_NAME = re.compile(r"[\u30a1-\u30fa\u30fc]+ [\u30a1-\u30fa\u30fc]*\*+")
# The language switch names the other language in that language.
LANGUAGE_SWITCH = "日本語"
_VISIBLE_ATTRIBUTES = ("aria-label", "title", "alt", "placeholder")


class _Page(HTMLParser):
    """Every text a reader sees or hears: the body's text and the labelling attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = 0
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in {"script", "style", "title"}:
            self.hidden += 1
        self.texts.extend(v for k, v in found.items() if k in _VISIBLE_ATTRIBUTES and v)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "title"}:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.texts.append(data)


def japanese_left(html: str) -> list[str]:
    """Japanese an English page still shows, marked or not: nothing but the language switch
    and the operators' masked holder names may be."""
    parser = _Page()
    parser.feed(html)
    left = []
    for text in parser.texts:
        rest = HOLDER_NAME.sub("", text).replace(LANGUAGE_SWITCH, "")
        if JAPANESE.search(rest):
            left.append(text.strip())
    return left
