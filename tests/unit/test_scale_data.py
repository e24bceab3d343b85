"""bench/scale_data.py builds its rows from the generator the demo shares
(mynapoint.history): a person's rows are its story's with its own ids, and the event files of
bench/scale.py go to persons whose story counts PayPay charges."""

from __future__ import annotations

import random
import sys
from pathlib import Path

from mynapoint.domain.measures import Channel
from mynapoint.history.generate import history_clerk
from mynapoint.history.story import draw

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import scale_data  # noqa: E402 - bench/ is put on the path just above


def test_a_chunk_s_rows_are_its_persons_stories_with_their_own_ids() -> None:
    timeline = scale_data.timeline()
    chunk = scale_data.Chunk(0, 120, 120, dict.fromkeys(scale_data.SERVICES, "hash"))
    rows = scale_data.build_chunk(chunk, timeline)
    assert len(rows["platform_persons"]) == len(rows["mykeys"]) == 120
    persons = {row[0] for row in rows["platform_persons"]}
    assert len(persons) == 120
    grant_ids = [row[0] for row in rows["grant_instructions"]]
    assert len(set(grant_ids)) == len(grant_ids) > 0
    events = 0
    for n in range(120):
        story = draw(
            random.Random(f"{scale_data.SEED}:template:{scale_data.template_of(n)}"),  # noqa: S311
            timeline,
        )
        mine = [row for row in rows["spending_events"] if row[4] == scale_data.person_id(n)]
        assert [(row[5], row[6], row[7]) for row in mine] == [
            (e.kind.value, e.amount, e.occurred_at) for e in story.events
        ]
        events += len(mine)
    assert events == len(rows["spending_events"])
    # Two persons of one story (n and n + TEMPLATES) differ only in their ids.
    again = scale_data.build_chunk(
        scale_data.Chunk(scale_data.TEMPLATES, scale_data.TEMPLATES + 1, 10**6, chunk.code_hashes),
        timeline,
    )
    assert again["platform_persons"][0][1:] == rows["platform_persons"][0][1:]


def test_event_files_go_to_persons_counting_paypay_charges() -> None:
    timeline = scale_data.timeline()
    persons = 50_000
    firsts = scale_data.charging_persons(persons)
    rng = random.Random(1)  # noqa: S311 - a sample, no secret
    for _ in range(100):
        n = scale_data.pick_person(rng, firsts, persons)
        assert 0 <= n < persons
        story = draw(
            random.Random(f"{scale_data.SEED}:template:{scale_data.template_of(n)}"),  # noqa: S311
            timeline,
        )
        assert story.application is not None
        assert story.application.service_code == "paypay"
        assert story.application.counts.value == "charge"
        assert story.application.applied_at < scale_data.EVENTS_FROM
        assert story.died_on is None


def test_every_counter_application_of_a_chunk_has_its_session() -> None:
    timeline = scale_data.timeline()
    chunk = scale_data.Chunk(0, 600, 600, dict.fromkeys(scale_data.SERVICES, "hash"))
    rows = scale_data.build_chunk(chunk, timeline)
    columns = [name for name, _ in scale_data.TABLES["assisted_sessions"]]
    sessions = {row[4]: dict(zip(columns, row, strict=True)) for row in rows["assisted_sessions"]}
    counter = {
        row[1]: row[7] for row in rows["applications"] if row[6] == Channel.SUPPORT_CORNER.value
    }
    assert len(counter) >= 5
    assert len(sessions) == len(rows["assisted_sessions"])
    assert {person: s["ended_at"] for person, s in sessions.items()} == counter
    for session in sessions.values():
        assert session["staff"] == history_clerk(session["corner"])
        assert session["end_reason"] == "applied"
        assert session["started_at"] <= session["last_activity_at"] < session["ended_at"]
    ids = [s["session_id"] for s in sessions.values()]
    assert len(set(ids)) == len(ids)
