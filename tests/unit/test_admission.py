"""Admission control (web/admission.py) in front of an app whose requests wait until the test
lets them go: the classes, their shares, citizens first, the bounded queue, the 503 with
Retry-After and `overloaded`, and the waiting page in Japanese and English.

Nothing here waits on a clock: slots are held by requests parked on an event, and the test
looks at the shares' own counters to know that a request is inside or queued.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from mynapoint.web.admission import (
    ARRIVALS,
    CITIZENS,
    OPERATORS,
    STAFF,
    Admission,
    AdmissionLimits,
    request_class,
)

RETRY_AFTER = 7
CITIZEN = {"Authorization": "Bearer a-session-token"}


class Parked:
    """The app behind admission: a request with ?hold waits until `release` is set."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.served = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if b"hold" in scope.get("query_string", b""):
            await self.release.wait()
        self.served += 1
        await PlainTextResponse("served")(scope, receive, send)


def limits(slots: int = 1, queue_factor: int = 0, wait_seconds: float = 0) -> AdmissionLimits:
    return AdmissionLimits(
        slots=dict.fromkeys((CITIZENS, ARRIVALS, OPERATORS, STAFF), slots),
        queue_factor=queue_factor,
        wait_seconds=wait_seconds,
        retry_after_seconds=RETRY_AFTER,
    )


Scenario = Callable[[httpx.AsyncClient, Admission, Parked], Awaitable[None]]


def run(scenario: Scenario, given: AdmissionLimits) -> None:
    async def main() -> None:
        parked = Parked()
        admission = Admission(parked, limits=given)
        transport = httpx.ASGITransport(app=admission)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await scenario(client, admission, parked)

    asyncio.run(asyncio.wait_for(main(), timeout=30))


async def until(condition: Callable[[], bool]) -> None:
    """Let the other tasks run until `condition` holds (a request inside, or queued)."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    pytest.fail("the condition never held")


def shares(admission: Admission) -> dict[str, Any]:
    assert admission.shares is not None
    return admission.shares


async def hold(
    client: httpx.AsyncClient, admission: Admission, name: str, path: str, **kwargs: Any
) -> asyncio.Task[httpx.Response]:
    """A request of class `name` that takes a slot and keeps it until released."""
    share = shares(admission)[name]
    before = share.in_flight
    task = asyncio.create_task(client.get(path, params={"hold": "1"}, **kwargs))
    await until(lambda: share.in_flight == before + 1)
    return task


# --- which class a request belongs to ----------------------------------------------------------


def scope(path: str, headers: dict[str, str] | None = None) -> Scope:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return {"type": "http", "path": path, "headers": raw}


@pytest.mark.parametrize(
    ("path", "headers", "expected"),
    [
        ("/api/v1/me", CITIZEN, CITIZENS),
        ("/api/v1/applications", CITIZEN, CITIZENS),
        ("/api/v1/auth/challenges", CITIZEN, CITIZENS),  # a representative's signature
        ("/api/v1/auth/challenges", {}, ARRIVALS),
        ("/api/v1/auth/sessions", {}, ARRIVALS),
        ("/api/v1/campaigns", {}, ARRIVALS),
        ("/api/v1/me", {"Authorization": "Bearer "}, ARRIVALS),
        ("/api/v1/me", {"Authorization": "Basic eDp5"}, ARRIVALS),
        ("/api/v1/operator/events", {"Authorization": "Bearer key"}, OPERATORS),
        ("/api/v1/operator/services/paypay/accounts/1", {}, OPERATORS),
        ("/", {}, ARRIVALS),
        ("/login", {}, ARRIVALS),
        ("/", {"Cookie": "mp_lang=en; mp_session=abc"}, CITIZENS),
        ("/me", {"Cookie": "mp_session=abc"}, CITIZENS),
        ("/me", {"Cookie": "mp_session="}, ARRIVALS),
        ("/me", {"Cookie": "not_mp_session=abc"}, ARRIVALS),
        ("/staff/sign-in", {}, STAFF),
        ("/counter/card", {}, STAFF),
        ("/staffing", {}, ARRIVALS),
        ("/", {"Cookie": "mp_staff=abc"}, STAFF),
        ("/static/site.css", {}, None),
        ("/healthz", {}, None),
    ],
)
def test_each_request_belongs_to_one_class(path, headers, expected):
    assert request_class(scope(path, headers)) == expected


# --- shares, priority, the queue ---------------------------------------------------------------


def test_a_request_finding_its_class_full_gets_503_overloaded_with_retry_after():
    async def scenario(client, admission, parked):
        held = await hold(client, admission, CITIZENS, "/api/v1/me", headers=CITIZEN)

        refused = await client.get("/api/v1/me", headers=CITIZEN)

        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == str(RETRY_AFTER)
        assert refused.json()["error"]["code"] == "overloaded"
        assert refused.json()["error"]["details"] == {"retry_after_seconds": RETRY_AFTER}
        assert shares(admission)[CITIZENS].refused == 1
        parked.release.set()
        assert (await held).status_code == 200
        assert (await client.get("/api/v1/me", headers=CITIZEN)).status_code == 200

    run(scenario, limits())


def test_each_class_keeps_its_own_share():
    async def scenario(client, admission, parked):
        held = [
            await hold(client, admission, ARRIVALS, "/api/v1/campaigns"),
            await hold(client, admission, OPERATORS, "/api/v1/operator/grants"),
        ]

        assert (await client.get("/api/v1/campaigns")).status_code == 503
        assert (await client.get("/api/v1/operator/grants")).status_code == 503
        assert (await client.get("/api/v1/me", headers=CITIZEN)).status_code == 200
        assert (await client.get("/staff/log")).status_code == 200
        parked.release.set()
        assert [(await task).status_code for task in held] == [200, 200]

    run(scenario, limits())


def test_new_arrivals_are_refused_while_a_citizen_inside_waits_for_a_slot():
    async def scenario(client, admission, parked):
        citizens = shares(admission)[CITIZENS]
        held = await hold(client, admission, CITIZENS, "/api/v1/me", headers=CITIZEN)
        waiting = asyncio.create_task(client.get("/api/v1/me", headers=CITIZEN))
        await until(lambda: len(citizens.waiting) == 1)

        # The arrivals' own share is empty, yet the newcomer is turned away.
        arrival = await client.get("/api/v1/campaigns")
        page = await client.get("/login")

        assert arrival.status_code == 503
        assert arrival.json()["error"]["code"] == "overloaded"
        assert page.status_code == 503
        assert shares(admission)[ARRIVALS].in_flight == 0
        parked.release.set()
        assert (await held).status_code == 200
        assert (await waiting).status_code == 200
        assert (await client.get("/api/v1/campaigns")).status_code == 200

    run(scenario, limits(queue_factor=1, wait_seconds=60))


def test_one_citizen_waiting_briefly_does_not_turn_arrivals_away():
    async def scenario(client, admission, parked):
        citizens = shares(admission)[CITIZENS]
        held = [
            await hold(client, admission, CITIZENS, "/api/v1/me", headers=CITIZEN) for _ in range(2)
        ]
        first = asyncio.create_task(client.get("/api/v1/me", headers=CITIZEN))
        await until(lambda: len(citizens.waiting) == 1)

        # One citizen waits, the share has 2 slots: no backlog yet, the arrival gets its share.
        arrival = await hold(client, admission, ARRIVALS, "/api/v1/campaigns")

        # A second one waiting makes a full round: now arrivals are turned away at once.
        second = asyncio.create_task(client.get("/api/v1/me", headers=CITIZEN))
        await until(lambda: len(citizens.waiting) == 2)
        refused = await client.get("/api/v1/campaigns")
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "overloaded"

        parked.release.set()
        for response in [*[await h for h in held], await first, await second, await arrival]:
            assert response.status_code == 200

    run(scenario, limits(slots=2, queue_factor=2, wait_seconds=60))


def test_the_queue_is_bounded_and_served_first_come_first_served():
    async def scenario(client, admission, parked):
        arrivals = shares(admission)[ARRIVALS]
        held = await hold(client, admission, ARRIVALS, "/api/v1/campaigns")
        first = asyncio.create_task(client.get("/api/v1/campaigns", params={"n": "1"}))
        await until(lambda: len(arrivals.waiting) == 1)
        second = asyncio.create_task(client.get("/api/v1/campaigns", params={"n": "2"}))
        await until(lambda: len(arrivals.waiting) == 2)

        # Two slots' worth of queue for one slot: the third in line is refused at once.
        beyond = await client.get("/api/v1/campaigns")

        assert beyond.status_code == 503
        assert len(arrivals.waiting) == 2
        parked.release.set()
        assert [(await t).status_code for t in (held, first, second)] == [200, 200, 200]
        assert arrivals.in_flight == 0
        assert not arrivals.waiting

    run(scenario, limits(queue_factor=2, wait_seconds=60))


def test_a_wait_that_runs_out_is_refused_and_leaves_the_queue():
    async def scenario(client, admission, parked):
        arrivals = shares(admission)[ARRIVALS]
        held = await hold(client, admission, ARRIVALS, "/")

        refused = await client.get("/")

        assert refused.status_code == 503
        assert not arrivals.waiting
        parked.release.set()
        await held
        assert arrivals.in_flight == 0

    # The slot is held for as long as the test likes: the wait runs out whatever its length.
    run(scenario, limits(queue_factor=1, wait_seconds=0.01))


def test_static_files_and_the_health_check_pass_when_every_share_is_full():
    async def scenario(client, admission, parked):
        held = [
            await hold(client, admission, CITIZENS, "/me", headers={"Cookie": "mp_session=x"}),
            await hold(client, admission, ARRIVALS, "/"),
            await hold(client, admission, OPERATORS, "/api/v1/operator/grants"),
            await hold(client, admission, STAFF, "/counter"),
        ]

        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/static/site.css")).status_code == 200
        parked.release.set()
        for task in held:
            await task

    run(scenario, limits())


# --- the waiting page --------------------------------------------------------------------------


def waiting_page(path: str = "/", method: str = "GET", **kwargs: Any) -> httpx.Response:
    answers: list[httpx.Response] = []

    async def scenario(client, admission, parked):
        held = await hold(client, admission, ARRIVALS, "/")
        answers.append(await client.request(method, path, **kwargs))
        parked.release.set()
        await held

    run(scenario, limits())
    return answers[0]


def test_a_page_finding_the_platform_full_gets_the_waiting_page_in_japanese():
    page = waiting_page("/services")

    assert page.status_code == 503
    assert page.headers["Retry-After"] == str(RETRY_AFTER)
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.text
    assert '<html lang="ja">' in html
    assert "ただいま混み合っています" in html
    assert f"{RETRY_AFTER}秒後に自動で読み込み直します" in html
    assert "失われていません" in html
    # It reloads itself: a static script (the pages' policy runs no inline script) that the
    # reader may stop (a meta refresh would give no such choice).
    assert f'data-seconds="{RETRY_AFTER}"' in html
    assert '<script src="/static/waiting.js"></script>' in html
    assert 'id="stop-reload"' in html
    assert 'href="/services"' in html


@pytest.mark.parametrize(
    "how",
    [{"params": {"lang": "en"}}, {"headers": {"Cookie": "mp_lang=en"}}],
    ids=["query", "cookie"],
)
def test_the_waiting_page_speaks_english_to_an_english_reader(how):
    page = waiting_page("/", **how)

    assert page.status_code == 503
    assert '<html lang="en">' in page.text
    assert "The platform is busy just now" in page.text
    assert f"This page reloads by itself in {RETRY_AFTER} seconds" in page.text
    assert "Nothing you have done or entered so far is lost" in page.text
    assert "混み合って" not in page.text


def test_a_form_sent_when_full_is_not_sent_again_behind_the_readers_back():
    page = waiting_page("/login", method="POST", data={"pin": "1234"})

    assert page.status_code == 503
    assert "waiting.js" not in page.text
    assert "まだ受け付けていません" in page.text
    assert "「戻る」" in page.text
