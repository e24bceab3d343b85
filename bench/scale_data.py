"""The data of `make bench-scale`: N persons as the platform would hold them, written by COPY.

For every person (numbered n = 0 … N-1; everything is derived from SEED and n, so a size
is the same data on every run), a history drawn from the generator the demo shares
(`mynapoint.history`, its `Shape`: docs in src/mynapoint/history/shape.py) with platform now
at 2021-10-15:

- `cardholders`: the card authority's record of each person, with the issuing ward;
- `platform_persons`: the platform's copy of the card authority's facts (anchor: 32 hex
  digits, like the authority's random ones; a few persons died);
- a MyKey ID (`mykeys`; the reservation shards count them), made from 2020-07-01 with the
  opening rush and the bumps after the extensions' announcements;
- for most persons, one registered payment account (`payment_accounts`, the security code
  kept as the platform's own keyed hash, one code per service) of one of the twelve phase-1
  services in the shape's shares, linked (`account_links`) by an active phase-1 application
  (`applications`; app, web or a Fukuoka support corner);
- for each support-corner application, the assisted session that made it
  (`assisted_sessions`, ended "applied" at the application's instant), run by its corner's
  history clerk (a staff account added as the demo's writer adds it, `ensure_clerks`);
- 1 to 6 events (about 2.7 a person in all) from 2020-09-01 to 2021-10-15 JST with the
  weekly rhythm and month-end peaks, charges or purchases as the application counts, 5 % of
  them ending with a refund of an earlier one (`spending_events`, content hashes as intake
  computes them, received the next night);
- the grant instructions and lines those events earn, computed by the platform's own
  comparison (`services.ledger.judge`, which runs the points engine `domain.points.evaluate`)
  as the platform saw the person's history grow (an evaluation an hour after each event
  arrived, with the months closed by then): so the stored state is exactly what the platform
  would have computed, and re-evaluating a person writes nothing (checked by `verify`); the
  events' ignore reasons come from the same judgement;
- instructions due by 2021-10-15 were pulled and acknowledged by their operator on their
  grant day; the later ones are pending; settlement months to 2021-07 are closed
  (`settlement_months`; `bench/scale.py` closes August), September and October open;
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
import functools
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
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import psycopg

from common import conninfo, recreate_database
from mynapoint.bootstrap import build_platform
from mynapoint.config import Settings
from mynapoint.db.engine import parse_database_url
from mynapoint.domain.calendar import JST
from mynapoint.domain.mykey import MYKEY_ALPHABET, MYKEY_LENGTH, RESERVATION_SHARDS
from mynapoint.history.generate import Judged, account_id, history_clerk, judge_story
from mynapoint.history.shape import SHAPE
from mynapoint.history.story import Story, Timeline, draw
from mynapoint.history.writer import ensure_clerks
from mynapoint.rules.loader import load_campaigns, load_catalog
from mynapoint.services.auth import token_hash
from mynapoint.services.ledger import History, judge, reevaluate

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from mynapoint.domain.services import Catalog

SEED: Final = 20211015
# Platform time of the benchmark: phase 1's spending extended to 2021-12-31.
NOW: Final = datetime(2021, 10, 15, 10, 0, tzinfo=JST)
# The phase-1 services the shape draws from (each account's security code is its service's
# example code: one code per service, hashed once).
SERVICES: Final = tuple(code for code, _ in SHAPE.services)
SESSIONS: Final = 100_000
SESSION_DAYS: Final = 30
CHUNK: Final = 10_000
MYKEY_STEP: Final = 2_654_435_761  # a prime: n -> n * step mod 36^8 is one-to-one

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
        ("certificate_issued_at", "timestamptz"), ("municipality", "text"),
        ("ledger_version", "int4"), ("updated_at", "timestamptz"),
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
    # Their staff accounts (staff_accounts) are added before the load.
    "assisted_sessions": (
        ("session_id", "text"), ("staff", "text"), ("corner", "text"), ("card_serial", "text"),
        ("person", "text"), ("mykey_id", "text"), ("started_at", "timestamptz"),
        ("last_activity_at", "timestamptz"), ("ended_at", "timestamptz"),
        ("end_reason", "text"),
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


# A person's history is one of TEMPLATES stories drawn by the generator the demo shares
# (`mynapoint.history.generate`), each judged once per process by the platform's own
# comparison; a person's rows are the story's with the person's own ids. The engine sees
# nothing else of a person (ids are only keys to it), so each person's rows are exactly what
# judging that person would give (`verify` re-evaluates a sample).
TEMPLATES: Final = 30_000


@dataclass(frozen=True)
class _Template:
    story: Story
    judged: Judged
    # (suffix, kind, amount, occurred, received, refund_of suffix, reason, hashed tail)
    events: tuple[tuple[str, str, int, datetime, datetime, str | None, str | None, str], ...]


def template_of(n: int) -> int:
    """Person n's story: one of TEMPLATES spread over n."""
    return (n * MYKEY_STEP) % TEMPLATES


# New charges for `make bench-scale`'s event files go to persons who applied with PayPay for
# charges before EVENTS_FROM and are alive: every charge of theirs in the window counts.
EVENTS_FROM: Final = datetime(2021, 5, 2, 0, 0, tzinfo=JST)
EVENTS_UNTIL: Final = datetime(2021, 10, 1, 0, 0, tzinfo=JST)  # exclusive
_FIRST_OF_TEMPLATE: Final = pow(MYKEY_STEP, -1, TEMPLATES)  # n = t * this % TEMPLATES


def charging_persons(persons: int, service: str = "paypay") -> list[int]:
    """The smallest person number of each template whose story charges with `service` from
    before EVENTS_FROM (person n + k * TEMPLATES has the same story)."""
    line = timeline()
    firsts = []
    for t in range(TEMPLATES):
        story = draw(random.Random(f"{SEED}:template:{t}"), line)
        application = story.application
        if (
            application is not None
            and application.service_code == service
            and application.counts.value == "charge"
            and application.applied_at < EVENTS_FROM
            and story.died_on is None
        ):
            first = t * _FIRST_OF_TEMPLATE % TEMPLATES
            if first < persons:
                firsts.append(first)
    return sorted(firsts)


def pick_person(rng: random.Random, firsts: list[int], persons: int) -> int:
    """A random person of those `charging_persons` describes."""
    first = firsts[rng.randrange(len(firsts))]
    return first + TEMPLATES * rng.randrange((persons - 1 - first) // TEMPLATES + 1)


def account_of(n: int, service: str = "paypay") -> str:
    """Person n's account id with `service` (the one their application links, if theirs)."""
    return account_id(_catalog().get(service), n)


@functools.cache
def _catalog() -> Catalog:
    return load_catalog()


def _make_template(t: int, timeline: Timeline) -> _Template:
    story = draw(random.Random(f"{SEED}:template:{t}"), timeline)
    judged = judge_story(story, timeline)
    return _Template(
        story,
        judged,
        tuple(
            (e.suffix, e.kind.value, e.amount, e.occurred_at, e.received_at, e.refund_of,
             judged.reasons.get(e.suffix),
             f"{e.kind.value}\x1f{e.amount}\x1f{e.occurred_at.astimezone(UTC).isoformat()}\x1f")
            for e in story.events
        ),
    )  # fmt: skip


_templates: dict[int, _Template] = {}


def build_chunk(chunk: Chunk, timeline: Timeline) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of persons chunk.start … chunk.stop-1, by table."""
    rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    persons_rows, mykeys_rows = rows["platform_persons"], rows["mykeys"]
    cardholders_rows = rows["cardholders"]
    accounts_rows, links_rows = rows["payment_accounts"], rows["account_links"]
    applications_rows, events_rows = rows["applications"], rows["spending_events"]
    sessions_rows = rows["assisted_sessions"]
    instructions_rows, lines_rows = rows["grant_instructions"], rows["grant_lines"]
    step = session_step(chunk.persons)
    catalog = timeline.catalog
    names = SHAPE.holder_names
    sha256 = hashlib.sha256
    for n in range(chunk.start, chunk.stop):
        t = template_of(n)
        template = _templates.get(t)
        if template is None:
            template = _templates[t] = _make_template(t, timeline)
        story = template.story
        person = person_id(n)
        application = story.application
        cardholders_rows.append(
            (person, story.birth_date, story.card_applied_on, story.card_applied_online,
             story.died_on, False, story.municipality.code)
        )  # fmt: skip
        persons_rows.append(
            (person, story.birth_date, story.card_applied_on, story.card_applied_online,
             story.died_on, False, story.certificate_issued_at, story.municipality.code, 1,
             story.mykey_at)
        )  # fmt: skip
        mykeys_rows.append((mykey_id(n), person, story.mykey_at))
        if n % step == 0 and n // step < SESSIONS:
            rows["citizen_sessions"].append(
                (token_hash(token(n)), person, f"scale-{n}", NOW + timedelta(days=SESSION_DAYS))
            )
        if application is None:
            continue
        service, operator = application.service_code, application.operator_code
        account = account_id(catalog.get(service), n)
        applied = application.applied_at
        registered = applied - timedelta(days=1)
        accounts_rows.append(
            (service, account, operator, names[n % len(names)], chunk.code_hashes[service],
             registered, registered)
        )  # fmt: skip
        links_rows.append((service, account, person, applied))
        application_id = hashlib.blake2b(f"{SEED}:application:{n}".encode(), digest_size=8)
        applications_rows.append(
            (application_id.hexdigest(), person, "phase1", service, account,
             application.counts.value, application.channel.value, applied, "active")
        )  # fmt: skip
        session = application.session
        if application.corner is not None and session is not None:
            # The card read is the one the person's citizen session names (`scale-{n}`).
            session_id = hashlib.blake2b(f"{SEED}:assisted:{n}".encode(), digest_size=16)
            sessions_rows.append(
                (session_id.hexdigest(), history_clerk(application.corner), application.corner,
                 f"scale-{n}", person, mykey_id(n), session.started_at, session.previewed_at,
                 applied, "applied")
            )  # fmt: skip
        ids = f"s{n:010d}"
        head = f"\x1f{service}\x1f{account}\x1f"
        for suffix, kind, amount, occurred, received, refunded, reason, tail in template.events:
            event_id = ids + suffix
            refund_of = ids + refunded if refunded else None
            digest = sha256(f"{event_id}{head}{tail}{refund_of or ''}".encode())
            events_rows.append(
                (operator, event_id, service, account, person, kind, amount, occurred,
                 refund_of, digest.hexdigest(), received, reason)
            )  # fmt: skip
        source = f"event:{operator}:{ids}"
        for i in template.judged.instructions:
            # Like the platform's ids (the milliseconds of their making first), made unique
            # by the person's number instead of random bits.
            milliseconds = int(i.created_at.timestamp() * 1000)
            grant_id = f"{milliseconds:012x}{n:012x}{i.evaluation << 12 | i.number:08x}"
            instructions_rows.append(
                (grant_id, operator, service, account, person, i.measure, i.points,
                 i.grant_on, i.created_at, i.acknowledged_at, i.settlement_month)
            )  # fmt: skip
            lines_rows.extend(
                (grant_id, source + suffix, measure, person, points)
                for suffix, measure, points in i.lines
            )
    return rows


# --- the load ----------------------------------------------------------------------------------

_worker: dict[str, Any] = {}


def timeline(catalog: Catalog | None = None) -> Timeline:
    """The shape's timeline at NOW, months closed on the 20th of the month after next: at
    2021-10-15 July is the last closed month, so `bench/scale.py` closes August itself."""
    return Timeline(load_campaigns(), catalog or load_catalog(), NOW, replace(SHAPE, close_day=20))


def _start_worker(address: str) -> None:
    _worker["connection"] = psycopg.connect(address)
    _worker["timeline"] = timeline()


def load_chunk(chunk: Chunk) -> dict[str, tuple[int, float]]:
    """Build one chunk's rows and COPY them in one transaction: rows and COPY seconds per
    table, and the Python seconds under "(build)"."""
    t0 = time.process_time()
    rows = build_chunk(chunk, _worker["timeline"])
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
        ensure_clerks(platform, {m.corner for m in SHAPE.municipalities if m.corner})
        code_hashes = {
            service: platform.code_hasher.hash(
                platform.catalog.get(service).security_codes[0].example
            )
            for service in SERVICES
        }
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
        for month, closed_at in timeline().closures():
            connection.execute(
                "INSERT INTO settlement_months (month, closed_at) VALUES (%s, %s)",
                (month, closed_at),
            )
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
            closed = {month for month, _ in timeline(platform.catalog).closures()}
            judgement = judge(histories, platform.rules, platform.catalog, NOW, closed)
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
