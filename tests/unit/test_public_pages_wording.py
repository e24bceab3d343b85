"""The public pages' pure helpers: hours and open-now in words, calendars, deadlines, search."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time

import pytest

from mynapoint.domain.calendar import JST
from mynapoint.domain.measures import Category, Channel, Counts, Measure
from mynapoint.domain.services import AtEvent, DaysAfter, Monthly
from mynapoint.rules.corners import directory_from_texts, load_corner_directory
from mynapoint.rules.loader import RuleDataError
from mynapoint.web import i18n
from mynapoint.web.api.campaigns import campaign_out
from mynapoint.web.pages.corners import CornerFilter, corner_filter, month_url, parse_month
from mynapoint.web.pages.deadlines import (
    current_spending,
    deadline_changes,
    deadline_view,
    in_force_text,
)
from mynapoint.web.pages.home import Offer, spending_offer
from mynapoint.web.pages.opening_times import (
    State,
    days_text,
    lang_of,
    localized,
    moment,
    month_calendar,
    month_to_show,
    status,
    time_of_day,
    weekly_lines,
)
from mynapoint.web.pages.services import SearchForm, search_form, timing_text

CORNERS = load_corner_directory()
FUKUOKA = CORNERS.cities[0]
IRUBE = CORNERS.get("sawara_irube")


@pytest.fixture
def english():
    token = i18n.use_locale("en")
    yield
    i18n.reset_locale(token)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=JST)


# --- times and days -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "japanese", "english"),
    [
        (time(8, 45), "午前8時45分", "8:45"),
        (time(0, 0), "午前0時", "0:00"),
        (time(9, 30), "午前9時30分", "9:30"),
        (time(12, 0), "午後0時", "12:00"),
        (time(17, 15), "午後5時15分", "17:15"),
        (time(20, 0), "午後8時", "20:00"),
    ],
)
def test_a_time_of_day_reads_as_the_city_writes_it_and_as_english_expects(value, japanese, english):
    assert time_of_day(value) == japanese
    token = i18n.use_locale("en")
    try:
        assert time_of_day(value) == english
    finally:
        i18n.reset_locale(token)


@pytest.mark.parametrize(
    ("days", "long", "japanese", "english"),
    [
        (["mon", "tue", "wed", "thu", "fri"], True, "月曜日から金曜日", "Monday to Friday"),
        (["mon", "tue", "wed", "thu", "fri"], False, "平日", "Weekdays"),
        (["sat", "sun", "holiday"], False, "土日祝", "Saturdays, Sundays and holidays"),
        (["sat", "sun"], False, "土日", "Saturdays and Sundays"),
        (["mon", "wed"], False, "月・水曜日", "Mon, Wed"),
        (["mon", "wed", "holiday"], False, "月・水曜日・祝日", "Mon, Wed and national holidays"),
        (["holiday"], False, "祝日", "National holidays"),
    ],
)
def test_days_are_grouped_into_words(days, long, japanese, english):
    assert days_text(days, long=long) == japanese
    token = i18n.use_locale("en")
    try:
        assert days_text(days, long=long) == english
    finally:
        i18n.reset_locale(token)


def test_the_weekly_hours_say_the_holidays_and_the_lunch_closure():
    assert weekly_lines(FUKUOKA.hours, long=True) == [
        "月曜日から金曜日(祝休日を除く) 午前8時45分から午後5時15分まで"
    ]
    assert weekly_lines(IRUBE.hours, long=True) == [
        (
            "月曜日から金曜日(祝休日を除く) 午前8時45分から午後5時15分まで"
            "(午後0時から午後1時までは休止)"
        )
    ]
    assert weekly_lines(CORNERS.help_line.hours) == [
        "平日 午前9時30分から午後8時まで",
        "土日祝 午前9時30分から午後5時30分まで",
    ]


@pytest.mark.usefixtures("english")
def test_the_weekly_hours_in_english():
    assert weekly_lines(IRUBE.hours, long=True) == [
        "Monday to Friday (except national holidays), 8:45–17:15 (closed 12:00–13:00)"
    ]


# --- open now -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment_", "state", "text", "detail"),
    [
        ("2021-07-19T10:00", State.OPEN, "受付中", "午後0時まで"),
        ("2021-07-19T12:30", State.CLOSED, "受付時間外", "次回 2021年7月19日(月) 午後1時から"),
        ("2021-07-19T18:00", State.CLOSED, "受付時間外", "次回 2021年7月20日(火) 午前8時45分から"),
        ("2021-07-21T17:15", State.CLOSED, "受付時間外", "次回 2021年7月26日(月) 午前8時45分から"),
        ("2021-09-30T17:15", State.OVER, "受付終了", "今後の受付はありません"),
    ],
)
def test_the_status_says_until_when_or_when_next(moment_, state, text, detail):
    found = status(IRUBE.hours, at(moment_))
    assert (found.state, found.text, found.detail) == (state, text, detail)
    assert found.is_open is (state is State.OPEN)


@pytest.mark.usefixtures("english")
def test_the_status_in_english():
    found = status(IRUBE.hours, at("2021-07-19T18:00"))
    assert (found.text, found.detail) == ("Closed now", "opens next Tue, Jul 20, 2021 8:45")
    assert moment(at("2021-07-19T13:00")) == "Mon, Jul 19, 2021 13:00"


# --- calendars ------------------------------------------------------------------------------


def test_july_2021_has_20_open_days_and_two_olympic_holidays():
    july = month_calendar(
        FUKUOKA.hours, date(2021, 7, 1), date(2021, 7, 19), FUKUOKA.first_day, FUKUOKA.last_day
    )
    assert july.title == "2021年7月"
    assert july.open_days == 20
    assert [(d.day, d.holiday_name) for d in july.holidays] == [
        (date(2021, 7, 22), "海の日"),
        (date(2021, 7, 23), "スポーツの日"),
    ]
    # 2021-07-01 was a Thursday: the first week starts with three empty days.
    assert july.weeks[0][:3] == [None, None, None]
    assert july.weeks[0][3] is not None
    assert july.weeks[0][3].day == date(2021, 7, 1)
    assert all(len(week) == 7 for week in july.weeks)
    today = [d for week in july.weeks for d in week if d is not None and d.is_today]
    assert [d.day for d in today] == [date(2021, 7, 19)]
    assert (july.previous, july.following) == (date(2021, 6, 1), date(2021, 8, 1))


def test_the_calendar_of_the_whole_period_adds_up_to_122_open_days():
    total = 0
    month = date(2021, 4, 1)
    while month is not None:
        shown = month_calendar(
            FUKUOKA.hours, month, date(2021, 7, 19), FUKUOKA.first_day, FUKUOKA.last_day
        )
        total += shown.open_days
        month = shown.following
    assert total == 122


def test_the_calendar_stays_inside_the_period():
    first, last = FUKUOKA.first_day, FUKUOKA.last_day
    assert month_to_show(first, last, date(2021, 7, 19), None) == date(2021, 7, 1)
    assert month_to_show(first, last, date(2021, 7, 19), date(2021, 12, 1)) == date(2021, 9, 1)
    assert month_to_show(first, last, date(2021, 1, 5), None) == date(2021, 4, 1)
    april = month_calendar(FUKUOKA.hours, date(2021, 4, 1), date(2021, 7, 19), first, last)
    september = month_calendar(FUKUOKA.hours, date(2021, 9, 1), date(2021, 7, 19), first, last)
    assert (april.previous, september.following) == (None, None)


@pytest.mark.usefixtures("english")
def test_the_month_title_in_english():
    july = month_calendar(
        FUKUOKA.hours, date(2021, 7, 1), date(2021, 7, 19), FUKUOKA.first_day, FUKUOKA.last_day
    )
    assert july.title == "July 2021"


@pytest.mark.parametrize(
    ("text", "month"),
    [("2021-08", date(2021, 8, 1)), ("2021-13", None), ("august", None), (None, None)],
)
def test_a_month_in_the_query_is_read_leniently(text, month):
    assert parse_month(text) == month


def test_the_finder_filter_ignores_an_unknown_ward():
    known = ["東区", "早良区"]
    assert corner_filter("早良区", None, known) == CornerFilter("早良区", open_now=False)
    assert corner_filter("天神", "1", known) == CornerFilter(None, open_now=True)
    assert corner_filter("", "", known) == CornerFilter(None, open_now=False)
    assert month_url(date(2021, 8, 1), CornerFilter("早良区", open_now=True)) == (
        "/support-corners?month=2021-08&ward=%E6%97%A9%E8%89%AF%E5%8C%BA&open_now=1"
    )


# --- deadlines and what changed when --------------------------------------------------------


def changes_as_of(rules, measure: Measure, as_of: date) -> list[tuple[date, date, str]]:
    campaign = campaign_out(rules.rule(measure), rules, as_of)
    return [(c.announced, c.effective, c.text) for c in deadline_changes(campaign)]


def test_phase_1_as_the_city_told_it_on_2021_04_05(rules):
    assert changes_as_of(rules, Measure.PHASE1, date(2021, 4, 5)) == [
        (
            date(2019, 12, 5),
            date(2020, 7, 1),
            "申込みと対象のチャージ・お買い物の期限は2021年3月31日(水)まで",
        ),
        (
            date(2021, 3, 26),
            date(2021, 4, 1),
            (
                "申込みと対象のチャージ・お買い物の期限を2021年9月30日(木)まで延長、"
                "対象は2021年4月30日(金)までにマイナンバーカードを申請した方"
            ),
        ),
    ]


def test_the_second_extension_appears_from_the_day_it_was_announced(rules):
    before = changes_as_of(rules, Measure.PHASE1, date(2021, 8, 5))
    after = changes_as_of(rules, Measure.PHASE1, date(2021, 8, 6))
    assert len(before) == 2
    assert after[2] == (
        date(2021, 8, 6),
        date(2021, 10, 1),
        "申込みと対象のチャージ・お買い物の期限を2021年12月31日(金)まで延長",
    )


def test_phase_2_card_deadline_moves_with_the_online_relief(rules):
    changes = changes_as_of(rules, Measure.PHASE2_SPENDING, date(2023, 4, 1))
    texts = [text for _, _, text in changes]
    assert texts[0] == (
        "申込みと対象のチャージ・お買い物の期限は2023年2月28日(火)まで、"
        "対象は2022年9月30日(金)までにマイナンバーカードを申請した方"
    )
    assert "対象は2022年12月31日(土)までにマイナンバーカードを申請した方" in texts
    assert (
        "対象は2023年2月28日(火)までにマイナンバーカードを申請した方"
        "(オンライン申請は2023年3月1日(水)まで)" in texts
    )
    assert texts[-1] == "申込みと対象のチャージ・お買い物の期限を2023年9月30日(土)まで延長"
    assert [announced for announced, _, _ in changes] == sorted(a for a, _, _ in changes)


def test_the_deadline_view_of_phase_1_in_force_on_the_demo_day(rules):
    view = deadline_view(campaign_out(rules.rule(Measure.PHASE1), rules, date(2021, 7, 19)))
    assert view.points == "チャージ・お買い物の25%(上限5,000円分)"
    assert view.applications == "2020年7月1日(水)から2021年9月30日(木)まで"
    assert view.spending == "2020年9月1日(火)から2021年9月30日(木)まで"
    assert view.card_cutoff == "2021年4月30日(金)までにマイナンバーカードを申請した方"
    assert view.has_changed


def test_the_measure_people_can_still_apply_for(rules):
    def current(day: date) -> Measure | None:
        campaigns = [
            campaign_out(r, rules, day) for r in rules.measures.values() if r.is_announced(day)
        ]
        found = current_spending(campaigns, day)
        return None if found is None else found.measure

    assert current(date(2021, 7, 19)) is Measure.PHASE1
    assert current(date(2021, 12, 31)) is Measure.PHASE1
    assert current(date(2022, 1, 1)) is Measure.PHASE2_SPENDING
    assert current(date(2023, 10, 1)) is None


def test_what_is_in_force_is_said_as_the_city_said_it(rules):
    campaign = campaign_out(rules.rule(Measure.PHASE1), rules, date(2021, 4, 5))
    assert in_force_text(campaign) == (
        "2021年4月30日(金)までにマイナンバーカードを申請した方は、カード受取後、"
        "マイナポイントをお申込みの上、2021年9月30日(木)までにチャージまたはお買い物をすることで、"
        "マイナポイントを受け取ることができます。"
    )


def test_the_offer_comes_from_the_cap_group_and_the_rate(rules):
    day = date(2021, 7, 19)
    campaigns = [
        campaign_out(r, rules, day) for r in rules.measures.values() if r.is_announced(day)
    ]
    assert spending_offer(rules, campaigns) == Offer(rate_percent=25, cap=5000)
    assert Offer(rate_percent=25, cap=5000).reached_at == 20000
    richer = dataclasses.replace(rules, cap_groups={"spending": 6000})
    assert spending_offer(richer, campaigns) == Offer(rate_percent=25, cap=6000)
    assert spending_offer(rules, []) is None


# --- the payment-service search -------------------------------------------------------------


def test_the_search_form_reads_empty_and_unknown_choices_as_any():
    assert search_form(None, None, None, None, None) == SearchForm()
    assert search_form("  すいか   JR ", "", "bogus", "maybe", "fax") == SearchForm(q="すいか JR")
    assert search_form("", "qr_code", "charge", "yes", "support_corner") == SearchForm(
        category=Category.QR_CODE,
        counts=Counts.CHARGE,
        preregistration=True,
        channel=Channel.SUPPORT_CORNER,
    )
    # "pick" is not a choice of the form: charge and purchase both find such services.
    assert search_form(None, None, "pick", "no", None) == SearchForm(preregistration=False)


def test_the_search_form_gives_back_its_query_without_empty_fields():
    assert SearchForm().query() == ""
    assert not SearchForm().is_set
    form = SearchForm(q="スイカ", channel=Channel.STORE, preregistration=False)
    assert form.query() == "q=%E3%82%B9%E3%82%A4%E3%82%AB&preregistration=no&channel=store"
    assert form.is_set


@pytest.mark.parametrize(
    ("timing", "japanese", "english"),
    [
        (AtEvent(), "当日に付与", "granted the same day"),
        (
            DaysAfter(30, from_next_day=True),
            "翌日から30日後に付与",
            "granted 30 days after the following day",
        ),
        (DaysAfter(7), "7日後に付与", "granted 7 days later"),
        (
            Monthly(28),
            "1か月分をまとめて翌月28日に付与",
            "a month's total granted on day 28 of the next month",
        ),
        (
            Monthly(10, months_after=2),
            "1か月分をまとめて2か月後の10日に付与",
            "a month's total granted on day 10, 2 months later",
        ),
    ],
)
def test_the_grant_timing_in_words(timing, japanese, english):
    assert timing_text(timing) == japanese
    token = i18n.use_locale("en")
    try:
        assert timing_text(timing) == english
    finally:
        i18n.reset_locale(token)


# --- the city's own sentences in English ----------------------------------------------------

CITY_WITH_ENGLISH = """\
city:
  {code: example, name: 例示市, name_en: Example City, source: 例示市の案内, updated_on: 2021-05-01}
period: {first_day: 2021-05-01, last_day: 2021-06-30}
hours:
  - {days: [mon], opens: "10:00", closes: "16:00"}
corners:
  - code: example_honcho
    name: 例示市役所
    name_en: Example City Hall
    ward: 本町
    address: 例示市本町1-1
notes:
  - 本庁舎で受け付けます。
  - {ja: 混雑にご注意ください。, en: It gets busy.}
bring:
  - {item: カード, needed_for: 申込み, item_en: The card, needed_for_en: applying}
help_line:
  name: 例示ダイヤル
  numbers: [{number: 0120-000-000, toll_free: true}]
  hours: [{days: [mon], opens: "09:00", closes: "17:00"}]
contact:
  department: 市民課
  department_en: Citizens Section
  address: 例示市本町1-1
  tel: 0120-000-000
  fax: 0120-000-001
  email: shimin@example.jp
"""


def test_a_city_file_may_give_its_sentences_in_english_or_not():
    city = directory_from_texts({"corners/example.yaml": CITY_WITH_ENGLISH}).cities[0]
    assert city.notes == ("本庁舎で受け付けます。", "混雑にご注意ください。")
    assert city.notes_en == ("", "It gets busy.")
    assert (city.name_en, city.corners[0].name_en, city.bring[0].item_en) == (
        "Example City",
        "Example City Hall",
        "The card",
    )
    assert (city.contact.department_en, city.contact.address_en) == ("Citizens Section", "")


def test_a_misspelt_english_key_of_a_note_is_refused_by_name():
    broken = CITY_WITH_ENGLISH.replace("en: It gets busy.", "eng: It gets busy.")
    with pytest.raises(RuleDataError, match=r"notes\[1\]\.eng: unknown key"):
        directory_from_texts({"corners/example.yaml": broken})


@pytest.mark.usefixtures("english")
def test_english_pages_fall_back_to_the_japanese_marked_as_such():
    assert (localized("本庁舎", ""), lang_of("")) == ("本庁舎", "ja")
    assert (localized("本庁舎", "Main office"), lang_of("Main office")) == ("Main office", "en")
