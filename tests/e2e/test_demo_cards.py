"""`make run` demo cards: issued once, kept across restarts, and they sign in with their PINs."""

from __future__ import annotations

import json

from citizen_app import citizen_app
from mynapoint.demo import DEMO_CARDS, seed_demo_cards
from mynapoint.jpki.card import VirtualCard


def test_demo_cards_are_issued_once_and_sign_in_with_their_pins(database_url, tmp_path):
    with citizen_app(database_url, tmp_path) as app:
        first = seed_demo_cards(app.platform)
        again = seed_demo_cards(app.platform)
        assert [s.serial for s in again] == [s.serial for s in first]
        assert len(first) == len(DEMO_CARDS)
        manifest = json.loads((tmp_path / "demo-cards" / "cards.json").read_text())
        assert {entry["pin"] for entry in manifest} == {card.pin for card in DEMO_CARDS}
        for seeded in first:
            card = VirtualCard.read(seeded.path)
            assert app.login_response(card, pin=seeded.card.pin).status_code == 201
        child = next(s for s in first if s.card.name == "child")
        parent = next(s for s in first if s.card.name == "parent")
        authority = app.platform.authority
        child_facts, parent_facts = authority.facts(child.serial), authority.facts(parent.serial)
        assert child_facts is not None
        assert parent_facts is not None
        assert authority.is_legal_representative(parent_facts.person, child_facts.person)


def test_a_demo_card_whose_file_is_lost_is_issued_again(database_url, tmp_path):
    with citizen_app(database_url, tmp_path) as app:
        first = {s.card.name: s.serial for s in seed_demo_cards(app.platform)}
        (tmp_path / "demo-cards" / "late.json").unlink()
        second = {s.card.name: s.serial for s in seed_demo_cards(app.platform)}
        assert second["late"] != first["late"]
        assert second["parent"] == first["parent"]
