"""/operator/keys end to end on SQLite and PostgreSQL: an operator's administrator creates a
key (shown once, only its hash stored), rotates it (the old key works through the overlap and
not after, on a fixed clock) and revokes it, each in the audit log; another operator's
administrator never sees nor touches PayPay's keys, not even by guessing their URLs."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest

from mynapoint.domain.staff import Role
from staff_console import heading, staff_console

PAYPAY_ADMIN = ("paypay-admin", "paypay-admin-2021")
AEON_ADMIN = ("aeon-admin", "aeon-admin-2021")
_KEY = re.compile(r'<code class="api-key">(mnp_([A-Za-z0-9_-]{12})\.[A-Za-z0-9_-]+)</code>')
OVERLAP = timedelta(days=7)
CHECKED = "/api/v1/operator/notices"


@pytest.fixture
def console(database_url, tmp_path):
    with staff_console(database_url, tmp_path, with_cards=False) as running:
        running.add_signed_up(*AEON_ADMIN, Role.OPERATOR_ADMIN, operator="aeon_retail")
        yield running


def _issued(response):
    assert response.status_code == 200, response.text[:400]
    assert response.headers["cache-control"] == "no-store"
    match = _KEY.search(response.text)
    assert match is not None, "no API key on the page"
    return match[1], match[2]


def _works(console, api_key):
    response = console.terminal().client.get(
        CHECKED, headers={"Authorization": f"Bearer {api_key}"}
    )
    assert response.status_code in {200, 401}, response.text[:400]
    return response.status_code == 200


def _stored_hashes(console):
    uow = console.platform.unit_of_work()
    with uow:
        return {k.key_id: k.secret_hash for k in uow.operator_keys.of_operator("paypay")}


def test_a_key_is_shown_once_and_only_its_hash_is_kept(console):
    admin = console.signed_in_at("/operator", *PAYPAY_ADMIN)

    api_key, key_id = _issued(admin.post("/operator/keys", {}))

    secret = api_key.partition(".")[2]
    assert _works(console, api_key)
    assert _stored_hashes(console)[key_id] == hashlib.sha256(secret.encode()).hexdigest()
    listing = admin.client.get("/operator/keys")
    assert listing.status_code == 200
    assert listing.headers["cache-control"] == "no-store"
    assert key_id in listing.text
    assert secret not in listing.text
    created = console.audit()[-1].entry
    assert (created.action, created.actor) == ("operator_key_created", "paypay-admin")
    assert created.details == {"operator": "paypay", "key_id": key_id}
    assert secret not in str(created.details)


def test_a_rotated_key_works_through_the_overlap_and_stops_after(console):
    admin = console.signed_in_at("/operator", *PAYPAY_ADMIN)
    old_key, old_id = _issued(admin.post("/operator/keys", {}))

    new_key, new_id = _issued(admin.post(f"/operator/keys/{old_id}/rotate", {}))

    assert new_id != old_id
    assert "に停止" in admin.client.get("/operator/keys?lang=ja").text
    rotated = console.audit()[-1].entry
    assert rotated.action == "operator_key_rotated"
    assert rotated.details["key_id"] == old_id
    assert rotated.details["new_key_id"] == new_id
    assert _works(console, old_key)
    assert _works(console, new_key)
    console.clock.advance(OVERLAP - timedelta(seconds=1))
    assert _works(console, old_key)
    console.clock.advance(timedelta(seconds=1))
    assert not _works(console, old_key)
    assert _works(console, new_key)
    # A stopped key is neither rotated nor revoked again (a week on: a new sign-in).
    admin = console.signed_in_at("/operator", *PAYPAY_ADMIN)
    assert admin.post(f"/operator/keys/{old_id}/rotate", {}).status_code == 409
    assert admin.post(f"/operator/keys/{old_id}/revoke", {}).status_code == 409
    assert "operator_key_revoked" not in console.actions()


def test_a_revoked_key_stops_at_once_even_during_its_overlap(console):
    admin = console.signed_in_at("/operator", *PAYPAY_ADMIN)
    old_key, old_id = _issued(admin.post("/operator/keys", {}))
    _issued(admin.post(f"/operator/keys/{old_id}/rotate", {}))

    revoked = admin.post(f"/operator/keys/{old_id}/revoke", {}, follow_redirects=False)

    assert revoked.status_code == 303
    assert revoked.headers["location"] == f"/operator/keys?done=revoked&key={old_id}"
    assert not _works(console, old_key)
    assert console.audit()[-1].entry.action == "operator_key_revoked"
    page = admin.client.get(revoked.headers["location"])
    assert f"APIキー {old_id} を失効させました" in page.text


def test_another_operator_never_sees_nor_touches_paypays_keys(console):
    paypay = console.signed_in_at("/operator", *PAYPAY_ADMIN)
    api_key, key_id = _issued(paypay.post("/operator/keys", {}))
    aeon = console.signed_in_at("/operator", *AEON_ADMIN)
    actions_before = console.actions()

    listing = aeon.client.get("/operator/keys")
    rotate = aeon.post(f"/operator/keys/{key_id}/rotate", {})
    revoke = aeon.post(f"/operator/keys/{key_id}/revoke", {})

    assert listing.status_code == 200
    assert key_id not in listing.text
    assert "APIキーはまだありません" in listing.text
    for refused in (rotate, revoke):
        assert refused.status_code == 404
        assert heading(refused.text) == "APIキーを操作できません"
        assert "not_found" in refused.text
    assert _works(console, api_key)
    assert console.actions() == actions_before
    _, aeon_id = _issued(aeon.post("/operator/keys", {}))
    assert aeon_id not in paypay.client.get("/operator/keys").text


def test_bad_key_ids_and_a_missing_csrf_token_are_refused_without_a_500(console):
    admin = console.signed_in_at("/operator", *PAYPAY_ADMIN)
    assert admin.post("/operator/keys/nope/revoke", {}).status_code == 404
    bad = admin.post("/operator/keys/%3Cscript%3E/revoke", {})
    assert bad.status_code == 422
    no_token = admin.client.post("/operator/keys", data={})
    assert no_token.status_code == 403
    assert _stored_hashes(console) == {}


def test_the_keys_page_reads_in_english(console):
    admin = console.signed_in_at("/operator", *PAYPAY_ADMIN)
    page = admin.client.get("/operator/keys?lang=en")
    assert page.status_code == 200
    assert "API keys" in page.text
    assert "Create" in page.text
