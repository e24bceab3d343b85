"""The packaged service catalog says what docs/RULES.md §5 says, and a broken catalog is refused."""

from __future__ import annotations

import re
from datetime import date

import pytest

from mynapoint.domain.measures import Category, Channel, Counts, EventKind, Measure, Rounding
from mynapoint.domain.services import Catalog, CodeFormat, PaymentService
from mynapoint.rules.loader import RuleDataError, catalog_from_text, load_catalog
from mynapoint.rules.schema import ServiceIn
from mynapoint.rules.yaml_source import SourceError

# INTERFACES.md "The service catalog codes".
NAMED_CODES = (
    "paypay",
    "waon",
    "suica",
    "icoca",
    "nanaco",
    "rakuten_edy",
    "d_barai",
    "au_pay",
    "rakuten_pay",
    "merpay",
)
EVERY_CODE = tuple(service.code for service in load_catalog())
SERVICE_FIELDS = frozenset(ServiceIn.model_fields)


def service(code: str) -> PaymentService:
    return load_catalog().get(code)


def code_formats(code: str) -> list[CodeFormat]:
    found = service(code)
    return [found.payment_service_id, *found.security_codes]


def assumed_fields(found: PaymentService) -> set[str]:
    """The fields an assumption names: the part before the first ': ', split on ', '."""
    fields: set[str] = set()
    for assumption in found.assumptions:
        named, _, _ = assumption.partition(": ")
        fields.update(name.strip() for name in named.split(","))
    return fields


# --- the packaged catalog -----------------------------------------------------------------


def test_the_packaged_catalog_loads(catalog: Catalog):
    assert len(list(catalog)) >= 12
    assert all(found.operator.name for found in catalog)


def test_the_catalog_has_every_code_interfaces_md_names(catalog: Catalog):
    missing = [code for code in NAMED_CODES if code not in catalog]
    assert missing == []


@pytest.mark.parametrize("category", [Category.CREDIT_CARD, Category.DEBIT_CARD])
def test_the_catalog_has_a_card_of_each_kind(catalog: Catalog, category: Category):
    assert any(found.category is category for found in catalog)


def test_service_codes_are_lower_snake_case(catalog: Catalog):
    assert [s.code for s in catalog if not re.fullmatch(r"[a-z][a-z0-9_]*", s.code)] == []


def test_every_service_has_japanese_and_english_names_and_expiry_texts(catalog: Catalog):
    for found in catalog:
        assert found.name, found.code
        assert found.name_en, found.code
        assert found.expiry_ja, found.code
        assert found.expiry_en, found.code


@pytest.mark.parametrize("code", EVERY_CODE)
def test_every_example_id_and_code_matches_its_own_pattern(code: str):
    for shape in code_formats(code):
        assert shape.matches(shape.example), (code, shape.name_en, shape.pattern)
        assert shape.description_ja, (code, shape.name_en)
        assert shape.description_en, (code, shape.name_en)


@pytest.mark.parametrize("code", EVERY_CODE)
def test_every_service_has_a_timing_for_each_kind_it_counts(code: str):
    found = service(code)
    assert set(found.timing) == set(found.countable_kinds())


@pytest.mark.parametrize(
    ("code", "value", "matches"),
    [
        # ICOCA: the 17-character number on the back of the card is the ID (RULES.md §5).
        ("icoca", "JW001234567891234", True),
        ("icoca", "JW00123456789123", False),  # 16 characters
        ("icoca", "JE001234567891234", False),  # a Suica number
        ("suica", "JE801234567890123", True),
        ("suica", "JE80123456789012", False),
        ("paypay", "1234567890123456", True),
        ("paypay", "123456789012345", False),
        ("paypay", "1234 5678 9012 3456", False),
    ],
)
def test_a_payment_service_id_is_checked_against_the_whole_pattern(
    code: str, value: str, *, matches: bool
):
    assert service(code).payment_service_id.matches(value) is matches


def test_the_icoca_and_suica_ids_are_17_characters():
    assert len(service("icoca").payment_service_id.example) == 17
    assert len(service("suica").payment_service_id.example) == 17


# --- what counts and when it is granted ----------------------------------------------------


@pytest.mark.parametrize(
    ("code", "counts"),
    [
        ("paypay", Counts.PICK),
        ("waon", Counts.CHARGE),
        ("suica", Counts.CHARGE),
        ("icoca", Counts.CHARGE),
        ("rakuten_edy", Counts.CHARGE),
        ("rakuten_pay", Counts.PURCHASE),
    ],
)
def test_what_each_service_counts(code: str, counts: Counts):
    assert service(code).counts is counts


def test_paypay_purchase_is_granted_thirty_days_after_the_next_day():
    # INTERFACES.md: paid 2020-10-05 -> granted 2020-11-05.
    assert service("paypay").grant_on(EventKind.PURCHASE, date(2020, 10, 5)) == date(2020, 11, 5)


def test_paypay_charge_is_granted_on_the_day_of_the_charge():
    assert service("paypay").grant_on(EventKind.CHARGE, date(2020, 10, 5)) == date(2020, 10, 5)


@pytest.mark.parametrize(
    ("charged_on", "granted_on"),
    [
        (date(2021, 1, 31), date(2021, 2, 28)),
        (date(2021, 12, 15), date(2022, 1, 28)),
        (date(2020, 9, 1), date(2020, 10, 28)),
        (date(2020, 9, 30), date(2020, 10, 28)),
    ],
)
def test_waon_charges_are_granted_on_the_28th_of_the_next_month(charged_on: date, granted_on: date):
    assert service("waon").grant_on(EventKind.CHARGE, charged_on) == granted_on


@pytest.mark.parametrize(
    ("code", "kind", "on", "granted_on"),
    [
        # RULES.md §5: September 2020 Suica charges were granted around 2020-10-14.
        ("suica", EventKind.CHARGE, date(2020, 9, 1), date(2020, 10, 14)),
        ("suica", EventKind.CHARGE, date(2020, 9, 30), date(2020, 10, 14)),
        ("icoca", EventKind.CHARGE, date(2020, 9, 15), date(2020, 10, 18)),
        ("rakuten_edy", EventKind.CHARGE, date(2020, 9, 15), date(2020, 10, 10)),
        ("d_barai", EventKind.CHARGE, date(2020, 9, 15), date(2020, 9, 15)),
        # Day 31 of a 28-day month is its last day.
        ("rakuten_pay", EventKind.PURCHASE, date(2021, 1, 15), date(2021, 2, 28)),
        ("rakuten_card", EventKind.PURCHASE, date(2020, 12, 10), date(2021, 2, 25)),
    ],
)
def test_grant_dates_follow_each_services_timing(
    code: str, kind: EventKind, on: date, granted_on: date
):
    assert service(code).grant_on(kind, on) == granted_on


def test_a_fixed_grant_is_dated_as_a_charge_by_the_services_timing():
    # R19: measures 2 and 3 are dated as if they were a charge at the application instant.
    assert service("waon").grant_on(None, date(2022, 7, 1)) == date(2022, 8, 28)
    assert service("paypay").grant_on(None, date(2022, 7, 1)) == date(2022, 7, 1)


def test_exactly_one_service_rounds_per_transaction(catalog: Catalog):
    per_transaction = [s.code for s in catalog if s.rounding is Rounding.PER_TRANSACTION]
    assert len(per_transaction) == 1
    assert "rounding" in assumed_fields(service(per_transaction[0]))


@pytest.mark.parametrize("code", ["paypay", "waon", "suica"])
def test_the_models_round_cumulatively(code: str):
    assert service(code).rounding is Rounding.CUMULATIVE


# --- where one can apply, and for what --------------------------------------------------------


def test_at_least_two_services_cannot_be_applied_for_at_a_support_corner(catalog: Catalog):
    not_at_corner = [s.code for s in catalog if Channel.SUPPORT_CORNER not in s.channels]
    assert len(not_at_corner) >= 2


@pytest.mark.parametrize("code", ["paypay", "waon", "suica"])
def test_the_models_take_part_in_all_four_measures_with_no_closing_date(code: str):
    found = service(code)
    assert found.measures == frozenset(Measure)
    assert found.closes_at is None


@pytest.mark.parametrize(("code", "needed"), [("waon", True), ("icoca", True), ("paypay", False)])
def test_preregistration(code: str, *, needed: bool):
    assert service(code).preregistration is needed


@pytest.mark.parametrize(
    ("reading", "code"),
    [("スイカ", "suica"), ("イコカ", "icoca"), ("ナナコ", "nanaco"), ("ペイペイ", "paypay")],
)
def test_a_katakana_reading_is_a_keyword_of_its_service(reading: str, code: str):
    assert reading in service(code).keywords


def test_every_operator_named_by_a_service_is_one_company(catalog: Catalog):
    names: dict[str, str] = {}
    for found in catalog:
        assert names.setdefault(found.operator.code, found.operator.name) == found.operator.name


# --- assumptions ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", EVERY_CODE)
def test_every_assumption_names_the_fields_it_is_about(code: str):
    found = service(code)
    for assumption in found.assumptions:
        named, separator, why = assumption.partition(": ")
        assert separator, f"{code}: {assumption!r} has no 'field: why' form"
        assert why.strip(), f"{code}: {assumption!r} does not say why"
        fields = {name.strip() for name in named.split(",")}
        assert fields <= SERVICE_FIELDS, f"{code}: {sorted(fields - SERVICE_FIELDS)}"


@pytest.mark.parametrize(
    ("code", "field"),
    [
        # Only the September 2020 date is reported; the monthly rule is generalised from it.
        ("suica", "timing"),
        # Not public for any service but PayPay's app screen: formats are approximated.
        ("suica", "security_codes"),
        ("icoca", "security_codes"),
        ("nanaco", "timing"),
        ("d_barai", "rounding"),
        ("d_barai", "timing"),
        ("au_pay", "timing"),
        ("rakuten_pay", "channels"),
        ("merpay", "channels"),
        ("merpay", "measures"),
        ("rakuten_card", "timing"),
        ("sony_bank_wallet", "timing"),
        ("sony_bank_wallet", "measures"),
    ],
)
def test_an_unconfirmed_fact_is_listed_as_an_assumption(code: str, field: str):
    assert field in assumed_fields(service(code))


def test_a_service_kept_from_support_corners_lists_channels_as_an_assumption(catalog: Catalog):
    for found in catalog:
        if Channel.SUPPORT_CORNER not in found.channels:
            assert "channels" in assumed_fields(found), found.code


@pytest.mark.parametrize("code", EVERY_CODE)
def test_every_service_has_an_assumption(code: str):
    # Each entry has at least one fact (an ID format, a timing) that is not public.
    assert service(code).assumptions


# --- strictness of the loader -----------------------------------------------------------------

SMALL = """\
operators:
  acme:
    name: 株式会社アクメ
services:
  x:
    name: エックス
    name_en: X
    operator: acme
    category: qr_code
    counts: pick
    timing:
      charge: {rule: at_event}
      purchase: {rule: days_after, days: 30, from_next_day: true}
    preregistration: false
    channels: [app]
    measures: [phase1]
    payment_service_id:
      name_ja: 決済サービスID
      name_en: Payment service ID
      pattern: "[0-9]{4}"
      example: "1234"
    security_codes:
      - name_ja: セキュリティコード
        name_en: Security code
        pattern: "[0-9]{2}"
        example: "12"
    expiry_ja: なし
    expiry_en: none
    closes_at: null
"""


def small_with(old: str, new: str) -> str:
    """The small catalog with one fragment replaced; the fragment must occur once."""
    assert SMALL.count(old) == 1, f"fragment not found exactly once: {old!r}"
    return SMALL.replace(old, new)


def test_the_small_catalog_loads_as_written():
    catalog = catalog_from_text(SMALL)
    assert catalog.get("x").rounding is Rounding.CUMULATIVE
    assert catalog.get("x").grant_on(EventKind.PURCHASE, date(2020, 10, 5)) == date(2020, 11, 5)


@pytest.mark.parametrize(
    ("old", "new", "fragments"),
    [
        pytest.param(
            "    expiry_en: none\n",
            "    expiry_en: none\n    colour: red\n",
            ["services.x.colour", "unknown key"],
            id="unknown key",
        ),
        pytest.param(
            "      purchase: {rule: days_after, days: 30, from_next_day: true}\n",
            "",
            ["services.x", "timing must have exactly the keys", "'purchase'", "'pick'"],
            id="timing missing for a counted kind",
        ),
        pytest.param(
            "    counts: pick\n",
            "    counts: charge\n",
            ["services.x", "timing must have exactly the keys ['charge']"],
            id="timing for a kind that does not count",
        ),
        pytest.param(
            '      example: "1234"\n',
            '      example: "12345"\n',
            ["services.x.payment_service_id", "example '12345' does not match pattern"],
            id="example does not match its pattern",
        ),
        pytest.param(
            '        example: "12"\n',
            '        example: "ab"\n',
            ["services.x.security_codes[0]", "example 'ab' does not match"],
            id="security code example does not match",
        ),
        pytest.param(
            '      pattern: "[0-9]{4}"\n',
            '      pattern: "[0-9"\n',
            ["services.x.payment_service_id", "is not a regular expression"],
            id="pattern is not a regular expression",
        ),
        pytest.param(
            "    operator: acme\n",
            "    operator: nobody\n",
            ["services.x.operator 'nobody' is not one of operators (acme)"],
            id="unknown operator",
        ),
        pytest.param(
            "    closes_at: null\n",
            "    closes_at: 2021-09-30T23:59:59\n",
            ["services.x.closes_at", "no UTC offset", "2021-04-01T00:00:00+09:00"],
            id="closes_at without UTC offset",
        ),
        pytest.param(
            "    closes_at: null\n",
            "    closes_at: 1633013999\n",
            ["services.x.closes_at", "is a number"],
            id="closes_at as epoch seconds",
        ),
        pytest.param(
            "    category: qr_code\n",
            "    category: crypto\n",
            ["services.x.category"],
            id="unknown category",
        ),
        pytest.param(
            "    channels: [app]\n",
            "    channels: [app, fax]\n",
            ["services.x.channels[1]"],
            id="unknown channel",
        ),
        pytest.param(
            "    channels: [app]\n",
            "    channels: []\n",
            ["services.x.channels"],
            id="no channel",
        ),
        pytest.param(
            "    measures: [phase1]\n",
            "    measures: [phase3]\n",
            ["services.x.measures[0]"],
            id="unknown measure",
        ),
        pytest.param(
            "      charge: {rule: at_event}\n",
            "      charge: {rule: monthly}\n",
            ["services.x.timing.charge", "rule monthly needs day"],
            id="monthly without a day",
        ),
        pytest.param(
            "    preregistration: false\n",
            "",
            ["services.x.preregistration", "required key is missing"],
            id="missing preregistration",
        ),
        pytest.param(
            "    expiry_en: none\n",
            "    expiry_en: none\n    rounding: nearest\n",
            ["services.x.rounding"],
            id="unknown rounding",
        ),
    ],
)
def test_a_broken_catalog_is_refused_naming_the_key(old: str, new: str, fragments: list[str]):
    with pytest.raises(RuleDataError) as refused:
        catalog_from_text(small_with(old, new))
    message = str(refused.value)
    assert message.startswith("services.yaml: ")
    for fragment in fragments:
        assert fragment in message


def test_a_key_given_twice_is_refused():
    with pytest.raises(SourceError, match="key 'counts' appears twice"):
        catalog_from_text(
            small_with("    counts: pick\n", "    counts: pick\n    counts: charge\n")
        )


def test_a_catalog_that_is_not_a_mapping_is_refused():
    with pytest.raises(RuleDataError, match="expected a mapping of keys"):
        catalog_from_text("- paypay\n- waon\n")


def test_the_source_name_is_in_the_message():
    with pytest.raises(RuleDataError, match=r"^mine\.yaml: services\.x\.colour"):
        catalog_from_text(
            small_with("    expiry_en: none\n", "    expiry_en: none\n    colour: red\n"),
            "mine.yaml",
        )


def test_every_payment_service_id_fits_the_64_characters_the_platform_stores():
    # payment_accounts.payment_service_id is String(64); a longer pattern could never be stored.
    import re  # noqa: PLC0415

    for service in load_catalog():
        bounds = re.findall(r"\{(\d+)(?:,(\d+))?\}", service.payment_service_id.pattern)
        longest = sum(int(high or low) for low, high in bounds) + 1
        assert longest <= 64, service.code
