"""(d) and (e): clients racing one server on PostgreSQL, released together by a barrier.

- 8 clients post one event_id with 8 different amounts: exactly one is accepted, the other 7
  are `event_id_conflict`, and the stored amount is the accepted one's.
- 8 clients post the same event: one accepted, 7 duplicates.
- 20 clients (20 sessions of one card holder) apply for one measure: exactly one 201, the
  others 409, and the holder has one application.
- 4 clients post the same batch: it is accepted once (3 × duplicates) and granted once: the
  points per event are those of a clean ingest of the batch.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import httpx

from reliability.answers import Answer, Tally, send
from reliability.context import Context, Outcome
from reliability.dataset import (
    SERVICE,
    CardHolder,
    api_rows,
    application,
    bearer,
    log_in,
    write_event_file,
)
from reliability.ledger import compare, read_ledger
from reliability.pg_restart import HOLDERS
from reliability.processes import Server

EVENT_CLIENTS = 8
APPLICANTS = 20
BATCH_CLIENTS = 4
BATCH_EVENTS = 500
OCCURRED_AT = "2021-07-01T12:00:00+09:00"
EVENTS = "/api/v1/operator/events"
APPLICATIONS = "/api/v1/applications"


@dataclass(frozen=True)
class Request:
    url: str
    body: dict[str, object]
    headers: dict[str, str] | None = None


def race(clients: list[httpx.Client], requests: list[Request]) -> list[Answer]:
    """Client n posts requests[n]; all are released at once."""
    barrier = threading.Barrier(len(clients))
    answers: list[Answer | None] = [None] * len(clients)

    def one(number: int) -> None:
        request = requests[number]
        barrier.wait()
        answers[number] = send(
            clients[number], "POST", request.url, json=request.body, headers=request.headers
        )

    threads = [threading.Thread(target=one, args=(n,)) for n in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [a if a is not None else Answer(None, "thread failed", {}) for a in answers]


@dataclass
class Verdicts:
    run: str
    tried: str
    tally: Tally
    lost: int = 0
    doubled: int = 0
    failures: list[str] | None = None

    def fail(self, text: str) -> None:
        self.failures = [*(self.failures or []), text]

    def outcome(self, began: float, success: str) -> Outcome:
        problems = list(self.failures or [])
        crashed = self.tally.crashed
        if crashed:
            problems.insert(0, f"{crashed} requests crashed (500 or no answer)")
        reason = (
            f"{problems[0]}" + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else "")
            if problems
            else success
        )
        return Outcome(
            run=self.run,
            tried=self.tried,
            lost=self.lost,
            doubled=self.doubled,
            crashed=crashed,
            result="FAIL" if problems else "PASS",
            reason=f"{reason} [answers: {self.tally.summary()}]",
            seconds=time.monotonic() - began,
        )


def _event(event_id: str, account: str, amount: int) -> dict[str, object]:
    return {"events": [{"event_id": event_id, "service_code": SERVICE,
                        "payment_service_id": account, "kind": "charge", "amount": amount,
                        "occurred_at": OCCURRED_AT}]}  # fmt: skip


def conflicting_events(context: Context, server: Server, database: str, trials: int) -> Outcome:
    began = time.monotonic()
    verdicts = Verdicts(
        "concurrency: one event_id, 8 amounts",
        f"{trials} trials × {EVENT_CLIENTS} clients",
        Tally(),
    )
    with _clients(server, EVENT_CLIENTS, bearer(context.world.operator_key)) as clients:
        for trial in range(trials):
            event_id, account = f"conflict-{trial:02d}", context.world.accounts[3_000 + trial]
            amounts = [1_000 + 100 * n for n in range(EVENT_CLIENTS)]
            answers = race(
                clients, [Request(EVENTS, _event(event_id, account, m)) for m in amounts]
            )
            for answer in answers:
                verdicts.tally.add("events", answer)
            won = [n for n, a in enumerate(answers) if a.body.get("accepted") == 1]
            conflicts = sum(1 for a in answers if _row_code(a) == "event_id_conflict")
            duplicates = sum(1 for a in answers if a.body.get("duplicates") == 1)
            stored = context.cluster.rows(
                "SELECT amount FROM spending_events WHERE event_id = %s", database, (event_id,)
            )
            if len(won) != 1 or conflicts != EVENT_CLIENTS - 1:
                verdicts.fail(
                    f"trial {trial}: {len(won)} accepted, {conflicts} event_id_conflict, "
                    f"{duplicates} answered as duplicates (of {EVENT_CLIENTS})"
                )
            if not won:
                verdicts.lost += 1
            verdicts.doubled += max(0, len(won) - 1)
            if won and [int(str(r[0])) for r in stored] != [amounts[won[0]]]:
                verdicts.fail(f"trial {trial}: stored {stored}, accepted {amounts[won[0]]}")
    return verdicts.outcome(began, "one accepted and 7 event_id_conflict every time")


def same_event(context: Context, server: Server, trials: int) -> Outcome:
    began = time.monotonic()
    verdicts = Verdicts(
        "concurrency: one event, 8 clients",
        f"{trials} trials × {EVENT_CLIENTS} clients",
        Tally(),
    )
    with _clients(server, EVENT_CLIENTS, bearer(context.world.operator_key)) as clients:
        for trial in range(trials):
            body = _event(f"same-{trial:02d}", context.world.accounts[3_100 + trial], 2_400)
            answers = race(clients, [Request(EVENTS, body)] * len(clients))
            for answer in answers:
                verdicts.tally.add("events", answer)
            accepted = sum(1 for a in answers if a.body.get("accepted") == 1)
            duplicates = sum(1 for a in answers if a.body.get("duplicates") == 1)
            if accepted != 1 or duplicates != EVENT_CLIENTS - 1:
                verdicts.fail(f"trial {trial}: {accepted} accepted, {duplicates} duplicates")
            verdicts.lost += accepted == 0
            verdicts.doubled += max(0, accepted - 1)
    return verdicts.outcome(began, "one accepted and 7 duplicates every time")


def applications(server: Server, holders: list[CardHolder]) -> Outcome:
    began = time.monotonic()
    verdicts = Verdicts(
        "concurrency: 20 applications, one person",
        f"{len(holders)} trials × {APPLICANTS} sessions of one holder",
        Tally(),
    )
    with _clients(server, APPLICANTS, {}) as clients:
        for trial, holder in enumerate(holders):
            tokens = [log_in(client, holder) for client in clients]
            answers = race(
                clients,
                [Request(APPLICATIONS, application(holder), bearer(t)) for t in tokens],
            )
            for answer in answers:
                verdicts.tally.add("applications", answer)
            created = sum(1 for a in answers if a.status == 201)
            refused = sum(1 for a in answers if a.status == 409)
            me = send(clients[0], "GET", "/api/v1/me", headers=bearer(tokens[0]))
            found = me.body.get("applications")
            held = len(found) if isinstance(found, list) else -1
            if created != 1 or refused != APPLICANTS - 1 or held != 1:
                verdicts.fail(
                    f"trial {trial}: {created} × 201, {refused} × 409, {held} applications held"
                )
            verdicts.lost += created == 0
            verdicts.doubled += max(0, created - 1) + max(0, held - 1)
    return verdicts.outcome(began, "one 201 and 19 × 409 every time")


def batches(context: Context, server: Server, database: str, trials: int) -> Outcome:
    began = time.monotonic()
    verdicts = Verdicts(
        "concurrency: one batch, 4 clients",
        f"{trials} trials × {BATCH_CLIENTS} clients × {BATCH_EVENTS} events",
        Tally(),
    )
    file = write_event_file(
        context.workdir / "race-batches.csv",
        context.rng,
        context.world.accounts[4_000:4_100],
        BATCH_EVENTS * trials,
        prefix="race",
    )
    reference = context.reference(file)
    rows = api_rows(file)
    with _clients(server, BATCH_CLIENTS, bearer(context.world.operator_key)) as clients:
        for trial in range(trials):
            batch = rows[trial * BATCH_EVENTS : (trial + 1) * BATCH_EVENTS]
            answers = race(clients, [Request(EVENTS, {"events": batch})] * len(clients))
            for answer in answers:
                verdicts.tally.add("events", answer)
            accepted = sum(int(str(a.body.get("accepted", 0))) for a in answers)
            duplicates = sum(int(str(a.body.get("duplicates", 0))) for a in answers)
            rejected = sum(len(r) for a in answers if isinstance(r := a.body.get("rejected"), list))
            if (accepted, duplicates) != (len(batch), (BATCH_CLIENTS - 1) * len(batch)):
                verdicts.fail(
                    f"trial {trial}: {accepted} accepted, {duplicates} duplicates, "
                    f"{rejected} rejected of {BATCH_CLIENTS} × {len(batch)}"
                )
    differences = compare(
        read_ledger(context.cluster, database), file.valid, reference.ledger, only=set(file.valid)
    )
    verdicts.lost += differences.lost
    verdicts.doubled += differences.doubled
    for problem in differences.problems():
        verdicts.fail(problem)
    return verdicts.outcome(began, "stored and granted once, as a clean ingest")


class _clients:  # noqa: N801 - reads as a with-statement helper
    """n clients with their own connections, opened (one /healthz each) before a race."""

    def __init__(self, server: Server, n: int, headers: dict[str, str]) -> None:
        self.clients = [
            httpx.Client(base_url=server.base, headers=headers, timeout=120) for _ in range(n)
        ]

    def __enter__(self) -> list[httpx.Client]:
        for client in self.clients:
            client.get("/healthz")
        return self.clients

    def __exit__(self, *_: object) -> None:
        for client in self.clients:
            client.close()


def _row_code(answer: Answer) -> str:
    rejected = answer.body.get("rejected")
    if isinstance(rejected, list) and rejected and isinstance(rejected[0], dict):
        return str(rejected[0].get("code", ""))
    return answer.code


def run(context: Context) -> list[Outcome]:
    trials = 3 if context.quick else 10
    database = context.fresh_database("concurrency")
    var_dir = context.folder("concurrency")
    server = Server(context.port(), context.env(database, var_dir), var_dir / "server.log")
    holders = list(context.world.holders[HOLDERS : HOLDERS + (1 if context.quick else 3)])
    try:
        server.start()
        outcomes = [
            conflicting_events(context, server, database, trials),
            same_event(context, server, trials),
            applications(server, holders),
            batches(context, server, database, 1 if context.quick else 3),
        ]
        if server.died():
            outcomes[-1].result = "FAIL"
            outcomes[-1].reason = "the server exited by itself; " + outcomes[-1].reason
    finally:
        server.stop()
    tracebacks = server.tracebacks()
    if tracebacks:
        context.say(f"concurrency: {tracebacks} tracebacks in the server log")
    context.drop(database)
    return outcomes
