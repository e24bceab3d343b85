"""The data every run starts from, made once through the project's own setup code.

A template database on the scratch cluster holds: the schema (migrated by build_platform),
persons with a linked PayPay account and a phase-1 application counting charges
(bench/intake_data.set_up_persons, as `make bench-intake` sets them up), an operator API key
(services.operators.issue_operator_key, as `mynapoint operator key` does), and card holders:
persons with a virtual card from the simulated card authority (as the demo cards are made)
and a PayPay account registered for them but not yet applied for. Each run gets a fresh copy
(CREATE DATABASE … TEMPLATE), which takes a second.

The event files are bench/intake_data.write_events files (charges in time order, ~1 %
refunds), with a few lines the platform must reject mixed in.
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Final

import httpx

from intake_data import HEADER, set_up_persons, write_events
from mynapoint.bootstrap import build_platform
from mynapoint.config import Settings
from mynapoint.db.engine import parse_database_url
from mynapoint.domain.calendar import JST
from mynapoint.jpki.card import VirtualCard, sign, unlock_key
from mynapoint.services.operators import issue_operator_key, register_account
from reliability.cluster import Cluster
from reliability.processes import CODE_KEY_FILE

OPERATOR: Final = "paypay"
SERVICE: Final = "paypay"
# Platform time: after the bench files' last event (2021-09-30) and inside phase 1's
# extended application period (to 2021-12-31), so every event is in the past and card
# holders may still apply.
CLOCK_START: Final = datetime(2021, 10, 15, 10, 0, tzinfo=JST)
TEMPLATE: Final = "reliability_template"
PIN: Final = "1234"
HOLDER_NAME: Final = "ヤマダ タロウ"
# Card holders' accounts lie below 10**15, where set_up_persons never draws one.
HOLDER_ACCOUNTS_FROM: Final = 900_000_000_000


@dataclass(frozen=True)
class EventFacts:
    payment_service_id: str
    kind: str
    amount: int
    refund_of: str | None


@dataclass(frozen=True)
class EventFile:
    path: Path
    valid: dict[str, EventFacts]  # event_id -> what the platform must store
    invalid: int  # lines the platform must reject

    @property
    def lines(self) -> int:
        return len(self.valid) + self.invalid


@dataclass(frozen=True)
class CardHolder:
    card_path: Path
    payment_service_id: str
    security_code: str


@dataclass(frozen=True)
class World:
    accounts: tuple[str, ...]  # linked PayPay accounts, one person each
    operator_key: str
    holders: tuple[CardHolder, ...]


def build_template(
    cluster: Cluster, workdir: Path, *, persons: int, holders: int, seed: int
) -> World:
    cluster.create_database(TEMPLATE)
    url = cluster.url(TEMPLATE)
    platform = build_platform(
        Settings(
            database_url=url,
            var_dir=workdir / "setup-var",
            code_key=workdir / CODE_KEY_FILE,
            clock_start=CLOCK_START,
        )
    )
    try:
        accounts = set_up_persons(parse_database_url(url), random.Random(seed), persons)
        now = platform.clock.now()
        key = issue_operator_key(platform.unit_of_work(), OPERATOR, platform.catalog, now)
        cards = workdir / "cards"
        cards.mkdir(parents=True, exist_ok=True)
        hasher = platform.code_hasher
        made = []
        for number in range(holders):
            card = platform.authority.issue_card(
                PIN,
                birth_date=date(1980, 4, 1),
                card_applied_on=date(2021, 3, 1),
                issued_at=datetime(2021, 4, 1, 10, 0, tzinfo=JST),
            )
            path = cards / f"holder-{number:03d}.json"
            card.write(path)
            holder = CardHolder(path, f"{HOLDER_ACCOUNTS_FROM + number:016d}", f"{number:04d}")
            register_account(
                platform.unit_of_work(),
                hasher,
                OPERATOR,
                platform.catalog,
                SERVICE,
                holder.payment_service_id,
                holder.security_code,
                HOLDER_NAME,
                now,
            )
            made.append(holder)
    finally:
        platform.engine.dispose()
    return World(accounts=tuple(accounts), operator_key=key, holders=tuple(made))


# --- event files --------------------------------------------------------------------------


def _invalid_lines(rng: random.Random, accounts: tuple[str, ...], count: int) -> list[str]:
    """Lines each platform must reject on its own while keeping the rest of the file."""
    lines = []
    for number in range(count):
        account = rng.choice(accounts)
        event_id = f"bad{number:05d}"
        at = "2021-06-01T10:00:00+09:00"
        lines.append(
            (
                f"{event_id},{SERVICE},0000000000000001,charge,500,{at},",  # account_not_linked
                f"{event_id},{SERVICE},{account},charge,-5,{at},",  # amount not positive
                f"{event_id},{SERVICE},{account},teleport,100,{at},",  # unknown kind
                f"{event_id},{SERVICE},{account},charge,100,2021-06-01T10:00:00,",  # no offset
            )[number % 4]
            + "\n"
        )
    return lines


def write_event_file(
    path: Path,
    rng: random.Random,
    accounts: tuple[str, ...],
    events: int,
    *,
    invalid: int = 0,
    prefix: str = "",
) -> EventFile:
    """A bench event file of `events` valid events (ids prefixed), with `invalid` bad lines
    mixed in at random places."""
    write_events(path, rng, list(accounts), events)
    body = path.read_text(encoding="utf-8").splitlines(keepends=True)[1:]
    if prefix:
        body = [_prefixed(line, prefix) for line in body]
    for line in _invalid_lines(rng, accounts, invalid):
        body.insert(rng.randrange(len(body) + 1), line)
    path.write_text(HEADER + "".join(body), encoding="utf-8")
    return EventFile(path, read_valid(path), invalid)


def _prefixed(line: str, prefix: str) -> str:
    fields = line.split(",")
    fields[0] = prefix + fields[0]
    if fields[6].strip():
        fields[6] = prefix + fields[6]
    return ",".join(fields)


def read_valid(path: Path) -> dict[str, EventFacts]:
    """The file's lines as stored events, leaving out the lines written to be rejected."""
    valid = {}
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        event_id, _, account, kind, amount, _, refund_of = line.split(",")
        if event_id.startswith("bad"):
            continue
        valid[event_id] = EventFacts(account, kind, int(amount), refund_of or None)
    return valid


def split_file(source: EventFile, folder: Path, parts: int) -> list[EventFile]:
    """The file cut into `parts` consecutive pieces, each with the header."""
    folder.mkdir(parents=True, exist_ok=True)
    body = source.path.read_text(encoding="utf-8").splitlines(keepends=True)[1:]
    size = -(-len(body) // parts)
    pieces = []
    for number in range(parts):
        path = folder / f"part-{number:02d}.csv"
        chunk = body[number * size : (number + 1) * size]
        path.write_text(HEADER + "".join(chunk), encoding="utf-8")
        pieces.append(EventFile(path, read_valid(path), sum(c.startswith("bad") for c in chunk)))
    return pieces


def api_rows(file: EventFile) -> list[dict[str, object]]:
    """The file's valid lines as the JSON events of `POST /api/v1/operator/events`."""
    rows: list[dict[str, object]] = []
    for line in file.path.read_text(encoding="utf-8").splitlines()[1:]:
        event_id, service, account, kind, amount, at, refund_of = line.split(",")
        if event_id.startswith("bad"):
            continue
        row: dict[str, object] = {
            "event_id": event_id,
            "service_code": service,
            "payment_service_id": account,
            "kind": kind,
            "amount": int(amount),
            "occurred_at": at,
        }
        if refund_of:
            row["refund_of"] = refund_of
        rows.append(row)
    return rows


# --- citizens --------------------------------------------------------------------------------


def log_in(client: httpx.Client, holder: CardHolder) -> str:
    """The API's card login (challenge, signature by the card, session) and a MyKey ID;
    returns the session token."""
    card = VirtualCard.read(holder.card_path)
    key = unlock_key(card, PIN)
    if key is None:
        raise RuntimeError(f"the PIN does not open {holder.card_path}")
    challenge = client.post("/api/v1/auth/challenges")
    challenge.raise_for_status()
    nonce = base64.b64decode(challenge.json()["nonce"])
    session = client.post(
        "/api/v1/auth/sessions",
        json={
            "challenge_id": challenge.json()["challenge_id"],
            "certificate": card.certificate_pem,
            "signature": base64.b64encode(sign(key, nonce)).decode(),
        },
    )
    session.raise_for_status()
    token = str(session.json()["token"])
    client.post("/api/v1/mykey", headers=bearer(token)).raise_for_status()
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def application(holder: CardHolder) -> dict[str, object]:
    return {
        "measure": "phase1",
        "service_code": SERVICE,
        "payment_service_id": holder.payment_service_id,
        "security_code": holder.security_code,
        "counts": "charge",
    }
