"""`tuples`: the compiled statement is reused, never its values (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import bindparam, event, insert, select

from mynapoint.db.engine import reading
from mynapoint.db.repositories import statements
from mynapoint.db.repositories.statements import ARRAY_FROM, Query, matching, tuples, utc
from mynapoint.db.tables import citizen_sessions

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from sqlalchemy.engine import Engine

AT = datetime(2021, 7, 19, 1, tzinfo=UTC)
TOKENS = [f"token-{n:03}" for n in range(100)]
_hash = citizen_sessions.c.token_hash


@pytest.fixture
def sessions(migrated_engine: Engine) -> Engine:
    with migrated_engine.begin() as connection:
        connection.execute(
            insert(citizen_sessions),
            [
                {
                    "token_hash": token,
                    "person": f"person-{n:03}",
                    "serial": f"serial-{n:03}",
                    "expires_at": AT + timedelta(minutes=n),
                    "ended_at": None,
                }
                for n, token in enumerate(TOKENS)
            ],
        )
    return migrated_engine


def read(engine: Engine, query: Any, values: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    with reading(engine) as connection:
        return [tuple(row) for row in tuples(connection, query, values)]


def persons_of(engine: Engine, tokens: Sequence[str]) -> list[str]:
    rows: list[str] = []
    with reading(engine) as connection:
        for condition in matching(connection, _hash, tokens):
            query = select(citizen_sessions.c.person).where(condition).order_by(_hash)
            rows.extend(person for (person,) in tuples(connection, query))
    return rows


BY_TOKEN = Query(
    select(citizen_sessions.c.person, citizen_sessions.c.expires_at).where(
        _hash == bindparam("token")
    )
)


def test_a_query_built_once_reads_the_row_of_each_calls_value(sessions: Engine) -> None:
    first = read(sessions, BY_TOKEN, {"token": "token-001"})
    second = read(sessions, BY_TOKEN, {"token": "token-002"})
    missing = read(sessions, BY_TOKEN, {"token": "no-such-token"})

    assert [(p, utc(at)) for p, at in first] == [("person-001", AT + timedelta(minutes=1))]
    assert [(p, utc(at)) for p, at in second] == [("person-002", AT + timedelta(minutes=2))]
    assert missing == []


def test_a_query_is_compiled_once_per_database(sessions: Engine) -> None:
    query = Query(select(citizen_sessions.c.person).where(_hash == bindparam("token")))
    read(sessions, query, {"token": "token-003"})
    compiled = query.compiled(sessions.dialect)

    assert read(sessions, query, {"token": "token-004"}) == [("person-004",)]
    assert query.compiled(sessions.dialect) is compiled


def test_selects_of_one_shape_with_other_values_read_their_own_rows(sessions: Engine) -> None:
    def after(minutes: int) -> list[tuple[Any, ...]]:
        query = (
            select(citizen_sessions.c.person)
            .where(citizen_sessions.c.expires_at >= AT + timedelta(minutes=minutes))
            .where(_hash.like("token-0%"))
            .order_by(citizen_sessions.c.person)
            .limit(2)
        )
        return read(sessions, query)

    assert after(97) == [("person-097",), ("person-098",)]
    assert after(98) == [("person-098",), ("person-099",)]
    assert after(100) == []


@pytest.mark.parametrize(
    "count", [1, 2, 5, ARRAY_FROM - 1, ARRAY_FROM, 100], ids=lambda count: f"{count} values"
)
def test_in_lists_of_any_length_read_exactly_their_values(sessions: Engine, count: int) -> None:
    # The same shapes again and again with other lengths and values: each call renders its own.
    for offset in (0, 7):
        tokens = TOKENS[offset : offset + count]
        expected = sorted(f"person-{token.removeprefix('token-')}" for token in tokens)
        assert persons_of(sessions, [*tokens, "no-such-token"]) == expected


def test_an_empty_in_list_reads_nothing(sessions: Engine) -> None:
    query = select(citizen_sessions.c.person).where(_hash.in_([]))
    assert read(sessions, query) == []


def test_the_cache_of_shapes_stays_bounded(
    sessions: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    if sessions.dialect.name != "postgresql":
        pytest.skip("SQLite reads through SQLAlchemy's own cache")
    monkeypatch.setattr(statements, "COMPILED_CACHE_SIZE", 2)
    monkeypatch.setattr(statements, "_compiled_by_shape", type(statements._compiled_by_shape)())  # noqa: SLF001
    columns = [citizen_sessions.c.person, citizen_sessions.c.serial, _hash]
    for column in columns:
        assert len(read(sessions, select(column).where(_hash == "token-005"))) == 1

    assert len(statements._compiled_by_shape) <= 2  # noqa: SLF001


def test_values_go_with_a_query_not_a_select(sessions: Engine) -> None:
    if sessions.dialect.name != "postgresql":
        pytest.skip("SQLite hands both to SQLAlchemy")
    with pytest.raises(TypeError, match="Query"):
        read(sessions, select(citizen_sessions.c.person), {"token": "token-001"})


def test_a_query_keeps_the_values_built_into_it_beside_each_calls_own(sessions: Engine) -> None:
    query = Query(
        select(citizen_sessions.c.person)
        .where(_hash.like("token-0%"), citizen_sessions.c.serial != bindparam("serial"))
        .where(citizen_sessions.c.expires_at >= AT + timedelta(minutes=98))
        .order_by(citizen_sessions.c.person)
    )

    assert read(sessions, query, {"serial": "serial-098"}) == [("person-099",)]
    assert read(sessions, query, {"serial": "serial-099"}) == [("person-098",)]
    assert read(sessions, query, {"serial": "none"}) == [("person-098",), ("person-099",)]


def test_a_query_with_an_in_list_renders_it_for_each_calls_length(sessions: Engine) -> None:
    query = Query(
        select(citizen_sessions.c.person)
        .where(_hash.in_(bindparam("tokens", expanding=True)))
        .order_by(citizen_sessions.c.person)
    )

    assert read(sessions, query, {"tokens": ["token-001"]}) == [("person-001",)]
    assert read(sessions, query, {"tokens": ["token-002", "token-003", "x"]}) == [
        ("person-002",),
        ("person-003",),
    ]
    assert read(sessions, query, {"tokens": []}) == []


def test_the_engines_listeners_see_the_statements_tuples_runs(sessions: Engine) -> None:
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(sessions, "before_cursor_execute", note)
    try:
        read(sessions, BY_TOKEN, {"token": "token-001"})
        read(sessions, select(citizen_sessions.c.person).where(_hash.in_(["token-002"])))
    finally:
        event.remove(sessions, "before_cursor_execute", note)

    assert [s for s in seen if "FROM citizen_sessions" in s] == seen
    assert len(seen) == 2
