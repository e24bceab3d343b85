"""Each walkthrough of the README has its own demo person: followed one after another on one
demo site, none ends in すでに申し込まれています (the support corner's walkthrough used to
reuse the parent of the citizen's journey, who had applied already), on both databases."""

from __future__ import annotations

from mynapoint.domain.measures import Measure
from mynapoint.services.applications import applications_of
from staff_console import STAFF, Console, Terminal, preview_id, staff_console


def _apply(console: Console, staff: Terminal, card: str, representative: str | None = None):
    account = next(a for a in console.accounts if a.card == card)
    session = staff.start(card)
    shown = staff.preview(
        session,
        (account.payment_service_id, account.security_code),
        representative=representative is not None,
    )
    assert shown.status_code == 200, shown.text
    masked = account.holder_name.split()[0]  # the family name is shown whole
    assert masked in shown.text
    done = staff.apply(session, preview_id(shown.text), card, representative=representative)
    assert done.status_code == 200, done.text


def _phase1(console: Console, card: str) -> list[str]:
    facts = console.platform.authority.facts(console.cards[card].serial)
    assert facts is not None
    return [
        a.payment_service_id
        for a in applications_of(console.platform.unit_of_work(), facts.person)
        if a.measure is Measure.PHASE1 and a.is_active
    ]


def test_the_walkthroughs_apply_for_their_own_people_one_after_another(database_url, tmp_path):
    with staff_console(database_url, tmp_path) as console:
        staff = console.signed_in(*STAFF)
        # The citizen's journey (in the browser in the README; here at the counter, the same
        # applications): the parent, then the child through the parent.
        _apply(console, staff, "parent")
        _apply(console, staff, "child", representative="parent")
        # At a support corner: the senior, then the grandchild through the senior.
        _apply(console, staff, "senior")
        _apply(console, staff, "grandchild", representative="senior")

        accounts = {a.card: a.payment_service_id for a in console.accounts}
        for card in ("parent", "child", "senior", "grandchild", "shopper"):
            assert _phase1(console, card) == [accounts[card]], card
        # The command line's person is left for the README's shell blocks.
        assert _phase1(console, "student") == []
