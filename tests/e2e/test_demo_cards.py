"""`make run` demo cards: issued once, kept across restarts, and they sign in with their PINs;
each has its own account, and the shopper's application is there before the demo day."""

from __future__ import annotations

import json
from datetime import datetime

from citizen_app import citizen_app
from mynapoint.demo import (
    DEMO_ACCOUNTS,
    DEMO_APPLICATIONS,
    DEMO_CARDS,
    account_note,
    seed_demo_cards,
    seed_demo_history,
    seed_demo_operator,
)
from mynapoint.domain.calendar import JST
from mynapoint.domain.measures import EventKind
from mynapoint.jpki.card import VirtualCard
from mynapoint.services.applications import applications_of


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


def test_each_account_is_its_holders_and_a_childs_is_its_representatives():
    cards = {card.name: card for card in DEMO_CARDS}
    assert {account.card for account in DEMO_ACCOUNTS} == set(cards)
    for account in DEMO_ACCOUNTS:
        note = account_note(account)
        assert note.startswith(f"{account.holder}.json's ")
        if account.holder != account.card:
            # A second account of the representative, for the person they represent.
            assert cards[account.holder].representative_of == account.card
            assert f"for {account.card}.json's application" in note
    # One account per person who applies with it: no walkthrough applies with another's.
    assert len({a.payment_service_id for a in DEMO_ACCOUNTS}) == len(DEMO_ACCOUNTS)


def test_the_shopper_applied_before_the_demo_day_once(database_url, tmp_path):
    with citizen_app(database_url, tmp_path) as app:
        cards = seed_demo_cards(app.platform)
        seed_demo_operator(app.platform)
        assert seed_demo_history(app.platform, cards) == DEMO_APPLICATIONS
        assert seed_demo_history(app.platform, cards) == DEMO_APPLICATIONS
        shopper = next(s for s in cards if s.card.name == "shopper")
        facts = app.platform.authority.facts(shopper.serial)
        assert facts is not None
        [application] = applications_of(app.platform.unit_of_work(), facts.person)
        assert application.applied_at == DEMO_APPLICATIONS[0].applied_at
        assert application.payment_service_id == "6789012345678901"
        assert application.counts is EventKind.CHARGE


def test_no_history_is_made_after_platform_now(database_url, tmp_path):
    with citizen_app(database_url, tmp_path, at=datetime(2021, 6, 1, 9, 0, tzinfo=JST)) as app:
        cards = seed_demo_cards(app.platform)
        seed_demo_operator(app.platform)
        assert seed_demo_history(app.platform, cards) == ()
