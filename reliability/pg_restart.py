"""(c) The scratch PostgreSQL cluster restarted (`pg_ctl restart -m fast`, then `-m immediate`,
…) while clients send event batches (`POST /api/v1/operator/events`) and card holders apply
(`POST /api/v1/applications`).

Every request must get a success or a clean error: a 503 `unavailable` is clean, a 500 or no
answer is a crash. Afterwards every batch answered 200 must be stored whole; resending every
batch must store nothing new for those (nothing was lost) and all or nothing for the others
(a batch is one transaction); the ledger must equal a clean ingest of the same events; every
card holder must end with exactly one application.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus

import httpx

from reliability.answers import Answer, Tally, send
from reliability.cluster import Mode
from reliability.context import Context, Outcome
from reliability.dataset import (
    CardHolder,
    api_rows,
    application,
    bearer,
    log_in,
    write_event_file,
)
from reliability.ledger import compare, read_ledger
from reliability.processes import Server

BATCH = 250
BATCH_CLIENTS = 3
APPLICATION_CLIENTS = 2
HOLDERS = 12  # the first card holders; the concurrency runs use the others
LOAD_LIMIT_SECONDS = 180
PENDING_WAIT_SECONDS = 90  # three recovery passes
RETRY_PAUSE = 0.3
Holders = list[tuple[int, CardHolder, str]]  # (number, holder, session token)


@dataclass
class Load:
    """What the clients sent and got, shared between their threads."""

    batches: list[list[dict[str, object]]]
    answers: dict[int, list[Answer]] = field(default_factory=dict)
    next_batch: int = 0
    restarts_done: threading.Event = field(default_factory=threading.Event)
    tally: Tally = field(default_factory=Tally)
    applied: dict[int, Answer] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> int | None:
        with self.lock:
            if self.next_batch < len(self.batches):
                self.next_batch += 1
                return self.next_batch - 1
            return None

    def note(self, index: int, answer: Answer) -> None:
        with self.lock:
            self.answers.setdefault(index, []).append(answer)
        self.tally.add("events", answer)


def _send_batches(
    client: httpx.Client, load: Load, deadline: float, draw: Callable[[], int]
) -> None:
    """New batches while there are any; then earlier ones again until the restarts are over,
    so the load lasts as long as they do."""
    while time.monotonic() < deadline:
        index = load.take()
        if index is None:
            if load.restarts_done.is_set() or not load.batches:
                return
            index = draw()
        load.note(
            index,
            send(client, "POST", "/api/v1/operator/events", json={"events": load.batches[index]}),
        )


def _apply(client: httpx.Client, load: Load, holders: Holders, deadline: float) -> None:
    """Each holder's application, tried again after anything but 201 or 409; `/me` between."""
    for number, holder, token in holders:
        while time.monotonic() < deadline:
            answer = send(client, "POST", "/api/v1/applications", json=application(holder),
                          headers=bearer(token))  # fmt: skip
            load.tally.add("applications", answer)
            if answer.status in {201, 409}:
                load.applied[number] = answer
                break
            time.sleep(RETRY_PAUSE)
        load.tally.add("me", send(client, "GET", "/api/v1/me", headers=bearer(token)))


def _load_while_restarting(
    context: Context, server: Server, load: Load, holders: Holders, modes: list[Mode]
) -> list[str]:
    """The clients' threads sending while the cluster restarts once per mode; returns what
    each restart took."""
    deadline = time.monotonic() + LOAD_LIMIT_SECONDS
    operator = bearer(context.world.operator_key)
    clients = [
        httpx.Client(base_url=server.base, timeout=60, headers=operator)
        for _ in range(BATCH_CLIENTS + APPLICATION_CLIENTS)
    ]
    threads = [
        threading.Thread(
            target=_send_batches,
            args=(clients[k], load, deadline, lambda: context.rng.randrange(len(load.batches))),
        )
        for k in range(BATCH_CLIENTS)
    ] + [
        threading.Thread(
            target=_apply,
            args=(clients[BATCH_CLIENTS + k], load, holders[k::APPLICATION_CLIENTS], deadline),
        )
        for k in range(APPLICATION_CLIENTS)
    ]
    for thread in threads:
        thread.start()
    restarts = []
    try:
        for mode in modes:
            time.sleep(2.5)
            t0 = time.monotonic()
            context.cluster.restart(mode)
            restarts.append(f"{mode} {time.monotonic() - t0:.1f} s")
            context.say(f"pg restart -m {mode}: {restarts[-1]}; {load.tally.summary()}")
        time.sleep(2.5)
    finally:
        load.restarts_done.set()
        for thread in threads:
            thread.join()
        for client in clients:
            client.close()
    return restarts


@dataclass
class Resent:
    new_events: int = 0  # events stored only now, of batches that had been answered 200
    lost_batches: int = 0  # batches answered 200 of which something was stored only now
    half_stored: int = 0  # failed batches of which only part had been stored
    problems: list[str] = field(default_factory=list)


def _resend(server: Server, load: Load, operator: dict[str, str]) -> Resent:
    resent = Resent()
    with httpx.Client(base_url=server.base, timeout=60, headers=operator) as client:
        for index, batch in enumerate(load.batches):
            if not server.alive():
                resent.problems.append(f"the server was gone when batch {index} was resent")
                break
            before = load.answers.get(index, [])
            answer = _until_answered(client, "POST", "/api/v1/operator/events", {"events": batch})
            accepted = int(str(answer.body.get("accepted", -1)))
            if answer.status != HTTPStatus.OK:
                resent.problems.append(f"resending batch {index}: {answer.label}")
            elif any(a.status == HTTPStatus.OK for a in before):
                resent.lost_batches += accepted > 0
                resent.new_events += accepted
            elif accepted not in {0, len(batch)}:
                resent.half_stored += 1
    if resent.lost_batches:
        resent.problems.append(
            f"{resent.lost_batches} batches answered 200 stored {resent.new_events:,} new "
            "events when resent"
        )
    if resent.half_stored:
        resent.problems.append(f"{resent.half_stored} batches that failed were half stored")
    return resent


def _applications_held(server: Server, holders: Holders) -> list[int]:
    """Each holder's active applications, after applying again where none was made."""
    held = []
    with httpx.Client(base_url=server.base, timeout=60) as client:
        for _, holder, token in holders:
            if not server.alive():
                held.append(0)
                continue
            me = _until_answered(client, "GET", "/api/v1/me", None, bearer(token))
            if me.status == HTTPStatus.OK and me.body.get("applications") == []:
                _until_answered(
                    client, "POST", "/api/v1/applications", application(holder), bearer(token)
                )
                me = _until_answered(client, "GET", "/api/v1/me", None, bearer(token))
            found = me.body.get("applications")
            rows = found if isinstance(found, list) else []
            held.append(sum(1 for a in rows if isinstance(a, dict) and a.get("status") == "active"))
    return held


def run(context: Context) -> Outcome:
    began = time.monotonic()
    modes: list[Mode] = ["fast", "immediate"] if context.quick else ["fast", "immediate", "fast"]
    file = write_event_file(
        context.workdir / "pg-restart-events.csv",
        context.rng,
        context.world.accounts[:2_000],
        8_000 if context.quick else 20_000,
        prefix="pg",
    )
    reference = context.reference(file)
    rows = api_rows(file)
    load = Load([rows[i : i + BATCH] for i in range(0, len(rows), BATCH)])
    database = context.fresh_database("pg_restart")
    var_dir = context.folder("pg-restart")
    server = Server(context.port(), context.env(database, var_dir), var_dir / "server.log")
    try:
        server.start()
        with httpx.Client(base_url=server.base, timeout=60) as client:
            holders = [
                (n, holder, log_in(client, holder))
                for n, holder in enumerate(context.world.holders[:HOLDERS])
            ]
        restarts = _load_while_restarting(context, server, load, holders, modes)
        resent = _resend(server, load, bearer(context.world.operator_key))
        held = _applications_held(server, holders)
        settled = _pending_finished(context, database)
        died = server.died()
    finally:
        server.stop()
    problems = list(resent.problems)
    if settled is None:
        problems.append(f"persons still pending evaluation {PENDING_WAIT_SECONDS} s after the load")
    if died:
        problems.append("the server exited by itself")
    if load.next_batch < len(load.batches):
        problems.append(f"only {load.next_batch} of {len(load.batches)} batches sent in time")
    wrong = sum(1 for n in held if n != 1)
    if wrong:
        problems.append(f"{wrong} card holders without exactly one application")
    differences = compare(read_ledger(context.cluster, database), file.valid, reference.ledger)
    problems += differences.problems()
    if load.tally.crashed:
        problems.insert(0, f"{load.tally.crashed} requests crashed (500 or no answer)")
    context.say(f"pg restart: {load.tally.summary()}; server tracebacks {server.tracebacks()}")
    context.drop(database)
    answers = f"[answers: {load.tally.summary()}; {server.tracebacks()} server tracebacks]"
    if settled:
        answers += (
            f" [batches stored before a restart cut their evaluation: points {settled:.0f} s later]"
        )
    return Outcome(
        run="PostgreSQL restarted under load",
        tried=(
            f"{len(modes)} restarts ({', '.join(restarts)}); "
            f"{sum(len(a) for a in load.answers.values())} batches of {BATCH} events and "
            f"{len(holders)} applicants during them"
        ),
        lost=differences.lost + resent.new_events,
        doubled=differences.doubled + sum(max(0, n - 1) for n in held),
        crashed=load.tally.crashed + int(died),
        result="FAIL" if problems else "PASS",
        reason=f"{'; '.join(problems)} {answers}"
        if problems
        else f"nothing lost or doubled {answers}",
        seconds=time.monotonic() - began,
    )


def _pending_finished(context: Context, database: str) -> float | None:
    """Seconds the server took to finish the evaluations a restart cut short (its recovery
    pass evaluates a pending marker the second time it sees it, every 30 s); None if some
    were still pending after PENDING_WAIT_SECONDS. A batch answered 503 after its events were
    stored, then resent (all duplicates), earns its points this way."""
    began = time.monotonic()
    while time.monotonic() - began < PENDING_WAIT_SECONDS:
        ((pending,),) = context.cluster.rows("SELECT count(*) FROM pending_evaluations", database)
        if pending == 0:
            return time.monotonic() - began
        time.sleep(1)
    return None


def _until_answered(
    client: httpx.Client,
    method: str,
    url: str,
    body: dict[str, object] | None,
    headers: dict[str, str] | None = None,
    seconds: float = 30,
) -> Answer:
    """After the load: the same request until it is not a 5xx or no answer (bounded)."""
    deadline = time.monotonic() + seconds
    while True:
        answer = send(client, method, url, json=body, headers=headers)
        if (answer.status is not None and answer.status < 500) or time.monotonic() > deadline:
            return answer
        time.sleep(RETRY_PAUSE)
