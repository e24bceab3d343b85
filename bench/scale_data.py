"""The data of `make bench-scale`: N persons as the platform would hold them, written by COPY.

For every person (numbered n = 0 … N-1; everything is derived from SEED and n, so a size
is the same data on every run):

- `cardholders`: the card authority's record of each person, with the issuing ward;
- `platform_persons`: the platform's copy of the card authority's facts (anchor: 32 hex
  digits, like the authority's random ones);
- a MyKey ID (`mykeys`; the reservation shards count them);
- one registered payment account (`payment_accounts`, the security code kept as the
  platform's own keyed hash, one code per service) of one of three services of three
  operators (PayPay, WAON of AEON Retail, nanaco of Seven Card Service, by n % 3), linked
  (`account_links`) by an active phase-1 application counting charges (`applications`);
- 2 to 4 events (3 on average) in time order from 2021-05-02 to 2021-09-30 JST: charges of
  100-9,000 yen, 5 % of persons with a refund of their first charge as their last event
  (`spending_events`, content hashes as intake computes them, received an hour later);
- the grant instructions and lines those events earn, computed by the platform's own
  comparison (`services.ledger.judge`, which runs the points engine `domain.points.evaluate`)
  once per person, at the day after its last event: so the stored state is exactly what
  the platform would have computed, and re-evaluating a person writes nothing (checked by
  `verify`); the events' ignore reasons come from the same judgement;
- instructions dated before 2021-09-01 were pulled and acknowledged by their operator the
  day after their grant day; the later ones are pending;
- a session (`citizen_sessions`, the SHA-256 of the token as the platform keeps it, valid
  for 30 days from platform time) for SESSIONS persons spread evenly over n, whose tokens
  `token(n)` recomputes.

The schema comes from the migrations (`mynapoint migrate`); the rows are written by binary
COPY from `--jobs` processes, each its own range of persons, 10,000 persons a transaction.
`--indexes rebuild` drops the loaded tables' indexes and constraints first and builds them
again after the load (in two sessions side by side); `keep` copies into the indexed tables.

    python bench/scale_data.py --persons 100000 [--indexes rebuild|keep] [--jobs 2] [--verify]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import psycopg

from common import conninfo, recreate_database
from mynapoint.bootstrap import build_platform
from mynapoint.config import Settings
from mynapoint.db.engine import parse_database_url
from mynapoint.domain.calendar import JST
from mynapoint.domain.ledger import PersonSnapshot, StoredApplication, StoredEvent
from mynapoint.domain.measures import Channel, EventKind, Measure
from mynapoint.domain.mykey import MYKEY_ALPHABET, MYKEY_LENGTH, RESERVATION_SHARDS
from mynapoint.rules.loader import load_campaigns, load_catalog
from mynapoint.services.auth import token_hash
from mynapoint.services.intake import EventRow
from mynapoint.services.ledger import History, grant_id_prefix, judge, reevaluate

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from mynapoint.domain.campaigns import CampaignRules
    from mynapoint.domain.services import Catalog

SEED: Final = 20211015
# Platform time of the benchmark: after phase 1's spending (to 2021-09-30).
NOW: Final = datetime(2021, 10, 15, 10, 0, tzinfo=JST)
EVENTS_FROM: Final = datetime(2021, 5, 2, 0, 0, tzinfo=JST)
EVENTS_UNTIL: Final = datetime(2021, 10, 1, 0, 0, tzinfo=JST)  # exclusive
APPLIED_AT: Final = datetime(2021, 5, 1, 10, 0, tzinfo=JST)
# Instructions dated before this day were pulled and acknowledged the day after.
PULLED_BEFORE: Final = date(2021, 9, 1)
# (service, operator, security code): one code per service, hashed once.
SERVICES: Final = (
    ("paypay", "paypay", "1234"),
    ("waon", "aeon_retail", "A1b2C3d4"),
    ("nanaco", "seven_card_service", "1234567"),
)
ACCOUNTS_FROM: Final = 3_000_000_000_000_000
HOLDER_NAME: Final = "ヤマダ タロウ"
REFUND_SHARE: Final = 0.05
SESSIONS: Final = 100_000
SESSION_DAYS: Final = 30
CHUNK: Final = 10_000
MYKEY_STEP: Final = 2_654_435_761  # a prime: n -> n * step mod 36^8 is one-to-one
# Fukuoka's seven wards (rules/municipalities.yaml) and, for one person in eight, none.
WARDS: Final = ("401315", "401323", "401331", "401340", "401358", "401366", "401374", None)

# The tables loaded, in load order, with their columns (binary COPY types).
TABLES: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    # The card authority's record of each person, with the issuing ward (one in eight unknown):
    # the statistics per ward read it (db/statistics_store.py).
    "cardholders": (
        ("anchor", "text"), ("birth_date", "date"), ("card_applied_on", "date"),
        ("card_applied_online", "bool"), ("died_on", "date"), ("adult_ward", "bool"),
        ("municipality", "text"),
    ),
    "platform_persons": (
        ("person", "text"), ("birth_date", "date"), ("card_applied_on", "date"),
        ("card_applied_online", "bool"), ("died_on", "date"), ("adult_ward", "bool"),
        ("certificate_issued_at", "timestamptz"), ("ledger_version", "int4"),
        ("updated_at", "timestamptz"),
    ),
    "mykeys": (("mykey_id", "text"), ("person", "text"), ("created_at", "timestamptz")),
    "payment_accounts": (
        ("service_code", "text"), ("payment_service_id", "text"), ("operator_code", "text"),
        ("holder_name", "text"), ("security_code_hash", "text"),
        ("registered_at", "timestamptz"), ("updated_at", "timestamptz"),
    ),
    "account_links": (
        ("service_code", "text"), ("payment_service_id", "text"), ("person", "text"),
        ("linked_at", "timestamptz"),
    ),
    "applications": (
        ("application_id", "text"), ("person", "text"), ("measure", "text"),
        ("service_code", "text"), ("payment_service_id", "text"), ("counts", "text"),
        ("channel", "text"), ("applied_at", "timestamptz"), ("status", "text"),
    ),
    "spending_events": (
        ("operator_code", "text"), ("event_id", "text"), ("service_code", "text"),
        ("payment_service_id", "text"), ("person", "text"), ("kind", "text"),
        ("amount", "int8"), ("occurred_at", "timestamptz"), ("refund_of", "text"),
        ("content_hash", "text"), ("received_at", "timestamptz"), ("reason", "text"),
    ),
    "grant_instructions": (
        ("grant_id", "text"), ("operator_code", "text"), ("service_code", "text"),
        ("payment_service_id", "text"), ("person", "text"), ("measure", "text"),
        ("points", "int4"), ("grant_on", "date"), ("created_at", "timestamptz"),
        ("acknowledged_at", "timestamptz"), ("settlement_month", "text"),
    ),
    "grant_lines": (
        ("grant_id", "text"), ("source", "text"), ("measure", "text"), ("person", "text"),
        ("points", "int4"),
    ),
    "citizen_sessions": (
        ("token_hash", "text"), ("person", "text"), ("serial", "text"),
        ("expires_at", "timestamptz"),
    ),
}  # fmt: skip


# --- who is who: everything derives from n ----------------------------------------------------


def person_id(n: int) -> str:
    return hashlib.blake2b(f"{SEED}:person:{n}".encode(), digest_size=16).hexdigest()


def service_of(n: int) -> tuple[str, str, str]:
    return SERVICES[n % len(SERVICES)]


def account_id(n: int) -> str:
    return f"{ACCOUNTS_FROM + n:016d}"


def mykey_id(n: int) -> str:
    value = (n * MYKEY_STEP + 7) % len(MYKEY_ALPHABET) ** MYKEY_LENGTH
    digits = []
    for _ in range(MYKEY_LENGTH):
        value, digit = divmod(value, len(MYKEY_ALPHABET))
        digits.append(MYKEY_ALPHABET[digit])
    return "".join(digits)


def session_step(persons: int) -> int:
    return max(1, persons // SESSIONS)


def session_persons(persons: int) -> range:
    """The persons with a session: SESSIONS of them, evenly over the whole table."""
    return range(0, persons, session_step(persons))


def token(n: int) -> str:
    """Person n's session token (what the platform hands out: url-safe base64 of 32 bytes)."""
    digest = hashlib.blake2b(f"{SEED}:token:{n}".encode(), digest_size=32).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


# --- one chunk of persons ----------------------------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    start: int
    stop: int
    persons: int  # the size of the whole data set (for the sessions)
    code_hashes: dict[str, str]  # service -> the security code's stored hash


# A person's history is one of TEMPLATES shapes (the service, the application's time, the
# events' kinds, amounts and times, the card facts), each judged once per process by the
# platform's own comparison; a person's rows are the shape's with the person's own ids.
# The engine sees nothing else of a person (ids are only keys to it), so each person's rows
# are exactly what judging that person would give (`verify` re-evaluates a sample).
TEMPLATES: Final = 30_000


@dataclass(frozen=True)
class _Event:
    suffix: str  # the event_id after s{n:010d}
    kind: str
    amount: int
    occurred_at: datetime
    received_at: datetime
    refund_of: str | None  # the refunded event's suffix
    reason: str | None
    hashed_tail: str  # kind, amount, instant in UTC: the content hash's middle


@dataclass(frozen=True)
class _Instruction:
    measure: str
    points: int
    grant_on: date
    created_at: datetime
    acknowledged_at: datetime | None
    settlement_month: str
    lines: tuple[tuple[str, str, int], ...]  # (event suffix, measure, points)


@dataclass(frozen=True)
class _Template:
    applied: datetime
    snapshot: PersonSnapshot
    events: tuple[_Event, ...]
    evaluated_at: datetime
    instructions: tuple[_Instruction, ...]


def template_of(n: int) -> int:
    """Person n's shape: of its service (n % 3), one of TEMPLATES / 3 spread over n."""
    return (n * MYKEY_STEP) % (TEMPLATES // len(SERVICES)) * len(SERVICES) + n % len(SERVICES)


def _make_template(t: int, rules: CampaignRules, catalog: Catalog) -> _Template:
    rng = random.Random(f"{SEED}:template:{t}")
    service, operator, _ = SERVICES[t % len(SERVICES)]
    person, account = "p", "a"
    applied = APPLIED_AT + timedelta(seconds=rng.randrange(86_400))
    snapshot = PersonSnapshot(
        person=person,
        birth_date=date(1950, 1, 1) + timedelta(days=rng.randrange(20_000)),
        card_applied_on=date(2020, 6, 1),
        card_applied_online=rng.random() < 0.5,
        died_on=None,
        adult_ward=False,
        certificate_issued_at=datetime(2021, 4, 1, 10, 0, tzinfo=JST),
    )
    application = StoredApplication(
        application_id="app",
        person=person,
        measure=Measure.PHASE1,
        service_code=service,
        payment_service_id=account,
        counts=EventKind.CHARGE,
        channel=Channel.ONLINE,
        applied_at=applied,
    )
    span = int((EVENTS_UNTIL - EVENTS_FROM).total_seconds())
    start = int(EVENTS_FROM.timestamp())
    count = rng.randint(2, 4)
    instants = sorted(start + rng.randrange(span) for _ in range(count))
    rows: list[EventRow] = []
    for j, at in enumerate(instants):
        occurred = datetime.fromtimestamp(at, JST)
        if j == count - 1 and j > 0 and rng.random() < REFUND_SHARE:
            first = rows[0]
            amount = first.amount if rng.random() < 0.5 else rng.randint(1, first.amount)
            rows.append(EventRow("r", service, account, EventKind.REFUND, amount, occurred,
                                 first.event_id))  # fmt: skip
        else:
            rows.append(EventRow(f"c{j}", service, account, EventKind.CHARGE,
                                 rng.randint(100, 9_000), occurred))  # fmt: skip
    events = [
        StoredEvent(
            operator_code=operator,
            event_id=row.event_id,
            service_code=service,
            payment_service_id=account,
            person=person,
            kind=row.kind,
            amount=row.amount,
            occurred_at=row.occurred_at,
            refund_of=row.refund_of,
            content_hash="",
            received_at=row.occurred_at + timedelta(hours=1),
        )
        for row in rows
    ]
    # The platform evaluated the person the day after their last event arrived.
    evaluated_at = events[-1].received_at + timedelta(days=1)
    judgement = judge(
        [History(snapshot, [application], events, [])], rules, catalog, evaluated_at, set()
    )
    reasons = {event_id: reason for _, event_id, reason in judgement.reasons}
    prefix = f"event:{operator}:"
    return _Template(
        applied=applied,
        snapshot=snapshot,
        events=tuple(
            _Event(
                suffix=e.event_id,
                kind=e.kind.value,
                amount=e.amount,
                occurred_at=e.occurred_at,
                received_at=e.received_at,
                refund_of=e.refund_of,
                reason=reasons.get(e.event_id),
                hashed_tail=f"{e.kind.value}\x1f{e.amount}\x1f"
                f"{e.occurred_at.astimezone(UTC).isoformat()}\x1f",
            )
            for e in events
        ),
        evaluated_at=evaluated_at,
        instructions=tuple(
            _Instruction(
                measure=i.measure.value,
                points=i.points,
                grant_on=i.grant_on,
                created_at=i.created_at,
                acknowledged_at=_acknowledged(i.grant_on, i.created_at),
                settlement_month=i.settlement_month,
                lines=tuple(
                    (line.source.removeprefix(prefix), line.measure.value, line.points)
                    for line in i.lines
                ),
            )
            for i in judgement.instructions
        ),
    )


def _acknowledged(grant_on: date, created_at: datetime) -> datetime | None:
    if grant_on >= PULLED_BEFORE:
        return None
    pulled = datetime.combine(grant_on + timedelta(days=1), datetime.min.time(), JST)
    return max(pulled + timedelta(hours=10), created_at + timedelta(hours=1))


_templates: dict[int, _Template] = {}


def build_chunk(
    chunk: Chunk, rules: CampaignRules, catalog: Catalog
) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of persons chunk.start … chunk.stop-1, by table."""
    rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    persons_rows, mykeys_rows = rows["platform_persons"], rows["mykeys"]
    cardholders_rows = rows["cardholders"]
    accounts_rows, links_rows = rows["payment_accounts"], rows["account_links"]
    applications_rows, events_rows = rows["applications"], rows["spending_events"]
    instructions_rows, lines_rows = rows["grant_instructions"], rows["grant_lines"]
    step = session_step(chunk.persons)
    phase1, charge, online = Measure.PHASE1.value, EventKind.CHARGE.value, Channel.ONLINE.value
    sha256 = hashlib.sha256
    for n in range(chunk.start, chunk.stop):
        t = template_of(n)
        template = _templates.get(t)
        if template is None:
            template = _templates[t] = _make_template(t, rules, catalog)
        person = person_id(n)
        service, operator, _ = SERVICES[n % len(SERVICES)]
        account = account_id(n)
        applied = template.applied
        snapshot = template.snapshot
        cardholders_rows.append(
            (person, snapshot.birth_date, snapshot.card_applied_on, snapshot.card_applied_online,
             None, False, WARDS[n % len(WARDS)])
        )  # fmt: skip
        persons_rows.append(
            (person, snapshot.birth_date, snapshot.card_applied_on, snapshot.card_applied_online,
             None, False, snapshot.certificate_issued_at, 1, applied)
        )  # fmt: skip
        mykeys_rows.append((mykey_id(n), person, applied - timedelta(minutes=5)))
        registered = applied - timedelta(days=1)
        accounts_rows.append(
            (service, account, operator, HOLDER_NAME, chunk.code_hashes[service], registered,
             registered)
        )  # fmt: skip
        links_rows.append((service, account, person, applied))
        application_id = hashlib.blake2b(f"{SEED}:application:{n}".encode(), digest_size=8)
        applications_rows.append(
            (application_id.hexdigest(), person, phase1, service, account, charge, online, applied,
             "active")
        )  # fmt: skip
        ids = f"s{n:010d}"
        head = f"\x1f{service}\x1f{account}\x1f"
        for e in template.events:
            event_id = ids + e.suffix
            refund_of = ids + e.refund_of if e.refund_of else None
            digest = sha256(f"{event_id}{head}{e.hashed_tail}{refund_of or ''}".encode())
            events_rows.append(
                (operator, event_id, service, account, person, e.kind, e.amount, e.occurred_at,
                 refund_of, digest.hexdigest(), e.received_at, e.reason)
            )  # fmt: skip
        if template.instructions:
            prefix = grant_id_prefix(template.evaluated_at)
            source = f"event:{operator}:{ids}"
            for number, i in enumerate(template.instructions):
                grant_id = f"{prefix}{number:08x}"
                instructions_rows.append(
                    (grant_id, operator, service, account, person, i.measure, i.points,
                     i.grant_on, i.created_at, i.acknowledged_at, i.settlement_month)
                )  # fmt: skip
                lines_rows.extend(
                    (grant_id, source + suffix, measure, person, points)
                    for suffix, measure, points in i.lines
                )
        if n % step == 0 and n // step < SESSIONS:
            rows["citizen_sessions"].append(
                (token_hash(token(n)), person, f"scale-{n}", NOW + timedelta(days=SESSION_DAYS))
            )
    return rows


# --- the load ----------------------------------------------------------------------------------

_worker: dict[str, Any] = {}


def _start_worker(address: str) -> None:
    _worker["connection"] = psycopg.connect(address)
    _worker["rules"] = load_campaigns()
    _worker["catalog"] = load_catalog()


def load_chunk(chunk: Chunk) -> dict[str, tuple[int, float]]:
    """Build one chunk's rows and COPY them in one transaction: rows and COPY seconds per
    table, and the Python seconds under "(build)"."""
    t0 = time.process_time()
    rows = build_chunk(chunk, _worker["rules"], _worker["catalog"])
    figures = {"(build)": (chunk.stop - chunk.start, time.process_time() - t0)}
    connection: psycopg.Connection[Any] = _worker["connection"]
    with connection.cursor() as cursor:
        for table, columns in TABLES.items():
            t0 = time.perf_counter()
            names = ", ".join(name for name, _ in columns)
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types([kind for _, kind in columns])
                for row in rows[table]:
                    copy.write_row(row)
            figures[table] = (len(rows[table]), time.perf_counter() - t0)
    connection.commit()
    return figures


def _definitions(connection: psycopg.Connection[Any]) -> tuple[list[str], list[str], list[str]]:
    """(drop statements, index and key statements, foreign key statements) of the loaded
    tables, from the catalog as the migrations made it."""
    tables = list(TABLES)
    # Foreign keys of other tables that point at a loaded one too (cards → cardholders): they
    # hang on its primary key, which is dropped.
    constraints = connection.execute(
        "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE (conrelid::regclass::text = ANY(%s) "
        "AND contype IN ('p','u','f')) OR (contype = 'f' AND confrelid::regclass::text = ANY(%s))",
        (tables, tables),
    ).fetchall()
    backing = {name for _, name, kind, _ in constraints if kind in "pu"}
    indexes = connection.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
        "AND tablename = ANY(%s)",
        (tables,),
    ).fetchall()
    drops: list[str] = []
    builds: list[str] = []
    foreign: list[str] = []
    for table, name, kind, definition in constraints:
        if kind == "f":
            drops.insert(0, f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            foreign.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for table, name, kind, definition in constraints:
        if kind in "pu":
            drops.append(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            builds.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for name, definition in indexes:
        if name not in backing:
            drops.append(f'DROP INDEX "{name}"')
            builds.append(definition)
    return drops, builds, foreign


def _build(address: str, statements: list[str]) -> float:
    t0 = time.perf_counter()
    with psycopg.connect(address, autocommit=True) as connection:
        connection.execute("SET maintenance_work_mem = '1GB'")
        for statement in statements:
            connection.execute(statement)
    return time.perf_counter() - t0


def generate(url: URL, persons: int, var_dir: Path, *, jobs: int, rebuild: bool) -> dict[str, Any]:
    """A fresh database of `persons` persons; returns the figures (seconds, rows/s, size)."""
    address = conninfo(url)
    figures: dict[str, Any] = {"persons": persons}
    began = time.perf_counter()
    recreate_database(url)
    env = os.environ | {
        "MYNAPOINT_DATABASE_URL": url.render_as_string(hide_password=False),
        "MYNAPOINT_VAR_DIR": str(var_dir),
    }
    mynapoint = str(Path(sys.executable).with_name("mynapoint"))
    subprocess.run([mynapoint, "migrate"], env=env, check=True, capture_output=True)  # noqa: S603
    subprocess.run(  # noqa: S603
        [mynapoint, "clock", "set", NOW.isoformat()], env=env, check=True, capture_output=True
    )
    settings = Settings(database_url=url.render_as_string(hide_password=False), var_dir=var_dir)
    platform = build_platform(settings)
    try:
        code_hashes = {service: platform.code_hasher.hash(code) for service, _, code in SERVICES}
    finally:
        platform.engine.dispose()
    with psycopg.connect(address, autocommit=True) as connection:
        drops, builds, foreign = _definitions(connection)
        if rebuild:
            for statement in drops:
                connection.execute(statement)
    figures["schema_s"] = time.perf_counter() - began

    chunks = [
        Chunk(start, min(start + CHUNK, persons), persons, code_hashes)
        for start in range(0, persons, CHUNK)
    ]
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    t0 = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    done = 0
    with ProcessPoolExecutor(
        jobs, mp_context=context, initializer=_start_worker, initargs=(address,)
    ) as pool:
        for result in pool.map(load_chunk, chunks):
            for table, (rows, seconds) in result.items():
                totals[table][0] += rows
                totals[table][1] += seconds
            done += result["(build)"][0]
            if done % max(CHUNK, persons // 20) < CHUNK:
                elapsed = time.perf_counter() - t0
                print(
                    f"  {done:,} persons in {elapsed:.0f} s ({done / elapsed:,.0f}/s)", flush=True
                )
    figures["load_s"] = time.perf_counter() - t0
    figures["tables"] = {table: (int(r), s) for table, (r, s) in totals.items()}

    t0 = time.perf_counter()
    if rebuild:
        _rebuild(address, builds, foreign)
    figures["index_s"] = time.perf_counter() - t0

    with psycopg.connect(address, autocommit=True) as connection:
        share, extra = divmod(persons, RESERVATION_SHARDS)
        for shard in range(RESERVATION_SHARDS):
            connection.execute(
                "UPDATE mykey_reservation_shards SET reserved = %s WHERE shard = %s",
                (share + (shard < extra), shard),
            )
        t1 = time.perf_counter()
        connection.execute("VACUUM (ANALYZE)")
        figures["analyze_s"] = time.perf_counter() - t1
        row = connection.execute("SELECT pg_database_size(current_database())").fetchone()
        figures["bytes"] = int(row[0]) if row else 0
    figures["total_s"] = time.perf_counter() - began
    return figures


def _rebuild(address: str, builds: list[str], foreign: list[str]) -> None:
    """Two sessions side by side, the largest builds first, shared out in turn; then the
    foreign keys."""
    halves: list[list[str]] = [[], []]
    for k, statement in enumerate(sorted(builds, key=_build_weight)):
        halves[k % 2].append(statement)
    with ThreadPoolExecutor(2) as threads:
        list(threads.map(lambda part: _build(address, part), halves))
    _build(address, foreign)


def _build_weight(statement: str) -> int:
    """Largest tables first (a rough order: events and lines are the largest)."""
    for weight, table in enumerate(("spending_events", "grant_lines", "grant_instructions")):
        if f" {table} " in statement or f"ON public.{table} " in statement:
            return weight
    return 9


def print_figures(figures: dict[str, Any]) -> None:
    load = figures["load_s"]
    print(
        f"generated {figures['persons']:,} persons: schema {figures['schema_s']:.1f} s, "
        f"load {load:.1f} s, indexes {figures['index_s']:.1f} s, "
        f"vacuum+analyze {figures['analyze_s']:.1f} s, whole {figures['total_s']:.1f} s; "
        f"database {figures['bytes'] / 2**30:.2f} GiB"
    )
    for table, (rows, seconds) in figures["tables"].items():
        if table == "(build)":
            print(f"  {'python (rows + engine)':<22}{seconds:8.1f} CPU s in all, "
                  f"{rows / seconds if seconds else 0:>10,.0f} persons/CPU s")  # fmt: skip
            continue
        print(
            f"  {table:<22}{rows:>12,} rows, COPY {seconds:7.1f} s in all "
            f"({rows / seconds if seconds else 0:>9,.0f} rows/s per process), "
            f"{rows / load:>9,.0f} rows/s of the load's wall"
        )


# --- the check ---------------------------------------------------------------------------------


def verify(url: URL, persons: int, sample: int, var_dir: Path) -> int:
    """Re-evaluate `sample` random persons through services.ledger: the number of new
    instructions and changed reasons it would write (0: the stored state is the
    platform's). Rolled back."""
    settings = Settings(database_url=url.render_as_string(hide_password=False), var_dir=var_dir)
    platform = build_platform(settings)
    try:
        chosen = [person_id(n) for n in random.Random(SEED).sample(range(persons), sample)]
        uow = platform.unit_of_work()
        with uow:
            snapshots = uow.persons.get_many(chosen)
            applications = uow.applications.for_persons(chosen)
            events = uow.events.for_persons(chosen)
            lines = uow.grants.lines_for_persons(chosen)
            histories = [
                History(snapshots[p], applications.get(p, []), events.get(p, []), lines[p])
                for p in sorted(chosen)
            ]
            judgement = judge(histories, platform.rules, platform.catalog, NOW, set())
            written = reevaluate(uow, chosen, platform.rules, platform.catalog, NOW)
            # not committed: the unit of work rolls back
        return len(judgement.reasons) + len(judgement.instructions) + len(written)
    finally:
        platform.engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--indexes", choices=("rebuild", "keep"), default="rebuild")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--verify", type=int, default=0, metavar="SAMPLE",
                        help="re-evaluate SAMPLE persons afterwards: nothing changes")  # fmt: skip
    parser.add_argument("--database", default=os.environ.get("MYNAPOINT_BENCH_DATABASE_URL"))
    parser.add_argument("--var-dir", type=Path, default=None)
    args = parser.parse_args()
    if not args.database:
        sys.exit("set MYNAPOINT_BENCH_DATABASE_URL or --database")
    url = parse_database_url(args.database)
    var_dir = args.var_dir or Path(tempfile.mkdtemp(prefix="mynapoint-scale-"))
    figures = generate(url, args.persons, var_dir, jobs=args.jobs,
                       rebuild=args.indexes == "rebuild")  # fmt: skip
    print_figures(figures)
    if args.verify:
        changed = verify(url, args.persons, args.verify, var_dir)
        print(f"verify: re-evaluating {args.verify:,} persons would write {changed} rows")
        return 1 if changed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
