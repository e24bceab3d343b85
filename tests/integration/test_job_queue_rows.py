"""The job queue's enqueueing half (db/queue.py): a job is queued if and only if the unit of
work that queued it commits (PostgreSQL); SQLite queues nothing, its rows are the jobs."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

import pytest
from procrastinate import App, PsycopgConnector
from sqlalchemy import text

from mynapoint.db.migrate import downgrade, upgrade
from mynapoint.db.queue import EVALUATION_TASK, QUEUE, UPLOAD_END_TASK, UPLOAD_TASK
from mynapoint.db.unit_of_work import SqlUnitOfWork
from mynapoint.jobs.tasks import conninfo
from mynapoint.jobs.worker import KEEP_ENDED_HOURS, forget_old_jobs

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def queued(engine: Engine) -> list[tuple[str, str, str | None, object]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT queue_name, task_name, lock, args, status::text FROM procrastinate_jobs "
                "ORDER BY id"
            )
        )
        return [(row[1], row[4], row[2], row[3]) for row in rows if row[0] == QUEUE]


# The job queue lives in PostgreSQL; on SQLite the server runs the jobs in-process.
postgresql_only = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


@postgresql_only
def test_a_job_is_queued_only_if_its_unit_of_work_commits(migrated_engine: Engine) -> None:
    uow = SqlUnitOfWork(migrated_engine, queued=True)
    with uow:
        uow.queue.enqueue_upload("rolled-back")
    with uow:
        tickets = uow.queue.enqueue_evaluations([["p1", "p2"], [], ["p3"]])
        ended = uow.queue.enqueue_upload_end("j1", [7, 8], tickets)
        uploaded = uow.queue.enqueue_upload("j1")
        uow.commit()

    assert len(tickets) == 2  # an empty chunk is no job
    assert len(ended) == len(uploaded) == 1
    assert queued(migrated_engine) == [
        (EVALUATION_TASK, "todo", None, {"persons": ["p1", "p2"]}),
        (EVALUATION_TASK, "todo", None, {"persons": ["p3"]}),
        (
            UPLOAD_END_TASK,
            "todo",
            "upload:j1",
            {"job_id": "j1", "markers": [7, 8], "evaluations": tickets},
        ),
        (UPLOAD_TASK, "todo", "upload:j1", {"job_id": "j1"}),
    ]
    with migrated_engine.connect() as connection:
        ids = connection.execute(text("SELECT id FROM procrastinate_jobs ORDER BY id")).scalars()
        assert [str(job_id) for job_id in ids][:2] == tickets


@postgresql_only
def test_nothing_to_queue_writes_nothing(migrated_engine: Engine) -> None:
    uow = SqlUnitOfWork(migrated_engine, queued=True)
    with uow:
        assert uow.queue.enqueue_evaluations([]) == []
        uow.commit()
    assert queued(migrated_engine) == []


def test_without_the_queue_the_rows_are_the_jobs(migrated_engine: Engine) -> None:
    uow = SqlUnitOfWork(migrated_engine)
    with uow:
        assert uow.queue.enqueue_upload("j1") == []
        assert uow.queue.enqueue_evaluations([["p1"]]) == []
        assert uow.queue.enqueue_upload_end("j1", [1], []) == []
        uow.commit()
    if migrated_engine.dialect.name == "postgresql":
        assert queued(migrated_engine) == []


@postgresql_only
def test_the_queue_schema_comes_and_goes_with_its_migration(migrated_engine: Engine) -> None:
    objects = text(
        "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "  WHERE c.relname LIKE 'procrastinate%' AND n.nspname = current_schema()), "
        "(SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "  WHERE p.proname LIKE 'procrastinate%' AND n.nspname = current_schema()), "
        "(SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
        "  WHERE t.typname LIKE 'procrastinate%' AND n.nspname = current_schema())"
    )
    with migrated_engine.connect() as connection:
        tables_and_indexes, functions, types = connection.execute(objects).one()
    assert tables_and_indexes > 0
    assert functions > 0
    assert types > 0

    downgrade(migrated_engine, "0012")
    with migrated_engine.connect() as connection:
        assert tuple(connection.execute(objects).one()) == (0, 0, 0)
    upgrade(migrated_engine)
    with migrated_engine.connect() as connection:
        assert tuple(connection.execute(objects).one()) == (tables_and_indexes, functions, types)


@postgresql_only
def test_the_queued_arguments_are_json(migrated_engine: Engine) -> None:
    uow = SqlUnitOfWork(migrated_engine, queued=True)
    with uow:
        uow.queue.enqueue_evaluations([["ｐ\"'\\"]])
        uow.commit()
    with migrated_engine.connect() as connection:
        args = connection.execute(text("SELECT args::text FROM procrastinate_jobs")).scalar_one()
    assert json.loads(args) == {"persons": ["ｐ\"'\\"]}


@postgresql_only
def test_workers_forget_jobs_that_ended_badly_a_week_ago_and_keep_the_rest(
    migrated_engine: Engine,
) -> None:
    uow = SqlUnitOfWork(migrated_engine, queued=True)
    with uow:
        old_failure, new_failure, old_todo = uow.queue.enqueue_evaluations([["a"], ["b"], ["c"]])
        uow.commit()
    with migrated_engine.begin() as connection:
        connection.execute(
            text("UPDATE procrastinate_jobs SET status = 'failed' WHERE id = ANY(:ids)"),
            {"ids": [int(old_failure), int(new_failure)]},
        )
        connection.execute(
            text(
                "UPDATE procrastinate_events SET at = now() - make_interval(hours => :hours) "
                "WHERE job_id = ANY(:ids)"
            ),
            {"hours": KEEP_ENDED_HOURS + 1, "ids": [int(old_failure), int(old_todo)]},
        )
    url = migrated_engine.url.render_as_string(hide_password=False)

    async def forget() -> None:
        app = App(connector=PsycopgConnector(conninfo=conninfo(url)))
        async with app.open_async():
            await forget_old_jobs(app)

    asyncio.run(forget())

    with migrated_engine.connect() as connection:
        left = connection.execute(text("SELECT id::text FROM procrastinate_jobs")).scalars()
        assert sorted(left) == sorted([new_failure, old_todo])
