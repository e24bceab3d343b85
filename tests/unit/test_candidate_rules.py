"""Candidate rules files (issue 16): `extends: in-force` and only the keys that change, merged
as JSON Merge Patch does; the packaged candidates; naming one on the command line."""

from __future__ import annotations

from datetime import date, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from mynapoint.domain.campaigns import CardCutoff
from mynapoint.domain.measures import Measure
from mynapoint.ingest.scenario import scenario_from_text
from mynapoint.rules.candidates import (
    IN_FORCE,
    UnknownCandidate,
    candidate_from_text,
    in_force,
    load_candidate,
    merged,
    packaged_candidate,
    packaged_candidates,
    resolve_candidate,
)
from mynapoint.rules.loader import (
    RuleDataError,
    load_campaigns,
    load_catalog,
    packaged_campaigns_text,
)
from mynapoint.rules.yaml_source import KeyLines
from mynapoint.services.simulate import simulate

JST = ZoneInfo("Asia/Tokyo")
PACKAGED = (
    "cap-7500",
    "health-insurance-10000",
    "no-card-cutoff",
    "phase1-extended-3-months",
    "rate-20",
)


def overlay(body: str) -> str:
    return "extends: in-force\n" + body


# --- the merge ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "changes", "expected"),
    [
        pytest.param({"a": 1, "b": 2}, {"b": 3}, {"a": 1, "b": 3}, id="a scalar is replaced"),
        pytest.param(
            {"a": {"x": 1, "y": 2}}, {"a": {"y": 3}}, {"a": {"x": 1, "y": 3}}, id="key by key"
        ),
        pytest.param({"a": [1, 2, 3]}, {"a": [4]}, {"a": [4]}, id="a list is replaced whole"),
        pytest.param({"a": 1, "b": 2}, {"b": None}, {"a": 1}, id="null removes the key"),
        pytest.param({"a": 1}, {"b": None}, {"a": 1}, id="null on an absent key does nothing"),
        pytest.param({"a": 1}, {"b": {"c": 2}}, {"a": 1, "b": {"c": 2}}, id="a new key is added"),
        pytest.param(
            {"a": 1}, {"b": {"c": None, "d": 1}}, {"a": 1, "b": {"d": 1}}, id="nulls inside new"
        ),
        pytest.param({"a": {"x": 1}}, {"a": 5}, {"a": 5}, id="a scalar replaces a mapping"),
        pytest.param({"a": 5}, {"a": {"x": 1}}, {"a": {"x": 1}}, id="a mapping replaces a scalar"),
    ],
)
def test_changes_merge_over_the_base_as_json_merge_patch(
    base: dict[str, Any], changes: dict[str, Any], expected: dict[str, Any]
) -> None:
    before = repr(base)

    assert merged(base, changes) == expected
    assert repr(base) == before  # the base is not modified


def test_a_candidate_changes_only_the_keys_it_gives() -> None:
    rules = candidate_from_text(
        overlay("measures:\n  phase1:\n    waiting_after_issuance_hours: 5\n"), "x.yaml"
    ).rules
    force = load_campaigns()

    assert rules.rule(Measure.PHASE1).waiting_after_issuance.total_seconds() == 5 * 3600
    assert (
        rules.rule(Measure.PHASE1).applications_close
        == force.rule(Measure.PHASE1).applications_close
    )
    assert {m: r for m, r in rules.measures.items() if m is not Measure.PHASE1} == {
        m: r for m, r in force.measures.items() if m is not Measure.PHASE1
    }
    assert (rules.cap_groups, rules.person_total_cap, rules.budget_frames) == (
        force.cap_groups,
        force.person_total_cap,
        force.budget_frames,
    )  # fmt: skip


def test_a_key_set_to_null_takes_its_default() -> None:
    rules = candidate_from_text(
        overlay("measures:\n  phase1:\n    carries_into: null\n"), "x.yaml"
    ).rules

    assert rules.rule(Measure.PHASE1).carries_into is None
    assert load_campaigns().rule(Measure.PHASE1).carries_into is Measure.PHASE2_SPENDING


def test_changing_a_list_the_base_shares_by_anchor_changes_only_that_measure() -> None:
    # In campaigns.yaml the phase-2 measures share one applications_close list (&phase2_close).
    text = overlay(
        "measures:\n  phase2_spending:\n    applications_close:\n"
        "      - {value: 2023-12-01T00:00:00+09:00, effective: 2022-01-01, announced: 2021-11-19}\n"
    )
    rules = candidate_from_text(text, "x.yaml").rules

    assert len(rules.rule(Measure.PHASE2_SPENDING).applications_close.versions) == 1
    assert (
        rules.rule(Measure.PHASE2_HEALTH_INSURANCE).applications_close
        == load_campaigns().rule(Measure.PHASE2_HEALTH_INSURANCE).applications_close
    )


def test_a_whole_campaigns_file_without_extends_is_read_as_it_is() -> None:
    candidate = candidate_from_text(packaged_campaigns_text(), "copy.yaml")

    assert candidate.rules == load_campaigns()
    assert candidate.name == "copy.yaml"


def test_the_candidate_keeps_its_text_as_written() -> None:
    text = overlay("program:\n  person_total_cap: 30000\n")

    assert candidate_from_text(text, "x.yaml").text == text


# --- errors name the file, the line and the key ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            overlay("measures:\n  phase1:\n    rate_precent: 20\n"),
            "x.yaml: line 4: measures.phase1.rate_precent: unknown key",
            id="a misspelt key",
        ),
        pytest.param(
            overlay(
                "measures:\n  phase1:\n    rate_percent: 0\n"
                "  phase2_spending:\n    rate_percent: 0\n"
            ),
            "x.yaml: line 6: measures.phase2_spending.rate_percent: 0: "
            "Input should be greater than 0",
            id="a value out of range",
        ),
        pytest.param(
            overlay(
                "measures:\n  phase1:\n    applications_close:\n"
                "      - value: 2021-04-01T00:00:00\n        effective: 2020-07-01\n"
                "        announced: 2019-12-05\n"
            ),
            "x.yaml: line 5: measures.phase1.applications_close[0].value: '2021-04-01T00:00:00' "
            "has no UTC offset; expected a timestamp with a UTC offset",
            id="a timestamp without offset in a list",
        ),
        pytest.param(
            overlay("measures:\n  phase1:\n    rate_percent: null\n"),
            "x.yaml: line 3: measures.phase1: a spending measure needs rate_percent",
            id="a required key removed by null",
        ),
        pytest.param(
            overlay("measures:\n  phase1:\n    card_cutoff: null\n"),
            "x.yaml: line 4: measures.phase1.card_cutoff: required key is missing",
            id="a required list removed by null",
        ),
        pytest.param(
            overlay("measures:\n  phase1:\n    rate_percent: 20\n"),
            "x.yaml: (top level): measures sharing cap group 'spending' must share one rate: "
            "measures.phase1.rate_percent is 20, measures.phase2_spending.rate_percent is 25",
            id="a change that breaks a rule across keys",
        ),
        pytest.param(
            overlay("program:\n  cap_groups:\n    spending: 7500\n"),
            "x.yaml: (top level): the caps add up to 22500, above program.person_total_cap 20000",
            id="caps above the total",
        ),
        pytest.param(
            "extends: in-force\nmeasures: [\n",
            "x.yaml: line 3, column 1: not valid YAML",
            id="not YAML",
        ),
        pytest.param(
            "extends: rate-20\n",
            "x.yaml: line 1: extends: 'rate-20' cannot be extended; write `extends: in-force`",
            id="extends another",
        ),
        pytest.param("- a list\n", "x.yaml: (top level): expected a mapping of keys", id="a list"),
    ],
)
def test_a_bad_candidate_is_refused_naming_line_and_key(text: str, message: str) -> None:
    with pytest.raises(RuleDataError) as raised:
        candidate_from_text(text, "x.yaml")

    assert message in str(raised.value)


def test_a_measure_the_program_does_not_know_is_refused_at_its_line() -> None:
    with pytest.raises(RuleDataError) as raised:
        candidate_from_text(overlay("measures:\n  phase9:\n    rate_percent: 3\n"), "x.yaml")

    lines = str(raised.value).splitlines()
    assert lines[0].startswith("x.yaml: line 3: measures.phase9.[key]: 'phase9': Input should be")
    assert "x.yaml: line 3: measures.phase9.kind: required key is missing" in lines


def test_a_whole_file_names_the_line_too() -> None:
    text = packaged_campaigns_text().replace(
        "rate_percent: 25           # R1", "rate_percent: -1", 1
    )
    line = text.splitlines().index("    rate_percent: -1") + 1

    with pytest.raises(
        RuleDataError, match=rf"^w\.yaml: line {line}: measures\.phase1\.rate_percent"
    ):
        candidate_from_text(text, "w.yaml")


@pytest.mark.parametrize(
    ("text", "location", "line"),
    [
        ("a:\n  b: 1\n  c: [1, 2]\n", ("a", "c"), 3),
        ("a:\n  b: 1\n  c:\n    - x\n    - y\n", ("a", "c", 1), 5),
        ("a:\n  b: 1\n", ("a", "b", "[key]"), 2),
        ("a:\n  b: 1\n", ("a", "z"), None),
        ("7: 1\n", (7,), None),  # an index, not the key "7"
    ],
)
def test_key_lines_find_the_line_of_a_location(
    text: str, location: tuple[int | str, ...], line: int | None
) -> None:
    assert KeyLines.of(text).line_of(location) == line


def test_key_lines_stop_at_a_text_that_nests_itself() -> None:
    lines = KeyLines.of("a: &x [*x]\n")

    assert lines.line_of(("a",)) == 1
    assert len(lines.lines) <= 40


# --- the packaged candidates --------------------------------------------------------------


def test_the_packaged_candidates_are_the_documented_five() -> None:
    assert packaged_candidates() == PACKAGED


def _phase1_close(name: str) -> tuple[datetime, ...]:
    return tuple(
        v.value
        for v in packaged_candidate(name).rules.rule(Measure.PHASE1).applications_close.versions
    )


@pytest.mark.parametrize("name", PACKAGED)
def test_every_packaged_candidate_loads_and_differs_from_the_rules_in_force(name: str) -> None:
    candidate = packaged_candidate(name)

    assert candidate.name == f"{name}.yaml"
    assert candidate.text.startswith("# Candidate:")
    assert candidate.rules != load_campaigns()


def test_rate_20_returns_20_percent_in_phase_1_and_measure_1() -> None:
    rules = packaged_candidate("rate-20").rules

    assert [r.rate_percent for r in rules.spending_measures()] == [20, 20]


def test_cap_7500_raises_the_spending_cap_and_the_total_by_as_much() -> None:
    rules = packaged_candidate("cap-7500").rules

    assert (rules.cap_groups, rules.person_total_cap) == ({"spending": 7500}, 22500)


def test_health_insurance_10000_grants_10000_for_measure_2() -> None:
    rules = packaged_candidate("health-insurance-10000").rules

    assert rules.rule(Measure.PHASE2_HEALTH_INSURANCE).fixed_points == 10000
    assert rules.rule(Measure.PHASE2_PUBLIC_FUNDS).fixed_points == 7500


def test_phase1_extended_closes_three_months_later_from_a_version_announced_on_a_date() -> None:
    phase1 = packaged_candidate("phase1-extended-3-months").rules.rule(Measure.PHASE1)
    third = phase1.applications_close.versions[-1]
    force = load_campaigns().rule(Measure.PHASE1).applications_close.versions

    assert phase1.applications_close.versions[:-1] == force
    assert third.value == datetime(2022, 4, 1, tzinfo=JST)
    assert (third.effective, third.announced) == (date(2022, 1, 1), date(2021, 12, 1))
    assert phase1.spending_closes == phase1.applications_close
    assert phase1.card_cutoff == load_campaigns().rule(Measure.PHASE1).card_cutoff


def test_no_card_cutoff_drops_the_2021_04_30_cutoff() -> None:
    cutoff = packaged_candidate("no-card-cutoff").rules.rule(Measure.PHASE1).card_cutoff
    force = load_campaigns().rule(Measure.PHASE1).card_cutoff

    assert [v.value for v in force.versions] == [None, CardCutoff(date(2021, 4, 30))]
    assert [v.value for v in cutoff.versions] == [None, None]
    assert [v.effective for v in cutoff.versions] == [v.effective for v in force.versions]


# --- naming rules on the command line -----------------------------------------------------


def test_in_force_names_the_packaged_campaigns() -> None:
    candidate = resolve_candidate(IN_FORCE)

    assert candidate == in_force()
    assert candidate.rules == load_campaigns()


@pytest.mark.parametrize("given", ["rate-20", "rate-20.yaml"])
def test_a_packaged_candidate_is_found_by_its_name(given: str) -> None:
    assert resolve_candidate(given) == packaged_candidate("rate-20")


def test_a_path_finds_the_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(overlay("program:\n  person_total_cap: 30000\n"), encoding="utf-8")

    candidate = resolve_candidate(path)

    assert (candidate.name, candidate.rules.person_total_cap) == ("mine.yaml", 30000)
    assert resolve_candidate(str(path)) == candidate


def test_a_file_wins_over_a_packaged_candidate_of_the_same_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "rate-20.yaml").write_text(
        overlay("program:\n  person_total_cap: 30000\n"), encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)

    assert resolve_candidate("rate-20.yaml").rules.person_total_cap == 30000
    assert resolve_candidate("rate-20") == packaged_candidate("rate-20")


@pytest.mark.parametrize("given", ["rate-25", "elsewhere/rate-20.yaml", "rate-25.yaml"])
def test_neither_a_file_nor_a_packaged_name_is_refused_listing_the_names(given: str) -> None:
    with pytest.raises(UnknownCandidate) as raised:
        resolve_candidate(given)

    message = str(raised.value)
    assert message.startswith(f"{given!r}: no such rules file, nor a packaged candidate")
    assert message.endswith("one of: in-force, " + ", ".join(PACKAGED))


def test_an_unreadable_file_is_a_rule_data_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("# r\xe9gle\n".encode("latin-1"))

    with pytest.raises(RuleDataError, match="cannot read the rules file"):
        load_candidate(path)


# --- what the engine makes of the candidates ----------------------------------------------

PHASE2_ONLY = """
person:
  card_applied_on: 2021-12-01
applications:
  - {measure: phase2_spending, service: waon, applied_at: 2022-01-10T10:00:00+09:00}
events:
  - {id: e1, kind: charge, amount: 4000, at: 2022-01-15T12:00:00+09:00}
"""


def _points_under(candidate: str, scenario: str) -> int:
    rules = resolve_candidate(candidate).rules
    catalog = load_catalog()
    return simulate(
        scenario_from_text(scenario, "s.yaml", rules, catalog), rules, catalog
    ).total_points


def test_a_phase2_only_applicant_earns_in_january_2022_under_the_rules_in_force() -> None:
    assert _points_under(IN_FORCE, PHASE2_ONLY) == 1000


def test_a_phase2_only_applicant_still_earns_while_phase1_is_extended_into_2022() -> None:
    assert _points_under("phase1-extended-3-months", PHASE2_ONLY) == 1000


def test_a_file_whose_aliases_nest_is_refused_before_anything_walks_it() -> None:
    """A "billion laughs": nine levels of nine aliases stand for 9⁹ values. Uploaded on the
    console, walking it took a minute of a server's worker; it is refused right after parsing."""
    levels = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    names = "abcdefghi"
    for before, name in pairwise(names):
        levels.append(f"{name}: &{name} [{', '.join([f'*{before}'] * 9)}]")
    text = "\n".join(["extends: in-force", *levels, "measures:", "  phase1:", "    notes: *i"])
    with pytest.raises(RuleDataError, match=r"aliases \(\*name\) expand to more than 200,000"):
        candidate_from_text(text, "laughs.yaml")
