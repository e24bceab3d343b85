"""The audit log of assisted actions: append-only and hash-chained (RULES.md §6, "The incident").

Entry n's hash is SHA-256 over entry n-1's hash, a newline and entry n's canonical
JSON; entry 1 follows the genesis hash (64 zeros). The log's head is the pair
(count, hash of entry count), written `COUNT:HASH`, and is published at least daily
and on demand. Checked against a published head, the chain shows an edited entry
(its content no longer matches its hash), a removed one (a gap in the numbers and a
broken link) and a truncated log (fewer entries than the head counts).

What a chain cannot show by itself: removing the newest entries leaves a shorter
chain that is still intact, and someone who rewrites entries and recomputes every
later hash leaves an intact chain too. Only a head published before the change,
and kept where the database's writers cannot reach it (the logs), shows those.

So a head is signed when it is published, with a key the database does not hold
(services/head_signing.py): written `COUNT:HASH,PUBLISHED_AT,SIGNATURE`, it can be
checked anywhere with the public key alone, and a head stored in the database that
someone rewrote without the key no longer verifies.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from mynapoint.domain.mykey import is_mykey_id

GENESIS_HASH = "0" * 64
_HASH = re.compile(r"[0-9a-f]{64}")
_HEAD = re.compile(r"(\d+):([0-9a-fA-F]{64})")
_SIGNED_HEAD = re.compile(
    r"(\d+):([0-9a-fA-F]{64}),(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z),([A-Za-z0-9_-]{86})"
)
# What a head's signature covers names its purpose, so that the key signs nothing else.
_SIGNED_PURPOSE = "mynapoint audit head v1"


@dataclass(frozen=True)
class AuditEntry:
    """One assisted action: who (a staff login name, in which role), where, when, for whom, what.

    `details` holds JSON values only (strings, numbers, booleans, null, lists and
    objects with string keys), so that it reads back from storage exactly as written.
    A new entry is checked when it is sealed; one read back from storage is taken as
    it is, however it was changed, so that verifying can report it.
    """

    seq: int
    at: datetime
    actor: str
    role: str
    corner: str | None
    mykey_id: str | None
    action: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SealedEntry:
    """An entry as stored: chained to the hash before it and sealed with its own."""

    entry: AuditEntry
    previous_hash: str
    entry_hash: str

    @property
    def seq(self) -> int:
        return self.entry.seq


@dataclass(frozen=True)
class AuditSearch:
    """Which entries of the log to list: each criterion given must hold (exact action, exact
    actor, `since` <= at < `before`)."""

    action: str | None = None
    actor: str | None = None
    since: datetime | None = None
    before: datetime | None = None

    def matches(self, entry: AuditEntry) -> bool:
        return (
            (self.action is None or entry.action == self.action)
            and (self.actor is None or entry.actor == self.actor)
            and (self.since is None or entry.at >= self.since)
            and (self.before is None or entry.at < self.before)
        )


@dataclass(frozen=True)
class ChainHead:
    """The log's head: how many entries, and the hash of the last (genesis when empty)."""

    count: int
    hash: str

    def __str__(self) -> str:
        return f"{self.count}:{self.hash}"


@dataclass(frozen=True)
class PublishedHead:
    """A head as published: `signature` is the audit key's Ed25519 signature (base64url, no
    padding) over `signed_message()`; None for heads published before heads were signed."""

    head: ChainHead
    published_at: datetime
    signature: str | None = None

    def signed_message(self) -> bytes:
        return f"{_SIGNED_PURPOSE}\n{self.head}\n{_instant(self.published_at)}".encode("ascii")

    def __str__(self) -> str:
        """`COUNT:HASH,PUBLISHED_AT,SIGNATURE`, or `COUNT:HASH` for an unsigned head."""
        if self.signature is None:
            return str(self.head)
        return f"{self.head},{_instant(self.published_at)},{self.signature}"


class ProblemKind(StrEnum):
    ALTERED = "altered"  # an entry's content does not match its hash
    MISSING = "missing"  # numbers are skipped: entries were removed
    DUPLICATE = "duplicate"  # one number twice
    UNLINKED = "unlinked"  # an entry names another previous hash than its predecessor's
    TRUNCATED = "truncated"  # the log ends before the published head's entry
    HEAD_MISMATCH = "head_mismatch"  # the head's entry has another hash than was published
    HEAD_FORGED = "head_forged"  # a head's signature does not verify with the audit key


@dataclass(frozen=True)
class ChainProblem:
    kind: ProblemKind
    seq: int
    message: str

    def __str__(self) -> str:
        return self.message


def canonical_details(details: Mapping[str, Any]) -> str:
    return _canonical(dict(details), "details")


def canonical_json(entry: AuditEntry) -> str:
    """The entry as hashed: keys sorted, no spaces, UTF-8 text as is, `at` in UTC.

    The same entry gives the same text whatever order `details` was built in and
    whatever time zone `at` was given in.
    """
    if entry.at.utcoffset() is None:
        raise ValueError(
            f"audit entry time '{entry.at.isoformat(sep=' ')}' has no UTC offset; "
            f"pass an aware datetime, e.g. {entry.at.replace(tzinfo=UTC).isoformat()}"
        )
    return _canonical(
        {
            "seq": entry.seq,
            "at": entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": entry.actor,
            "role": entry.role,
            "corner": entry.corner,
            "mykey_id": entry.mykey_id,
            "action": entry.action,
            "details": dict(entry.details),
        },
        "entry",
    )


def entry_hash(previous_hash: str, entry: AuditEntry) -> str:
    """SHA-256 (hex) over the previous entry's hash, a newline and the entry's canonical JSON."""
    if _HASH.fullmatch(previous_hash) is None:
        raise ValueError(
            f"previous hash '{previous_hash}' is not 64 lowercase hex digits; "
            f"the first entry follows {GENESIS_HASH}"
        )
    return _digest(previous_hash, entry)


def seal(entry: AuditEntry, previous_hash: str) -> SealedEntry:
    """Chain a new entry to the one before it; refuses an entry that would not read back whole."""
    _check_new(entry)
    return SealedEntry(entry, previous_hash, entry_hash(previous_hash, entry))


def head_of(entries: Sequence[SealedEntry]) -> ChainHead:
    """The head of the log as stored: the last entry's number and hash."""
    if not entries:
        return ChainHead(0, GENESIS_HASH)
    last = max(entries, key=lambda sealed: sealed.seq)
    return ChainHead(last.seq, last.entry_hash)


def parse_head(text: str) -> ChainHead:
    """`COUNT:HASH`, as `mynapoint audit publish` prints it and the logs record it."""
    match = _HEAD.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"head '{text}' is not COUNT:HASH; write the entry count, a colon and the "
            f"64 hex digits of its hash, e.g. 20:{'3f' * 32}"
        )
    return ChainHead(int(match[1]), match[2].lower())


def parse_signed_head(text: str) -> PublishedHead:
    """`COUNT:HASH,PUBLISHED_AT,SIGNATURE`, as `mynapoint audit publish` prints it."""
    match = _SIGNED_HEAD.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"head '{text}' is not COUNT:HASH,PUBLISHED_AT,SIGNATURE; copy the signed head "
            f"as `mynapoint audit publish` prints it, e.g. 20:{'3f' * 32},"
            f"2021-07-19T01:00:00.000000Z,{'A' * 86}"
        )
    published_at = datetime.fromisoformat(match[3])
    return PublishedHead(ChainHead(int(match[1]), match[2].lower()), published_at, match[4])


def parse_any_head(text: str) -> ChainHead | PublishedHead:
    """A signed head when it carries a signature, else `COUNT:HASH`."""
    if "," in text:
        return parse_signed_head(text)
    return parse_head(text)


def trusted_head(
    heads: Sequence[PublishedHead], is_genuine: Callable[[PublishedHead], bool]
) -> tuple[PublishedHead | None, list[ChainProblem]]:
    """The head to check the log against among those stored (oldest stored first), and the
    stored heads that betray a writer without the key.

    A head whose signature does not verify was written without the key; so was an unsigned
    one stored after a signed one (heads published before signing began stay unsigned). The
    head to check against is the genuine one that counts most: a genuine but older head
    copied to the end does not hide what was rewritten since.
    """
    problems: list[ChainProblem] = []
    genuine: list[PublishedHead] = []
    for head in heads:
        if head.signature is not None and is_genuine(head):
            genuine.append(head)
        elif head.signature is not None or genuine:
            what = "a signature that does not verify" if head.signature else "no signature"
            problems.append(
                ChainProblem(
                    ProblemKind.HEAD_FORGED,
                    head.head.count,
                    f"the stored head {_short_head(head.head)} of {_instant(head.published_at)} "
                    f"carries {what} with the audit key: it was written without the key",
                )
            )
    if genuine:
        return max(genuine, key=lambda h: (h.head.count, h.published_at)), problems
    unsigned = [head for head in heads if head.signature is None]
    if not unsigned:
        return None, problems
    return max(reversed(unsigned), key=lambda h: h.published_at), problems


def forged_head(head: PublishedHead) -> ChainProblem:
    return ChainProblem(
        ProblemKind.HEAD_FORGED,
        head.head.count,
        f"the given head {_short_head(head.head)} of {_instant(head.published_at)} does not "
        "verify with the audit key: it was altered, or signed by another key",
    )


def verify_chain(
    entries: Sequence[SealedEntry], published_head: ChainHead | None
) -> list[ChainProblem]:
    """Every problem found, oldest first; none when the chain is intact and matches the head.

    Entries after the published head's are allowed: the log goes on growing after a
    head is published.
    """
    problems: list[ChainProblem] = []
    by_seq: dict[int, SealedEntry] = {}
    previous: SealedEntry | None = None
    for sealed in sorted(entries, key=lambda s: s.seq):
        seq = sealed.seq
        if seq in by_seq:
            problems.append(
                ChainProblem(ProblemKind.DUPLICATE, seq, f"entry {seq} appears more than once")
            )
            continue
        by_seq[seq] = sealed
        expected = 1 if previous is None else previous.seq + 1
        if seq > expected:
            problems.append(_missing(expected, seq))
        elif previous is None and sealed.previous_hash != GENESIS_HASH:
            problems.append(
                ChainProblem(
                    ProblemKind.UNLINKED,
                    seq,
                    f"entry {seq} is the first but follows hash {_short(sealed.previous_hash)}, "
                    f"not the genesis hash {_short(GENESIS_HASH)}",
                )
            )
        elif previous is not None and sealed.previous_hash != previous.entry_hash:
            problems.append(
                ChainProblem(
                    ProblemKind.UNLINKED,
                    seq,
                    f"entry {seq} does not follow entry {previous.seq}: it names previous hash "
                    f"{_short(sealed.previous_hash)}, entry {previous.seq}'s hash is "
                    f"{_short(previous.entry_hash)}",
                )
            )
        computed = _digest(sealed.previous_hash, sealed.entry)
        if computed != sealed.entry_hash:
            problems.append(
                ChainProblem(
                    ProblemKind.ALTERED,
                    seq,
                    f"entry {seq} was altered: its content hashes to {_short(computed)}, "
                    f"its stored hash is {_short(sealed.entry_hash)}",
                )
            )
        previous = sealed
    if published_head is not None:
        problems.extend(_against_head(by_seq, published_head))
    return problems


def _against_head(by_seq: Mapping[int, SealedEntry], head: ChainHead) -> list[ChainProblem]:
    last = max(by_seq, default=0)
    if head.count > last:
        first_gone = last + 1
        gone = (
            f"entry {head.count} was"
            if first_gone == head.count
            else f"entries {first_gone}–{head.count} were"
        )
        return [
            ChainProblem(
                ProblemKind.TRUNCATED,
                head.count,
                f"the log ends at entry {last} but the published head {_short_head(head)} "
                f"counts {head.count}: {gone} removed",
            )
        ]
    if head.count == 0:
        stored = GENESIS_HASH
    elif head.count in by_seq:
        stored = by_seq[head.count].entry_hash
    else:
        return [
            ChainProblem(
                ProblemKind.HEAD_MISMATCH,
                head.count,
                f"entry {head.count}, whose hash the published head {_short_head(head)} "
                "records, is missing",
            )
        ]
    if stored != head.hash:
        return [
            ChainProblem(
                ProblemKind.HEAD_MISMATCH,
                head.count,
                f"entry {head.count}'s hash is {_short(stored)} but the published head says "
                f"{_short(head.hash)}: the log was rewritten at or before entry {head.count}, "
                "or the head was copied wrongly",
            )
        ]
    return []


def _missing(first: int, found: int) -> ChainProblem:
    last = found - 1
    what = f"entry {first} is" if first == last else f"entries {first}–{last} are"
    where = (
        f"the log goes from entry {first - 1} to entry {found}"
        if first > 1
        else f"the log starts at entry {found}"
    )
    return ChainProblem(ProblemKind.MISSING, first, f"{what} missing: {where}")


def _digest(previous_hash: str, entry: AuditEntry) -> str:
    text = f"{previous_hash}\n{canonical_json(entry)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_new(entry: AuditEntry) -> None:
    if entry.seq < 1:
        raise ValueError(
            f"audit entry seq {entry.seq} is not a positive number; entries count from 1"
        )
    if entry.mykey_id is not None and not is_mykey_id(entry.mykey_id):
        raise ValueError(
            f"audit entry MyKey ID '{entry.mykey_id}' is not 8 characters of A-Z and 0-9"
        )
    for name in ("actor", "role", "action"):
        if not getattr(entry, name):
            raise ValueError(f"audit entry {name} is empty; say who did what, in which role")
    # What JSON cannot carry (a datetime, a set, NaN) is refused now, not when stored.
    canonical_details(entry.details)


def _canonical(document: dict[str, Any], what: str) -> str:
    try:
        return json.dumps(
            document, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"audit {what} cannot be written as canonical JSON ({exc}); use strings, numbers, "
            "booleans, null, lists and objects with string keys"
        ) from None


def _instant(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _short(value: str) -> str:
    return f"{value[:12]}…"


def _short_head(head: ChainHead) -> str:
    return f"{head.count}:{_short(head.hash)}"
