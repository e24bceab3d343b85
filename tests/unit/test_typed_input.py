"""What a person types on a page, read as they meant it (web/typed_input.py)."""

from __future__ import annotations

import pytest

from mynapoint.domain.services import CodeFormat
from mynapoint.web.typed_input import plain, typed_code, typed_digits


def _format(pattern: str) -> CodeFormat:
    return CodeFormat(name_ja="ID", name_en="ID", pattern=pattern, example="")


SIXTEEN_DIGITS = [_format("[0-9]{16}")]
FOUR_DIGITS = [_format("[0-9]{4}")]
PASSWORD = [_format("[!-~]{8,20}")]
DOCOMO_ID = [_format("[0-9A-Za-z][0-9A-Za-z._+@-]{2,63}")]
CARD_AND_EXPIRY = [_format("[0-9]{4}"), _format("(0[1-9]|1[0-2])[0-9]{2}")]


@pytest.mark.parametrize(
    ("typed", "formats", "read"),
    [
        ("1234567890123456", SIXTEEN_DIGITS, "1234567890123456"),
        ("１２３４５６７８９０１２３４５６", SIXTEEN_DIGITS, "1234567890123456"),
        ("1234 5678 9012 3456", SIXTEEN_DIGITS, "1234567890123456"),
        ("1234\u30005678\u30009012\u30003456", SIXTEEN_DIGITS, "1234567890123456"),  # 全角スペース
        ("1234-5678-9012-3456", SIXTEEN_DIGITS, "1234567890123456"),
        ("１２３４－５６７８－９０１２－３４５６", SIXTEEN_DIGITS, "1234567890123456"),
        ("1234ー5678ー9012ー3456", SIXTEEN_DIGITS, "1234567890123456"),  # the long-vowel mark
        ("  1234567890123456 ", SIXTEEN_DIGITS, "1234567890123456"),
        ("１２３４", FOUR_DIGITS, "1234"),
        # A hyphen the format takes is kept: it is part of the code, not a separator.
        ("pass-word1", PASSWORD, "pass-word1"),
        ("ｐａｓｓ－ｗｏｒｄ１", PASSWORD, "pass-word1"),
        ("taro-docomo@example.jp", DOCOMO_ID, "taro-docomo@example.jp"),
        # Several codes in one field: joined by '-', whatever separated them.
        ("1234-0825", CARD_AND_EXPIRY, "1234-0825"),
        ("1234 0825", CARD_AND_EXPIRY, "1234-0825"),
        ("１２３４ー０８２５", CARD_AND_EXPIRY, "1234-0825"),
        # Nothing fits: the plain form, which the format check refuses with the expected form.
        ("12345", SIXTEEN_DIGITS, "12345"),
        ("１２３ ４５", SIXTEEN_DIGITS, "123 45"),
        ("一二三四", FOUR_DIGITS, "一二三四"),
    ],
)
def test_an_id_or_code_is_read_in_the_form_its_format_takes(typed, formats, read):
    assert typed_code(typed, formats) == read


@pytest.mark.parametrize(
    ("typed", "read"),
    [("1234", "1234"), ("１２３４", "1234"), ("12 34", "1234"), (" １２－３４ ", "1234"), ("", "")],
)
def test_a_pin_is_read_as_its_digits(typed, read):
    assert typed_digits(typed) == read


def test_plain_text_is_nfkc_and_trimmed():
    assert plain("\u3000ｃｈｕｏ－ｓｔａｆｆ ") == "chuo-staff"
