"""No My Number field, and no plaintext PIN, security code or token, in the database or the logs."""

from __future__ import annotations

import base64
import io
import logging
import re

import pytest
from sqlalchemy import select

from citizen_app import citizen_app
from mynapoint.db.tables import metadata
from mynapoint.logs import JsonFormatter

PIN = "7391"


@pytest.fixture
def captured_logs():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    previous = root.level
    # The test client plays the citizen's browser: its own request log is not the server's.
    client_log = logging.getLogger("httpx2")
    client_level = client_log.level
    client_log.setLevel(logging.WARNING)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous)
    client_log.setLevel(client_level)


def test_a_login_leaves_no_pin_token_or_signature_in_the_database_or_the_logs(
    database_url, tmp_path, captured_logs
):
    with citizen_app(database_url, tmp_path) as app:
        card = app.issue(pin=PIN)
        challenge = app.challenge()
        signature = base64.b64encode(
            app.platform.authority.sign_challenge(card, PIN, base64.b64decode(challenge["nonce"]))
        ).decode()
        response = app.client.post(
            "/api/v1/auth/sessions",
            json={
                "challenge_id": challenge["challenge_id"],
                "certificate": card.certificate_pem,
                "signature": signature,
            },
        )
        token = response.json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert app.client.post("/api/v1/mykey", headers=headers).status_code == 201
        assert app.client.get("/api/v1/me", headers=headers).status_code == 200
        assert app.client.get("/api/v1/me?token=" + token).status_code == 401

        with app.platform.engine.connect() as connection:
            stored = {
                table.name: [tuple(map(str, row)) for row in connection.execute(select(table))]
                for table in metadata.sorted_tables
            }
    everything = repr(stored)
    assert token not in everything
    assert signature not in everything
    # Only the simulated authority's own root key is kept; never a card's private key.
    private_keys = [name for name, rows in stored.items() if "PRIVATE KEY" in repr(rows)]
    assert private_keys == ["authority_keys"]

    logs = captured_logs.getvalue()
    assert "mynapoint.access" in logs  # the requests were logged...
    assert token not in logs  # ...but not their secrets
    assert signature not in logs
    assert challenge["nonce"] not in logs
    assert re.search(rf"(?<!\d){PIN}(?!\d)", logs) is None
    assert "Authorization" not in logs
    assert "?token=" not in logs


def test_no_table_has_a_column_for_a_my_number_or_a_plaintext_secret():
    names = [
        f"{table.name}.{column.name}".lower()
        for table in metadata.sorted_tables
        for column in table.columns
    ]
    forbidden = re.compile(
        r"my_?number|kojin|individual_number|(^|[._])pin($|_)|password(?!_hash)|"
        r"security_code(?!_hash)|(^|[._])token($|_)(?!hash)"
    )
    assert [n for n in names if forbidden.search(n)] == []
