"""GET /me's reads: the session checked as `authenticate` checks it, then the overview, in one
reading block."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Self

import pytest

from fakes import FakeUnitOfWork
from ledger_factories import make_application
from mynapoint.domain.auth import InvalidToken, NotAuthenticated, Session, TokenExpired
from mynapoint.domain.mykey import MyKey
from mynapoint.services.auth import authenticate, token_hash
from mynapoint.services.points import overview_of, signed_in_overview

NOW = datetime(2021, 7, 19, 3, tzinfo=UTC)
TOKEN = "a-session-token"  # noqa: S105 - a test token, not a secret
PERSON = "person-1"


class CountingUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = 0

    def __enter__(self) -> Self:
        self.blocks += 1
        return super().__enter__()


def signed_in(
    *, expires_at: datetime = NOW + timedelta(hours=1), ended_at: datetime | None = None
) -> CountingUnitOfWork:
    uow = CountingUnitOfWork()
    with uow:
        uow.sessions.add(
            Session(token_hash(TOKEN), PERSON, "serial-1", expires_at, ended_at=ended_at)
        )
        uow.mykeys.add(MyKey("mykey-1", PERSON, NOW - timedelta(days=1)))
        uow.applications.add(make_application(person=PERSON))
        uow.commit()
    uow.blocks = 0
    return uow


def test_the_session_and_the_overview_come_from_one_reading_block() -> None:
    uow = signed_in()

    session, overview = signed_in_overview(uow, TOKEN, NOW)

    assert uow.blocks == 1
    assert session == authenticate(uow, TOKEN, NOW)
    assert overview == overview_of(uow, PERSON, NOW.date())
    assert overview.mykey is not None
    assert overview.mykey.mykey_id == "mykey-1"
    assert len(overview.applications) == 1


@pytest.mark.parametrize(
    ("token", "uow", "refusal"),
    [
        (None, signed_in(), NotAuthenticated),
        ("", signed_in(), NotAuthenticated),
        ("another-token", signed_in(), InvalidToken),
        (TOKEN, signed_in(ended_at=NOW - timedelta(minutes=1)), InvalidToken),
        (TOKEN, signed_in(expires_at=NOW), TokenExpired),
    ],
    ids=["no token", "empty token", "unknown token", "signed out", "expired at this instant"],
)
def test_a_refused_token_is_refused_as_authenticate_refuses_it(
    token: str | None, uow: CountingUnitOfWork, refusal: type[Exception]
) -> None:
    with pytest.raises(refusal):
        signed_in_overview(uow, token, NOW)
    with pytest.raises(refusal):
        authenticate(uow, token, NOW)
