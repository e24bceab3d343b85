"""The platform's guarantees hold across worker processes: `mynapoint serve --workers 2` on
PostgreSQL, clients racing it from threads (each its own connection, released together by a
barrier), the invariants read from the database afterwards.

The scenarios are those of the single-process tests (tests/e2e/test_card_login.py,
tests/e2e/test_applications.py, tests/applications_contract.py): one MyKey ID per person, one
application per measure, one person per payment account, and wrong security codes that stop
exactly at the lock. Half of the racers are connected to each worker: the access log says which
process served each connection's first request (`pid`).
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from mynapoint.bootstrap import Platform, build_platform
from mynapoint.config import Settings
from mynapoint.db.tables import account_code_tries, applications, mykeys
from mynapoint.domain.accounts import ACCOUNT_CODE_TRIES
from mynapoint.domain.calendar import JST
from mynapoint.jpki.card import VirtualCard
from mynapoint.services.operators import issue_operator_key
from mynapoint.services.throttling import DEFAULT_LIMITS

MYNAPOINT = Path(sys.executable).with_name("mynapoint")
DEMO_DAY = datetime(2021, 7, 19, 10, 0, tzinfo=JST)
PIN = "1234"
CODE = "1234"
RACERS = 8
START_TIMEOUT_S = 90.0
# Many logins and applications from 127.0.0.1 within a minute, on purpose.
GENEROUS_LIMITS = dict.fromkeys(DEFAULT_LIMITS, "1000000/minute")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass
class TwoWorkers:
    base: str
    platform: Platform
    log: Path
    operator_key: str
    _accounts: int = 0

    def count(self, query: Any) -> int:
        with self.platform.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def card(self) -> VirtualCard:
        return self.platform.authority.issue_card(
            PIN,
            birth_date=date(1980, 4, 1),
            card_applied_on=date(2021, 1, 10),
            issued_at=datetime(2021, 3, 1, 9, 0, tzinfo=JST),
        )

    def token(self, card: VirtualCard) -> str:
        with httpx.Client(base_url=self.base, timeout=60) as client:
            challenge = client.post("/api/v1/auth/challenges").json()
            signature = self.platform.authority.sign_challenge(
                card, PIN, base64.b64decode(challenge["nonce"])
            )
            response = client.post(
                "/api/v1/auth/sessions",
                json={
                    "challenge_id": challenge["challenge_id"],
                    "certificate": card.certificate_pem,
                    "signature": base64.b64encode(signature).decode(),
                },
            )
        assert response.status_code == 201, response.text
        token: str = response.json()["token"]
        return token

    def citizen(self, card: VirtualCard) -> str:
        token = self.token(card)
        with httpx.Client(base_url=self.base, timeout=60) as client:
            response = client.post("/api/v1/mykey", headers=bearer(token))
        assert response.status_code in {200, 201}, response.text
        return token

    def account(self) -> str:
        """A new PayPay account registered by the operator (security code CODE)."""
        self._accounts += 1
        payment_service_id = f"{9000000000000000 + self._accounts}"
        with httpx.Client(base_url=self.base, timeout=60) as client:
            response = client.put(
                f"/api/v1/operator/services/paypay/accounts/{payment_service_id}",
                json={"security_code": CODE, "holder_name": "ヤマダ タロウ"},
                headers=bearer(self.operator_key),
            )
        assert response.status_code == 201, response.text
        return payment_service_id

    def probe_pids(self, count: int) -> dict[str, int]:
        """The process that served each of the first `count` probes, by the probe's name (the
        access log line comes right after the response: read until all are there)."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            found: dict[str, int] = {}
            for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
                if not line.startswith("{"):
                    continue
                entry = json.loads(line)
                path = str(entry.get("path", ""))
                if entry.get("logger") == "mynapoint.access" and path.startswith(PROBE):
                    found[path.rsplit("/", 1)[1]] = int(entry["pid"])
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


PROBE = "/probe"
MAX_CONNECTIONS = 128


def _probe_letters(number: int) -> str:
    # Letters only: the access log keeps short words of a path as they are (logs.py).
    letters = ""
    number += 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def connections_on_both_workers(server: TwoWorkers) -> list[httpx.Client]:
    """RACERS clients, half of them connected to each worker. Connections are opened (and kept
    alive) until each worker has accepted enough; each one's worker is read from the access log
    line of a probe request of its own."""
    opened: list[tuple[httpx.Client, str]] = []
    by_pid: dict[int, list[httpx.Client]] = {}
    while len(opened) < MAX_CONNECTIONS:
        batch = [
            (httpx.Client(base_url=server.base, timeout=60), _probe_letters(len(opened) + n))
            for n in range(RACERS)
        ]
        threads = [
            threading.Thread(target=client.get, args=(f"{PROBE}/{name}",)) for client, name in batch
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        opened += batch
        served = server.probe_pids(len(opened))
        by_pid = {}
        for client, name in opened:
            by_pid.setdefault(served[name], []).append(client)
        if len(by_pid) == 2 and all(len(c) >= RACERS // 2 for c in by_pid.values()):
            chosen = [c for clients in by_pid.values() for c in clients[: RACERS // 2]]
            for client, _ in opened:
                if client not in chosen:
                    client.close()
            return chosen
    for client, _ in opened:
        client.close()
    pytest.fail(f"{MAX_CONNECTIONS} connections did not reach both workers: {by_pid.keys()}")


def race(
    server: TwoWorkers, send: Callable[[httpx.Client, int], httpx.Response]
) -> list[httpx.Response]:
    """Racer n calls send(its own client, n), half of them on each worker; all are released
    at once."""
    clients = connections_on_both_workers(server)
    barrier = threading.Barrier(RACERS)
    answers: list[httpx.Response | BaseException | None] = [None] * RACERS

    def one(number: int) -> None:
        barrier.wait()
        try:
            answers[number] = send(clients[number], number)
        except BaseException as exc:  # noqa: BLE001 - reported below with the others
            answers[number] = exc

    threads = [threading.Thread(target=one, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    failed = [a for a in answers if not isinstance(a, httpx.Response)]
    assert not failed, failed
    return [a for a in answers if isinstance(a, httpx.Response)]


def code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


@pytest.fixture(scope="module")
def server(postgresql_worker_engine, tmp_path_factory) -> Iterator[TwoWorkers]:
    schema = "two_workers"
    with postgresql_worker_engine.connect() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = postgresql_worker_engine.url.update_query_dict(
        {"options": f"-csearch_path={schema}"}
    ).render_as_string(hide_password=False)
    var_dir = tmp_path_factory.mktemp("two-workers")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYNAPOINT_")} | {
        "MYNAPOINT_DATABASE_URL": url,
        "MYNAPOINT_VAR_DIR": str(var_dir),
        "MYNAPOINT_CLOCK_START": DEMO_DAY.isoformat(),
        "MYNAPOINT_RATE_LIMITS": json.dumps(GENEROUS_LIMITS),
    }
    port = _free_port()
    log = var_dir / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - the project's own command, fixed arguments
            [str(MYNAPOINT), "serve", "--port", str(port), "--workers", "2"],
            env=env,
            cwd=var_dir,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    platform: Platform | None = None
    try:
        _wait_until_serving(process, base, log)
        # The test's own wiring on the same database: the card authority, the recorded clock.
        platform = build_platform(Settings(database_url=url, var_dir=var_dir))
        key = issue_operator_key(
            platform.unit_of_work(), "paypay", platform.catalog, platform.clock.now()
        )
        yield TwoWorkers(base, platform, log, key)
    finally:
        if platform is not None:
            platform.engine.dispose()
        _stop(process)


def _wait_until_serving(process: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"mynapoint serve stopped:\n{log.read_text(errors='replace')}")
        started = log.read_text(errors="replace").count("Application startup complete")
        try:
            healthy = httpx.get(f"{base}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            healthy = False
        if healthy and started >= 2:  # both workers
            return
        time.sleep(0.2)
    pytest.fail(f"two workers did not serve within {START_TIMEOUT_S:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    # SIGTERM: uvicorn's supervisor stops its workers, which finish what is in flight.
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_serve_says_that_rate_limits_in_memory_count_per_worker(server):
    said = server.log.read_text(encoding="utf-8", errors="replace")
    assert "rate limits count in each of the 2 worker processes" in said
    assert "MYNAPOINT_RATE_LIMIT_STORAGE=redis://" in said


def test_concurrent_mykey_requests_for_one_person_give_one_id(server):
    card = server.card()
    tokens = [server.token(card) for _ in range(RACERS)]

    answers = race(server, lambda c, n: c.post("/api/v1/mykey", headers=bearer(tokens[n])))

    assert sorted(a.status_code for a in answers) == [200] * (RACERS - 1) + [201]
    assert len({a.json()["mykey_id"] for a in answers}) == 1
    mykey_id = answers[0].json()["mykey_id"]
    assert server.count(select(func.count()).where(mykeys.c.mykey_id == mykey_id)) == 1
    person = select(mykeys.c.person).where(mykeys.c.mykey_id == mykey_id).scalar_subquery()
    assert server.count(select(func.count()).where(mykeys.c.person == person)) == 1


def apply_body(payment_service_id: str, security_code: str = CODE) -> dict[str, str]:
    return {
        "measure": "phase1",
        "service_code": "paypay",
        "payment_service_id": payment_service_id,
        "security_code": security_code,
        "counts": "charge",
    }


def test_concurrent_applications_for_one_measure_give_one(server):
    card = server.card()
    tokens = [server.citizen(card)] + [server.token(card) for _ in range(RACERS - 1)]
    accounts = [server.account() for _ in range(RACERS)]

    answers = race(
        server,
        lambda c, n: c.post(
            "/api/v1/applications", json=apply_body(accounts[n]), headers=bearer(tokens[n])
        ),
    )

    assert sorted(a.status_code for a in answers) == [201] + [409] * (RACERS - 1)
    assert {code(a) for a in answers if a.status_code == 409} == {"already_applied"}
    stored = select(func.count()).where(applications.c.payment_service_id.in_(accounts))
    assert server.count(stored) == 1


def test_persons_applying_with_one_account_at_once_give_it_to_one(server):
    tokens = [server.citizen(server.card()) for _ in range(RACERS)]
    account = server.account()

    answers = race(
        server,
        lambda c, n: c.post(
            "/api/v1/applications", json=apply_body(account), headers=bearer(tokens[n])
        ),
    )

    assert sorted(a.status_code for a in answers) == [201] + [409] * (RACERS - 1)
    assert {code(a) for a in answers if a.status_code == 409} == {"account_taken"}
    stored = select(func.count()).where(applications.c.payment_service_id == account)
    assert server.count(stored) == 1


def test_concurrent_wrong_codes_stop_exactly_at_the_lock(server):
    card = server.card()
    tokens = [server.citizen(card)] + [server.token(card) for _ in range(RACERS - 1)]
    account = server.account()
    wrong = {"service_code": "paypay", "payment_service_id": account, "security_code": "9999"}

    answers = race(
        server,
        lambda c, n: c.post("/api/v1/applications/preview", json=wrong, headers=bearer(tokens[n])),
    )

    assert {code(a) for a in answers} <= {"invalid_account_credentials", "account_locked"}
    tries = select(account_code_tries.c.wrong_codes, account_code_tries.c.locked_until).where(
        account_code_tries.c.payment_service_id == account
    )
    with server.platform.engine.connect() as connection:
        rows = connection.execute(tries).all()
    # One row for the person and the account: the count stopped exactly at the lock.
    assert len(rows) == 1
    assert rows[0].wrong_codes == ACCOUNT_CODE_TRIES
    assert rows[0].locked_until is not None
    right = {**wrong, "security_code": CODE}
    with httpx.Client(base_url=server.base, timeout=60) as client:
        locked = client.post("/api/v1/applications/preview", json=right, headers=bearer(tokens[0]))
    assert locked.status_code == 423
    assert code(locked) == "account_locked"
