"""Every text the pages show has an English translation (Japanese is the source)."""

from __future__ import annotations

from mynapoint.web import i18n
from mynapoint.web.catalogs import missing, used_messages


def test_the_pages_use_messages_at_all():
    assert "マイナポイント" in used_messages()


def test_every_message_has_an_english_translation():
    gaps = missing("en")
    assert gaps == {}, "run `make messages` and translate:\n" + "\n".join(
        f"{where[0]}: {msgid}" for msgid, where in gaps.items()
    )


def test_japanese_is_the_source_and_english_comes_from_the_catalog():
    token = i18n.use_locale("en")
    try:
        assert i18n._("マイナポイント") == "Mynapoint"
    finally:
        i18n.reset_locale(token)
    assert i18n._("マイナポイント") == "マイナポイント"


def test_dates_and_amounts_are_written_as_the_reader_expects():
    from datetime import date  # noqa: PLC0415

    assert i18n.long_date(date(2021, 9, 30)) == "2021年9月30日(木)"
    assert i18n.yen(5000) == "5,000円"
    token = i18n.use_locale("en")
    try:
        assert i18n.long_date(date(2021, 9, 30)) == "Thu, 30 Sep 2021"
        assert i18n.yen(5000) == "¥5,000"
        assert i18n.yen(-250) == "-¥250"
    finally:
        i18n.reset_locale(token)
