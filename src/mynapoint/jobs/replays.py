"""The policy lab's replays as background work (services/policy_runs.py): on PostgreSQL with
`mynapoint worker`, a procrastinate job plans a replay and one job per part judges it, side
by side on the workers; in the serving process (SQLite, `make run`), `run_replay` plans and
judges the parts one after the other after the response is sent."""

from __future__ import annotations

import logging

from procrastinate import App

from mynapoint.bootstrap import Platform
from mynapoint.db.queue import QUEUE, REPLAY_PART_TASK, REPLAY_PLAN_TASK
from mynapoint.services.policy_runs import plan, run_part

log = logging.getLogger("mynapoint.policy")


def run_replay(platform: Platform, replay_id: str) -> None:
    """Plan the replay and judge its parts here, one after the other, stopping at a failed
    one (the replay failed with its reason); what was done before is not done again."""
    plan(platform.unit_of_work, replay_id, platform.clock.now)
    uow = platform.unit_of_work()
    with uow.reading():
        parts = uow.replays.parts(replay_id)
    for part in parts:
        if part.tally is not None:
            continue
        judged = run_part(
            platform.unit_of_work,
            platform.rules,
            platform.catalog,
            replay_id,
            part.part,
            platform.clock.now,
        )
        if not judged:
            return


def resume_replays(platform: Platform) -> None:
    """Run the replays left queued or running by a server that stopped (a server judging
    replays itself, at its start): the parts judged before are not judged again."""
    uow = platform.unit_of_work()
    with uow.reading():
        live = uow.replays.live()
    for replay_id in live:
        log.warning("resuming replay %s, left unfinished by a server that stopped", replay_id)
        run_replay(platform, replay_id)


def replay_tasks(app: App, platform: Platform) -> None:
    """The replay's jobs on the queue: its plan, then its parts."""

    @app.task(name=REPLAY_PLAN_TASK, queue=QUEUE)
    def plan_replay(replay_id: str) -> None:
        queued = plan(platform.unit_of_work, replay_id, platform.clock.now)
        log.info("replay %s: %d parts queued", replay_id, len(queued))

    @app.task(name=REPLAY_PART_TASK, queue=QUEUE)
    def replay_part(replay_id: str, part: int) -> None:
        run_part(
            platform.unit_of_work,
            platform.rules,
            platform.catalog,
            replay_id,
            part,
            platform.clock.now,
        )
