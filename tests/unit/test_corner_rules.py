"""The packaged corner file says what docs/RULES.md §6 says, and a broken corner file is refused."""

from __future__ import annotations

from datetime import date, time
from importlib import resources
from typing import get_args

import pytest

from mynapoint.domain.office_hours import DAY_NAMES, DayHours, Span
from mynapoint.rules.corner_schema import DayName
from mynapoint.rules.corners import (
    NationalHolidays,
    UnknownCorner,
    directory_from_texts,
    load_corner_directory,
)
from mynapoint.rules.loader import RuleDataError

SOURCE = "corners/fukuoka.yaml"
PACKAGED = (
    resources.files("mynapoint.rules").joinpath("corners/fukuoka.yaml").read_text(encoding="utf-8")
)

# A second city, as another city would add it: its own file, its own codes.
OTHER_CITY = """\
city: {code: example, name: 例示市, source: 例示市の案内, updated_on: 2021-05-01}
period: {first_day: 2021-05-01, last_day: 2021-06-30}
hours:
  - {days: [mon, wed, fri, sat], opens: "10:00", closes: "16:00"}
corners:
  - {code: example_honcho, name: 例示市役所, ward: 本町, address: 例示市本町1-1}
contact:
  department: 市民課
  address: 例示市本町1-1
  tel: 0120-000-000
  fax: 0120-000-001
  email: shimin@example.jp
"""


def with_change(old: str, new: str, text: str = PACKAGED) -> str:
    """The text with one precise fragment replaced; the fragment must occur once."""
    assert text.count(old) == 1, f"fragment not found exactly once: {old!r}"
    return text.replace(old, new)


def load(text: str) -> None:
    directory_from_texts({SOURCE: text})


# --- what the packaged file says -------------------------------------------------------------


def test_the_packaged_corners_are_those_of_the_city_page():
    corners = {c.code: c for c in load_corner_directory().corners()}
    assert {c: (x.name, x.ward, x.address) for c, x in corners.items()} == {
        "higashi": ("東区役所", "東区", "福岡市東区箱崎二丁目54-1"),
        "hakata": ("博多区役所", "博多区", "福岡市博多区博多駅前二丁目9-3"),
        "chuo": ("中央区役所", "中央区", "福岡市中央区大名二丁目5-31"),
        "minami": ("南区役所", "南区", "福岡市南区塩原三丁目25-1"),
        "jonan": ("城南区役所", "城南区", "福岡市城南区鳥飼六丁目1-1"),
        "sawara": ("早良区役所", "早良区", "福岡市早良区百道二丁目1-1"),
        "sawara_irube": ("早良区入部出張所", "早良区", "福岡市早良区東入部二丁目14-8"),
        "nishi": ("西区役所", "西区", "福岡市西区内浜一丁目4-1"),
        "nishi_seibu": ("西区西部出張所(さいとぴあ内)", "西区", "福岡市西区西都二丁目1-1"),
    }


def test_corners_open_weekdays_845_to_1715_and_irube_closes_for_lunch():
    usual = DayHours(time(8, 45), time(17, 15))
    lunch = DayHours(time(8, 45), time(17, 15), (Span(time(12), time(13)),))
    for corner in load_corner_directory().corners():
        hours = corner.hours
        assert (hours.first_day, hours.last_day) == (date(2021, 4, 1), date(2021, 9, 30))
        assert set(hours.weekly) == {0, 1, 2, 3, 4}
        assert hours.on_holidays is None
        expected = lunch if corner.code == "sawara_irube" else usual
        assert set(hours.weekly.values()) == {expected}


def test_the_city_page_facts_are_kept():
    directory = load_corner_directory()
    (fukuoka,) = directory.cities
    assert fukuoka.name == "福岡市"
    assert any("市役所本庁舎" in note for note in fukuoka.notes)
    assert fukuoka.bring[0].item == "マイナンバーカード"
    assert fukuoka.contact.department == "総務企画局 ICT戦略室 ICT推進課"
    assert fukuoka.contact.address == "福岡市中央区天神1丁目8の1"
    assert (fukuoka.contact.tel, fukuoka.contact.fax) == ("092-711-4105", "092-733-5582")
    assert fukuoka.contact.email == "ictpromotion.GAPB@city.fukuoka.lg.jp"
    line = directory.help_line
    assert line.name == "マイナンバー総合フリーダイヤル"
    assert [n.number for n in line.numbers] == ["0120-95-0178", "050-3627-0952"]
    assert line.numbers[0].tel_uri == "tel:0120950178"
    assert line.hours.weekly[0] == DayHours(time(9, 30), time(20))
    assert line.hours.weekly[5] == line.hours.on_holidays == DayHours(time(9, 30), time(17, 30))


def test_an_unknown_corner_code_is_not_found():
    with pytest.raises(UnknownCorner) as raised:
        load_corner_directory().get("tenjin")
    assert raised.value.code == "not_found"
    assert "'tenjin'" in raised.value.message


def test_another_city_adds_its_own_file():
    directory = directory_from_texts({SOURCE: PACKAGED, "corners/example.yaml": OTHER_CITY})
    assert [c.code for c in directory.cities] == ["example", "fukuoka"]  # files in name order
    assert len(directory.corners()) == 10
    example = directory.get("example_honcho")
    assert set(example.hours.weekly) == {0, 2, 4, 5}
    # The help line is national: a city may leave it out.
    packaged = load_corner_directory().help_line
    assert (directory.help_line.name, directory.help_line.numbers) == (
        packaged.name,
        packaged.numbers,
    )
    assert directory.help_line.hours.weekly == packaged.hours.weekly


# --- a broken file is refused, saying where and what is expected ------------------------------


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "    ward: 中央区\n",
            "    ward: 中央区\n    floor: 1\n",
            "corners/fukuoka.yaml: corners[2].floor: unknown key",
        ),
        (
            'opens: "08:45"\n    closes: "17:15"\n\ncorners',
            'opens: "8:45am"\n    closes: "17:15"\n\ncorners',
            "hours[0].opens: '8:45am': not a time of day; write HH:MM in quotes",
        ),
        (
            'opens: "08:45"\n    closes: "17:15"\n\ncorners',
            'opens: "08:45"\n    closes: "25:00"\n\ncorners',
            "hours[0].closes: '25:00': not a time of day; write HH:MM in quotes, e.g. \"08:45\"",
        ),
        (
            'opens: "08:45"\n    closes: "17:15"\n\ncorners',
            'opens: 8:45\n    closes: "17:15"\n\ncorners',
            (
                "hours[0].opens: 525: a number, not a time of day (YAML reads an unquoted H:MM "
                'as minutes); write it in quotes, e.g. "08:45"'
            ),
        ),
        (
            '{starts: "12:00", ends: "13:00"}',
            '{starts: "12:00", ends: "18:00"}',
            (
                "corners[6].hours[0].breaks: [{'starts': '12:00', 'ends': '18:00'}]: the break "
                "12:00-18:00 is not inside the hours 08:45-17:15"
            ),
        ),
        (
            '{starts: "12:00", ends: "13:00"}',
            '{starts: "08:00", ends: "09:00"}',
            "the break 08:00-09:00 is not inside the hours 08:45-17:15",
        ),
        (
            '{starts: "12:00", ends: "13:00"}',
            '{starts: "13:00", ends: "12:00"}',
            (
                "corners[6].hours[0].breaks[0].ends: '12:00': the break ends at 12:00, "
                "not after it starts 13:00"
            ),
        ),
        (
            'opens: "08:45"\n    closes: "17:15"\n\ncorners',
            'opens: "17:15"\n    closes: "08:45"\n\ncorners',
            "hours[0].closes: '08:45': closes at 08:45, not after it opens at 17:15",
        ),
        (
            "days: [mon, tue, wed, thu, fri]\n    opens",
            "days: [mon, tue, wed, thu, fry]\n    opens",
            (
                "hours[0].days[4]: 'fry': Input should be 'mon', 'tue', 'wed', 'thu', 'fri', "
                "'sat', 'sun' or 'holiday'"
            ),
        ),
        (
            "  last_day: 2021-09-30",
            "  last_day: 2021-03-31",
            "period.last_day: '2021-03-31': before first_day 2021-04-01",
        ),
        (
            "  - code: nishi\n",
            "  - code: chuo\n",
            "corners[7].code: 'chuo' is also the code of corners[2]; give each corner its own code",
        ),
        (
            "  tel: 092-711-4105",
            "  tel: 0927114105",
            "contact.tel: '0927114105': expected the form of e.g. 092-711-4105",
        ),
        (
            "  email: ictpromotion.GAPB@city.fukuoka.lg.jp",
            "  email: ictpromotion",
            "contact.email: 'ictpromotion': expected the form of e.g.",
        ),
        (
            "  fax: 092-733-5582\n",
            "",
            "contact.fax: required key is missing",
        ),
        (
            "  code: fukuoka",
            "  code: fukuoka\n  code: hakata",
            "key 'code' appears twice",
        ),
    ],
)
def test_a_broken_corner_file_is_refused_with_a_message_naming_the_place(old, new, message):
    with pytest.raises(RuleDataError) as raised:
        load(with_change(old, new))
    assert str(raised.value).startswith(SOURCE)
    assert message in str(raised.value)


def test_a_day_named_in_two_entries_is_refused():
    text = with_change(
        '  - days: [mon, tue, wed, thu, fri]\n    opens: "08:45"\n    closes: "17:15"\n\n',
        '  - days: [mon, tue, wed, thu, fri]\n    opens: "08:45"\n    closes: "17:15"\n'
        '  - days: [fri, sat]\n    opens: "09:00"\n    closes: "12:00"\n\n',
    )
    with pytest.raises(RuleDataError, match="fri named in more than one entry"):
        load(text)


def test_two_cities_may_not_share_a_corner_code():
    other = with_change("code: example_honcho", "code: chuo", OTHER_CITY)
    with pytest.raises(RuleDataError) as raised:
        directory_from_texts({SOURCE: PACKAGED, "corners/example.yaml": other})
    assert str(raised.value) == (
        "corners/fukuoka.yaml: corners[2].code: 'chuo' is also a corner of "
        "corners/example.yaml; corner codes must be unique across cities"
    )


def test_two_files_may_not_give_different_help_lines():
    other = OTHER_CITY + with_change(
        "  name: マイナンバー総合フリーダイヤル",
        "  name: 別のダイヤル",
        PACKAGED[PACKAGED.index("help_line:") : PACKAGED.index("# 福岡市の")],
    )
    with pytest.raises(RuleDataError, match="help_line: differs from the one in"):
        directory_from_texts({SOURCE: PACKAGED, "corners/example.yaml": other})


def test_some_file_must_give_the_help_line():
    with pytest.raises(RuleDataError, match="no file gives help_line"):
        directory_from_texts({"corners/example.yaml": OTHER_CITY})


def test_no_files_at_all_is_refused():
    with pytest.raises(RuleDataError, match="no corner files"):
        directory_from_texts({})


def test_a_file_that_is_not_yaml_is_refused():
    with pytest.raises(RuleDataError, match=r"corners/fukuoka.yaml: line \d+, column \d+"):
        load("city: [unclosed\n")


def test_a_file_that_is_not_a_mapping_is_refused():
    with pytest.raises(RuleDataError, match="expected a mapping of keys"):
        load("- just\n- a list\n")


def test_national_holidays_have_japanese_names_and_fill_other_years_on_lookup():
    holidays = NationalHolidays([2021])
    assert holidays.get(date(2021, 8, 9)) == "振替休日"
    assert holidays.get(date(2021, 8, 11)) is None
    assert len(holidays) == 17
    assert holidays.get(date(2020, 7, 24)) == "スポーツの日"  # the 2020 Olympic move
    assert holidays.get(date(2022, 7, 18)) == "海の日"
    assert len(holidays) > 17


def test_the_file_names_the_days_as_the_domain_does():
    assert get_args(DayName) == DAY_NAMES
