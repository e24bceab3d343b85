"""The shape of a generated history: every parameter of `mynapoint.history.generate`, in one
place (docs: README "Demo history", bench/README.md).

A history runs from the opening of MyKey reservations and phase-1 applications (the rules'
`applications_open`, 2020-07-01) to the platform's "now". Numbers are shares of persons (or
of events) unless said otherwise; times are JST.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Municipality:
    code: str  # 全国地方公共団体コード with its check digit (rules/municipalities.yaml)
    name: str
    weight: float  # relative share of persons
    corner: str | None = None  # the support corner of the demo city that serves it


# The demo city (Fukuoka, rules/corners/fukuoka.yaml) and its seven wards, with each ward's
# own corner; then some other cities, whose residents apply on the web only.
MUNICIPALITIES: tuple[Municipality, ...] = (
    Municipality("401315", "福岡市東区", 15.0, "higashi"),
    Municipality("401323", "福岡市博多区", 12.0, "hakata"),
    Municipality("401331", "福岡市中央区", 10.0, "chuo"),
    Municipality("401340", "福岡市南区", 13.0, "minami"),
    Municipality("401358", "福岡市西区", 10.0, "nishi"),
    Municipality("401366", "福岡市城南区", 6.0, "jonan"),
    Municipality("401374", "福岡市早良区", 11.0, "sawara"),
    Municipality("401064", "北九州市小倉北区", 5.0),
    Municipality("402036", "久留米市", 4.0),
    Municipality("402184", "春日市", 3.0),
    Municipality("402303", "糸島市", 2.0),
    Municipality("131016", "東京都千代田区", 3.0),
    Municipality("131041", "東京都新宿区", 3.0),
    Municipality("271276", "大阪市北区", 3.0),
)

# Phase-1 services and their shares of applications (PayPay the largest, as it was).
SERVICE_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("paypay", 30.0),
    ("waon", 12.0),
    ("nanaco", 9.0),
    ("suica", 9.0),
    ("d_barai", 9.0),
    ("au_pay", 7.0),
    ("rakuten_pay", 7.0),
    ("rakuten_edy", 4.0),
    ("merpay", 4.0),
    ("rakuten_card", 4.0),
    ("icoca", 3.0),
    ("sony_bank_wallet", 2.0),
)

KATAKANA_NAMES: tuple[str, ...] = (
    "タナカ ヒロシ", "スズキ ユミ", "ナカムラ ケンタ", "コバヤシ アヤ", "ヨシダ マコト",
    "ヤマグチ サトミ", "マツモト リョウ", "イノウエ ナオコ", "キムラ タクヤ", "ハヤシ メグミ",
)  # fmt: skip


@dataclass(frozen=True)
class Shape:
    """Every parameter of a generated history's shape."""

    municipalities: tuple[Municipality, ...] = MUNICIPALITIES
    services: tuple[tuple[str, float], ...] = SERVICE_WEIGHTS
    holder_names: tuple[str, ...] = KATAKANA_NAMES

    # Persons: born between these days (uniform), card applied for 30-400 days before the
    # MyKey ID, on the web (the rest on paper) this share; certificate 20-60 days after.
    born_from: date = date(1935, 1, 1)
    born_until: date = date(2015, 12, 31)
    card_online_share: float = 0.45
    # Some persons die during the program, on a day after their MyKey ID; the operator still
    # reports spending on their account after it (a relative using the card), which the
    # engine does not count (holder_deceased).
    death_share: float = 0.004
    # The share of persons with a MyKey ID who never apply (the reservation only).
    no_application_share: float = 0.08

    # When MyKey IDs are created: a mixture of an opening rush (an exponential decay from the
    # opening day), bumps after each extension's announcement (the rules' `announced` days of
    # the phase-1 deadline's later versions), and a steady trickle over the whole span.
    rush_weight: float = 0.35
    rush_days: float = 18.0  # the rush's time constant
    bump_weight: float = 0.12  # each announcement's bump
    bump_days: float = 10.0
    # (the trickle takes the rest)

    # The application comes the same day as the MyKey ID for this share, otherwise an
    # exponential number of days later with this mean.
    apply_same_day_share: float = 0.6
    apply_later_mean_days: float = 25.0
    # A service that lets the person pick what counts: charges for this share, else purchases.
    pick_charge_share: float = 0.7
    # A service with an app: applications on the web (instead of in the app) for this share.
    web_share: float = 0.3
    # Applications made at a support corner of the demo city: this share of its residents,
    # when the corners are open (their `period`, weekdays, 08:45-17:15) and the service
    # takes applications there; the rest in the app or on the web.
    counter_share: float = 0.1
    counter_from: date = date(2021, 4, 1)
    counter_until: date = date(2021, 9, 30)
    # A counter application's assisted session (services/assist.py): the card is read this
    # many minutes (uniform) before the application, never before the corner opens; the
    # account the citizen confirms is shown this many seconds before it, which must stay
    # under the counter's idle limit (MYNAPOINT_COUNTER_IDLE_SECONDS, 120 by default) as the
    # commit of a real session must.
    counter_session_minutes: tuple[int, int] = (4, 15)
    counter_confirm_seconds: tuple[int, int] = (15, 90)

    # Events per applying person: a count drawn from these weights (index = count).
    event_count_weights: tuple[float, ...] = (0.0, 0.1, 0.3, 0.3, 0.15, 0.1, 0.05)
    # Events happen on days weighted by: the weekday (Mon..Sun), the last `month_end_days` of
    # a month (pay day and "use it by month end" charges), and a decay after the
    # application (most persons charge within weeks of applying).
    weekday_weights: tuple[float, ...] = (0.9, 0.85, 0.9, 0.95, 1.15, 1.4, 1.3)
    month_end_days: int = 3
    month_end_factor: float = 2.5
    after_application_days: float = 30.0  # time constant of the decay after applying
    after_application_floor: float = 0.25  # the decay never goes below this factor
    # Hours of day (0-23) and their weights: lunch and evening peaks.
    hour_weights: tuple[float, ...] = (
        0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 0.6, 0.9, 1.0, 1.1, 1.3,
        1.8, 1.5, 1.1, 1.0, 1.1, 1.3, 1.7, 2.0, 1.9, 1.5, 1.0, 0.5,
    )  # fmt: skip
    # Amounts: this share are the 20,000 yen that earn the whole 5,000 points at once, this
    # share a round thousand from 1,000 to 10,000, the rest any amount from 100 to 9,000.
    full_charge_share: float = 0.25
    round_amount_share: float = 0.45
    # A share of persons whose last event is a refund of one of their earlier charges, whole
    # or in part, within `refund_within_days` of it.
    refund_share: float = 0.05
    refund_within_days: int = 30
    # Operators send a day's events the next night: received at 02:00-06:00 the next day;
    # the platform evaluates the person an hour after an event arrives.
    evaluated_after: timedelta = timedelta(hours=1)

    # Operators pull the instructions due on their grant day at 09:00 (or an hour after they
    # were made, when later); an instruction due after "now" is still pending.
    pulled_at_hour: int = 9
    # A month is closed (settled) on this day of the month after the next, at 10:00:
    # at the demo day (2021-07-19) May and earlier are closed, June and July open.
    close_day: int = 15
    close_months_after: int = 2


SHAPE = Shape()
