"""The audit log's hash chain: what it detects on its own, and what only a published head shows."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from audit_factories import AT, make_chain, make_entry, rechain
from mynapoint.domain.audit import (
    GENESIS_HASH,
    ChainHead,
    ProblemKind,
    SealedEntry,
    canonical_json,
    entry_hash,
    head_of,
    parse_head,
    seal,
    verify_chain,
)

LENGTH = 10
# Where in the chain a change is made: the first entry, one in the middle, the newest.
POSITIONS = [0, 4, LENGTH - 1]

# A different value for every field of an entry.
CHANGES = {
    "at": AT + timedelta(days=1),
    "actor": "suzuki.ichiro",
    "role": "supervisor",
    "corner": "hakata",
    "mykey_id": "ZZZZ9999",
    "action": "session_started",
    "details": {"service_code": "rakuten_pay", "holder": "ヤマダ タ*ウ"},
}


def kinds(problems: list) -> list[tuple[ProblemKind, int]]:
    return [(problem.kind, problem.seq) for problem in problems]


def with_entry_changed(chain: list[SealedEntry], position: int, **changes: object) -> list:
    changed = list(chain)
    changed[position] = replace(chain[position], entry=replace(chain[position].entry, **changes))
    return changed


def test_an_untouched_chain_verifies_with_and_without_its_head() -> None:
    chain = make_chain(LENGTH)

    assert verify_chain(chain, None) == []
    assert verify_chain(chain, head_of(chain)) == []


def test_the_first_entry_follows_the_genesis_hash_of_64_zeros() -> None:
    chain = make_chain(2)

    assert GENESIS_HASH == "0" * 64
    assert chain[0].previous_hash == GENESIS_HASH
    assert chain[1].previous_hash == chain[0].entry_hash


def test_an_empty_log_verifies_and_its_head_is_zero_and_the_genesis_hash() -> None:
    assert head_of([]) == ChainHead(0, GENESIS_HASH)
    assert verify_chain([], ChainHead(0, GENESIS_HASH)) == []


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("field", sorted(CHANGES))
def test_changing_any_field_of_any_entry_is_detected(field: str, position: int) -> None:
    chain = make_chain(LENGTH)

    problems = verify_chain(with_entry_changed(chain, position, **{field: CHANGES[field]}), None)

    assert kinds(problems) == [(ProblemKind.ALTERED, position + 1)]
    assert f"entry {position + 1} was altered" in problems[0].message


@pytest.mark.parametrize("position", POSITIONS)
def test_changing_one_character_deep_in_the_details_is_detected(position: int) -> None:
    chain = make_chain(LENGTH)
    details = {"service_code": "paypay", "holder": "ヤマダ タ*オ"}

    problems = verify_chain(with_entry_changed(chain, position, details=details), None)

    assert kinds(problems) == [(ProblemKind.ALTERED, position + 1)]


def test_a_stored_hash_changed_is_detected_at_its_entry_and_the_next() -> None:
    chain = make_chain(LENGTH)
    chain[4] = replace(chain[4], entry_hash="f" * 64)

    assert kinds(verify_chain(chain, None)) == [
        (ProblemKind.ALTERED, 5),
        (ProblemKind.UNLINKED, 6),
    ]


def test_an_entry_rewritten_with_a_fresh_hash_breaks_the_link_to_the_next() -> None:
    chain = make_chain(LENGTH)
    forged = seal(replace(chain[4].entry, actor="suzuki.ichiro"), chain[3].entry_hash)
    chain[4] = forged

    assert kinds(verify_chain(chain, None)) == [(ProblemKind.UNLINKED, 6)]


def test_a_first_entry_that_does_not_follow_the_genesis_hash_is_detected() -> None:
    chain = make_chain(3)
    chain[0] = seal(chain[0].entry, "1" * 64)

    assert kinds(verify_chain(chain, None)) == [
        (ProblemKind.UNLINKED, 1),
        (ProblemKind.UNLINKED, 2),
    ]


@pytest.mark.parametrize("position", [0, 4, 8])
def test_deleting_an_entry_is_detected(position: int) -> None:
    chain = make_chain(LENGTH)
    del chain[position]

    problems = verify_chain(chain, None)

    assert kinds(problems) == [(ProblemKind.MISSING, position + 1)]
    assert f"entry {position + 1} is missing" in problems[0].message


def test_deleting_several_entries_names_them_all() -> None:
    chain = make_chain(LENGTH)
    del chain[3:6]

    problems = verify_chain(chain, None)

    assert kinds(problems) == [(ProblemKind.MISSING, 4)]
    assert "entries 4–6 are missing: the log goes from entry 3 to entry 7" in problems[0].message


def test_deleting_an_entry_and_renumbering_the_rest_is_detected() -> None:
    chain = make_chain(LENGTH)
    del chain[4]
    renumbered = [
        *chain[:4],
        *(replace(s, entry=replace(s.entry, seq=s.seq - 1)) for s in chain[4:]),
    ]

    problems = verify_chain(renumbered, None)

    assert (ProblemKind.UNLINKED, 5) in kinds(problems)
    assert {kind for kind, _ in kinds(problems)} <= {ProblemKind.UNLINKED, ProblemKind.ALTERED}


def test_a_duplicated_entry_is_detected() -> None:
    chain = make_chain(3)

    assert kinds(verify_chain([*chain, chain[1]], None)) == [(ProblemKind.DUPLICATE, 2)]


def test_entries_given_out_of_order_are_checked_in_order() -> None:
    chain = make_chain(LENGTH)

    assert verify_chain(list(reversed(chain)), head_of(chain)) == []


@pytest.mark.parametrize("removed", [1, 3, LENGTH])
def test_truncating_the_newest_entries_is_detected_against_a_published_head(removed: int) -> None:
    chain = make_chain(LENGTH)
    published = head_of(chain)

    problems = verify_chain(chain[:-removed], published)

    assert kinds(problems) == [(ProblemKind.TRUNCATED, LENGTH)]
    assert f"the log ends at entry {LENGTH - removed}" in problems[0].message


def test_truncating_the_newest_entries_goes_unnoticed_without_a_published_head() -> None:
    # The limit of any hash chain: a shorter chain is still an intact chain. Hence heads
    # are published where the database's writers cannot change them.
    chain = make_chain(LENGTH)

    assert verify_chain(chain[:-3], None) == []


def test_truncating_and_appending_again_is_detected_against_the_published_head() -> None:
    chain = make_chain(LENGTH)
    published = head_of(chain)
    kept = chain[:-3]
    regrown = list(kept)
    for seq in range(LENGTH - 2, LENGTH + 1):
        regrown.append(seal(make_entry(seq, actor="forger"), regrown[-1].entry_hash))

    assert verify_chain(regrown, None) == []
    assert kinds(verify_chain(regrown, published)) == [(ProblemKind.HEAD_MISMATCH, LENGTH)]


def test_a_log_rewritten_with_every_hash_recomputed_is_detected_only_by_the_head() -> None:
    chain = make_chain(LENGTH)
    published = head_of(chain)
    forged = rechain(with_entry_changed(chain, 2, mykey_id="ZZZZ9999"), start=2)

    assert verify_chain(forged, None) == []
    problems = verify_chain(forged, published)
    assert kinds(problems) == [(ProblemKind.HEAD_MISMATCH, LENGTH)]
    assert "the log was rewritten at or before entry 10" in problems[0].message


def test_a_wrong_published_hash_is_detected() -> None:
    chain = make_chain(LENGTH)

    problems = verify_chain(chain, ChainHead(LENGTH, "ab" * 32))

    assert kinds(problems) == [(ProblemKind.HEAD_MISMATCH, LENGTH)]
    assert f"but the published head says {'ab' * 6}" in problems[0].message


def test_a_head_of_an_empty_log_must_carry_the_genesis_hash() -> None:
    assert kinds(verify_chain(make_chain(3), ChainHead(0, "ab" * 32))) == [
        (ProblemKind.HEAD_MISMATCH, 0)
    ]


def test_entries_after_the_published_head_are_allowed() -> None:
    chain = make_chain(LENGTH)
    published = head_of(chain[:6])

    assert verify_chain(chain, published) == []


def test_a_head_is_checked_against_the_entry_it_counts() -> None:
    chain = make_chain(LENGTH)

    assert kinds(verify_chain(chain, ChainHead(5, chain[6].entry_hash))) == [
        (ProblemKind.HEAD_MISMATCH, 5)
    ]


def test_the_entry_a_published_head_names_being_deleted_is_reported_twice() -> None:
    chain = make_chain(LENGTH)
    published = head_of(chain[:5])
    del chain[4]

    assert kinds(verify_chain(chain, published)) == [
        (ProblemKind.MISSING, 5),
        (ProblemKind.HEAD_MISMATCH, 5),
    ]


# --- canonical form -----------------------------------------------------------------


def test_canonical_json_is_the_same_whatever_order_the_details_were_built_in() -> None:
    one = make_entry(details={"a": 1, "b": {"y": [1, 2], "x": None}, "c": "三"})
    other = make_entry(details={"c": "三", "b": {"x": None, "y": [1, 2]}, "a": 1})

    assert canonical_json(one) == canonical_json(other)
    assert entry_hash(GENESIS_HASH, one) == entry_hash(GENESIS_HASH, other)


def test_canonical_json_is_the_same_whatever_time_zone_the_time_was_given_in() -> None:
    in_jst = make_entry(at=datetime(2021, 7, 19, 10, 0, tzinfo=timezone(timedelta(hours=9))))
    in_utc = make_entry(at=datetime(2021, 7, 19, 1, 0, tzinfo=UTC))

    assert canonical_json(in_jst) == canonical_json(in_utc)
    assert '"at":"2021-07-19T01:00:00.000000+00:00"' in canonical_json(in_jst)


def test_canonical_json_has_sorted_keys_no_spaces_and_japanese_as_is() -> None:
    text = canonical_json(make_entry(details={"holder": "ヤマダ タ*ウ"}))

    assert text == json.dumps(
        json.loads(text), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    assert "ヤマダ タ*ウ" in text
    assert list(json.loads(text)) == sorted(json.loads(text))


def test_the_hash_is_sha256_over_the_previous_hash_a_newline_and_the_canonical_entry() -> None:
    entry = make_entry()
    expected = hashlib.sha256(f"{GENESIS_HASH}\n{canonical_json(entry)}".encode()).hexdigest()

    assert entry_hash(GENESIS_HASH, entry) == expected


def test_the_canonical_form_does_not_change_without_notice() -> None:
    # Every head ever published depends on it: changing it breaks them all.
    entry = make_entry(seq=1, at=datetime(2021, 7, 19, 1, 0, tzinfo=UTC))

    assert canonical_json(entry) == (
        '{"action":"linkage_committed","actor":"tanaka.hanako","at":"2021-07-19T01:00:00.000000+00:00",'
        '"corner":"chuo","details":{"holder":"ヤマダ タ*ウ","service_code":"paypay"},'
        '"mykey_id":"ABCD1234","role":"staff","seq":1}'
    )


# --- sealing new entries ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"at": datetime(2021, 7, 19, 10, 0)}, "has no UTC offset"),  # noqa: DTZ001 - the point
        ({"mykey_id": "abc"}, "is not 8 characters of A-Z and 0-9"),
        ({"actor": ""}, "actor is empty"),
        ({"details": {"when": AT}}, "cannot be written as canonical JSON"),
        ({"details": {"ratio": float("nan")}}, "cannot be written as canonical JSON"),
        ({"seq": 0}, "is not a positive number"),
    ],
)
def test_sealing_refuses_an_entry_that_would_not_read_back_whole(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        seal(replace(make_entry(), **changes), GENESIS_HASH)


def test_sealing_refuses_a_previous_hash_that_is_not_a_hash() -> None:
    with pytest.raises(ValueError, match="is not 64 lowercase hex digits"):
        seal(make_entry(), "genesis")


# --- heads as text ---------------------------------------------------------------------


def test_a_head_is_written_and_read_as_count_colon_hash() -> None:
    head = ChainHead(20, "3f" * 32)

    assert str(head) == f"20:{'3f' * 32}"
    assert parse_head(str(head)) == head
    assert parse_head(f" 20:{'3F' * 32}\n") == head


@pytest.mark.parametrize(
    "text",
    ["", "20", f"{'3f' * 32}", f"-1:{'3f' * 32}", f"20:{'3f' * 31}", f"20:{'3g' * 32}", "20:abc"],
)
def test_a_malformed_head_is_refused_with_the_form_expected(text: str) -> None:
    with pytest.raises(ValueError, match="is not COUNT:HASH"):
        parse_head(text)
