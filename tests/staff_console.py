"""The staff console through the test client: terminals (browsers) signing in, reading cards.

`staff_console(database_url, tmp_path)` wires the demo platform (demo cards, PayPay accounts,
the demo staff of 中央区役所) with a fixed clock; `console.terminal()` opens a browser of
its own (its own cookies) on it. The test client talks to https://testserver, so that the
Secure cookies of the console come back as a browser would send them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from mynapoint.bootstrap import Platform, build_platform
from mynapoint.config import Settings
from mynapoint.demo import (
    DemoAccount,
    SeededCard,
    seed_demo_cards,
    seed_demo_history,
    seed_demo_operator,
    seed_demo_staff,
)
from mynapoint.domain.audit import SealedEntry
from mynapoint.domain.calendar import JST
from mynapoint.domain.staff import Role, Scope
from mynapoint.rules.corners import load_corner_directory
from mynapoint.services.clock import FixedClock
from mynapoint.services.passwords import PasswordHasher
from mynapoint.services.staff import add_staff, known_scopes
from mynapoint.web.app import create_app
from mynapoint.web.csrf import CSRF_COOKIE, CSRF_FIELD
from stale_revocations import with_stuck_revocation_list

DEMO_DAY = datetime(2021, 7, 19, 10, 0, tzinfo=JST)
BASE_URL = "https://testserver"
STAFF = ("chuo-staff", "madoguchi-2021")
SUPERVISOR = ("chuo-supervisor", "kantoku-2021")
PARENT_ACCOUNT = ("1234567890123456", "1234")  # ヤマダ タロウ
SENIOR_ACCOUNT = ("3456789012345678", "3456")  # サトウ イチロウ
CHILD_ACCOUNT = ("1234567890120009", "0009")  # the parent's second account

_SESSION = re.compile(r'name="session" value="([0-9a-f]+)"')
_PREVIEW = re.compile(r'name="preview" value="([0-9a-f]+)"')
_H1 = re.compile(r"<h1>(.*?)</h1>", re.DOTALL)
_ALERT = re.compile(r'role="alert"><p>(.*?)</p>', re.DOTALL)


@dataclass
class Terminal:
    """One browser at the counter."""

    client: TestClient
    cards: dict[str, SeededCard]

    def csrf(self) -> str:
        if CSRF_COOKIE not in self.client.cookies:
            self.client.get("/staff/sign-in")
        token: str = self.client.cookies[CSRF_COOKIE]
        return token

    def post(self, path: str, data: dict[str, str], **kwargs: Any) -> Any:
        return self.client.post(path, data={CSRF_FIELD: self.csrf(), **data}, **kwargs)

    def sign_in(self, name: str, password: str) -> Any:
        return self.post("/staff/sign-in", {"name": name, "password": password})

    def card_file(self, name: str, field: str = "card") -> dict[str, tuple[str, bytes, str]]:
        path = self.cards[name].path
        return {field: (path.name, path.read_bytes(), "application/json")}

    def read_card(self, name: str, pin: str | None = None) -> Any:
        pin = pin or self.cards[name].card.pin
        return self.post("/counter/card", {"pin": pin}, files=self.card_file(name))

    def session_id(self) -> str:
        return found(_SESSION, self.client.get("/counter").text)

    def set_up_mykey(self, session: str) -> Any:
        return self.post("/counter/mykey", {"session": session})

    def preview(
        self,
        session: str,
        account: tuple[str, str] = PARENT_ACCOUNT,
        *,
        counts: str = "charge",
        representative: bool = False,
    ) -> Any:
        data = {
            "session": session,
            "measure": "phase1",
            "service_code": "paypay",
            "counts": counts,
            "payment_service_id": account[0],
            "security_code": account[1],
        }
        if representative:
            data["with_representative"] = "1"
        return self.post("/counter/preview", data)

    def apply(
        self,
        session: str,
        preview: str,
        card: str,
        pin: str | None = None,
        *,
        representative: str | None = None,
    ) -> Any:
        data = {
            "session": session,
            "preview": preview,
            "confirmed": "1",
            "pin": pin or self.cards[card].card.pin,
        }
        files = self.card_file(card)
        if representative is not None:
            data["representative_pin"] = self.cards[representative].card.pin
            files |= self.card_file(representative, "representative_card")
        return self.post("/counter/apply", data, files=files)

    def start(self, card: str) -> str:
        """Read the card, set up the MyKey ID if missing; the session id."""
        response = self.read_card(card)
        assert response.status_code == 200, alert(response.text)
        session = self.session_id()
        if "/counter/mykey" in self.client.get("/counter").text:
            assert self.set_up_mykey(session).status_code == 200
        return session


@dataclass
class Console:
    app: FastAPI
    platform: Platform
    clock: FixedClock
    cards: dict[str, SeededCard]
    accounts: tuple[DemoAccount, ...]
    _stack: ExitStack = field(default_factory=ExitStack)

    def terminal(self, address: str = "testclient") -> Terminal:
        """A browser at a terminal; `address` is the client address it sends from."""
        client = self._stack.enter_context(
            TestClient(self.app, base_url=BASE_URL, client=(address, 50000))
        )
        return Terminal(client, self.cards)

    def signed_in(self, name: str, password: str) -> Terminal:
        terminal = self.terminal()
        response = terminal.sign_in(name, password)
        assert response.status_code == 200, alert(response.text)
        return terminal

    def add(
        self,
        name: str,
        role: Role,
        corner: str | None = None,
        *,
        city: str | None = None,
        operator: str | None = None,
    ) -> str:
        """A new account; its one-time password."""
        added = add_staff(
            self.platform.unit_of_work(),
            PasswordHasher(),
            name=name,
            role=role,
            scope=Scope(corner=corner, city=city, operator=operator),
            known=known_scopes(load_corner_directory(), self.platform.catalog),
            now=self.clock.now(),
        )
        return added.one_time_password

    def add_signed_up(
        self, name: str, password: str, role: Role, *, operator: str | None = None
    ) -> None:
        """A new account whose password is `password` (changed already: no first sign-in
        step), for tests that sign in straight away."""
        self.add(name, role, operator=operator)
        uow = self.platform.unit_of_work()
        with uow:
            uow.staff.set_password(
                name, PasswordHasher().hash(password), must_change=False, at=self.clock.now()
            )
            uow.commit()

    def signed_in_at(self, prefix: str, name: str, password: str) -> Any:
        """A new terminal signed in at the console under `prefix` (e.g. "/operator")."""
        terminal = self.terminal()
        response = terminal.post(f"{prefix}/sign-in", {"name": name, "password": password})
        assert response.status_code == 200, response.text[:400]
        return terminal

    def audit(self) -> list[SealedEntry]:
        uow = self.platform.unit_of_work()
        with uow:
            return uow.audit.entries()

    def actions(self) -> list[str]:
        return [sealed.entry.action for sealed in self.audit()]


def found(pattern: re.Pattern[str], text: str) -> str:
    match = pattern.search(text)
    assert match is not None, f"{pattern.pattern} not in the page"
    return match[1]


def preview_id(text: str) -> str:
    return found(_PREVIEW, text)


def heading(text: str) -> str:
    return found(_H1, text).strip()


def alert(text: str) -> str:
    """The first sentence of the page's alert, as read (a link to the field it is about is
    only its markup)."""
    match = _ALERT.search(text)
    return "" if match is None else re.sub(r"<[^>]+>", "", match[1]).strip()


@contextmanager
def staff_console(
    database_url: str,
    tmp_path: Path,
    at: datetime = DEMO_DAY,
    *,
    with_cards: bool = True,
    stuck_revocations: bool = False,
) -> Iterator[Console]:
    """The demo platform; without the cards and accounts when a test needs staff only.
    `stuck_revocations`: the card authority never issues a newer revocation list."""
    settings = Settings(database_url=database_url, var_dir=tmp_path, demo=True)
    clock = FixedClock(at)
    platform = build_platform(settings, clock=clock)
    if stuck_revocations:
        platform = with_stuck_revocation_list(platform)
    try:
        cards: dict[str, SeededCard] = {}
        accounts: tuple[DemoAccount, ...] = ()
        if with_cards:
            cards = {seeded.card.name: seeded for seeded in seed_demo_cards(platform)}
            _, _, accounts = seed_demo_operator(platform)
            seed_demo_history(platform, list(cards.values()))
        seed_demo_staff(platform)
        console = Console(create_app(settings, platform), platform, clock, cards, accounts)
        with console._stack:  # noqa: SLF001 - the console closes the terminals it opened
            yield console
    finally:
        platform.engine.dispose()
