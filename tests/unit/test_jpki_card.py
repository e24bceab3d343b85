"""The virtual card file: format, round trip, every bad-file error, PIN rules, signing."""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from datetime import datetime, timedelta
from functools import cache

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mynapoint.domain.calendar import JST
from mynapoint.domain.errors import MynapointError
from mynapoint.jpki.card import (
    CARD_FORMAT,
    CardFileError,
    InvalidPin,
    VirtualCard,
    sign,
    unlock_key,
    validate_pin,
)
from mynapoint.jpki.certificates import (
    generate_key,
    generate_root,
    issue_user_certificate,
    new_serial,
)

NOW = datetime(2021, 4, 1, 10, 0, tzinfo=JST)
PIN = "1234"


@cache
def keys() -> tuple[rsa.RSAPrivateKey, ...]:
    # RSA key generation takes ~33 ms: made once per test process.
    return tuple(generate_key() for _ in range(2))


@cache
def card() -> VirtualCard:
    root = generate_root(NOW, keys()[0])
    certificate = issue_user_certificate(
        root, keys()[1].public_key(), new_serial(), NOW, NOW + timedelta(days=365)
    )
    return VirtualCard.seal(certificate, keys()[1], PIN)


def card_json(**changes: object) -> str:
    data: dict[str, object] = json.loads(card().to_json())
    data.update(changes)
    return json.dumps({k: v for k, v in data.items() if v is not ...})


def test_card_file_has_the_documented_shape():
    data = json.loads(card().to_json())
    assert set(data) == {"format", "serial", "certificate", "private_key"}
    assert data["format"] == "mynapoint-virtual-card/1" == CARD_FORMAT
    assert data["serial"] == card().serial
    assert data["certificate"].startswith("-----BEGIN CERTIFICATE-----")
    assert data["private_key"].startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert PIN not in data["private_key"]


def test_card_round_trips_through_json():
    assert VirtualCard.from_json(card().to_json()) == card()


def test_card_round_trips_through_a_file_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "card.json"
    card().write(path)
    assert VirtualCard.read(path) == card()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_unreadable_file_is_a_card_file_error(tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(CardFileError, match="cannot read the card file"):
        VirtualCard.read(missing)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(CardFileError, match="cannot read the card file"):
        VirtualCard.read(binary)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("not json", "a card file is JSON"),
        ("[1, 2]", "this is a JSON list"),
        ('{"serial": "AB"}', "format is None"),
        ('{"format": "mynapoint-virtual-card/2"}', "expected 'mynapoint-virtual-card/1'"),
    ],
)
def test_a_file_that_is_not_a_card_says_why(text, says):
    with pytest.raises(CardFileError, match=says) as error:
        VirtualCard.from_json(text)
    assert error.value.code == "invalid_card_file"
    assert isinstance(error.value, MynapointError)


@pytest.mark.parametrize("field", ["serial", "certificate", "private_key"])
def test_a_card_file_missing_a_field_names_it(field):
    with pytest.raises(CardFileError, match=f"has no '{field}'"):
        VirtualCard.from_json(card_json(**{field: ...}))


@pytest.mark.parametrize("field", ["serial", "certificate", "private_key"])
def test_a_card_file_field_that_is_not_text_names_it(field):
    with pytest.raises(CardFileError, match=f"'{field}' is a JSON int"):
        VirtualCard.from_json(card_json(**{field: 7}))


def test_a_lowercase_serial_is_refused():
    with pytest.raises(CardFileError, match="not uppercase hex"):
        VirtualCard.from_json(card_json(serial=card().serial.lower()))


def test_a_serial_that_is_not_the_certificates_is_refused():
    with pytest.raises(CardFileError, match="but its certificate has serial"):
        VirtualCard.from_json(card_json(serial=new_serial()))


def test_an_unreadable_certificate_is_refused():
    with pytest.raises(CardFileError, match="not a readable PEM certificate"):
        VirtualCard.from_json(card_json(certificate="-----BEGIN CERTIFICATE-----\nAA=="))


def test_an_unencrypted_key_is_refused():
    plain = keys()[1].private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(CardFileError, match="not a PIN-encrypted PKCS#8 key"):
        VirtualCard.from_json(card_json(private_key=plain.decode()))


def test_an_unencrypted_key_slipped_past_the_file_check_is_refused_on_unlock():
    plain = keys()[1].private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(CardFileError, match="not encrypted with a PIN"):
        unlock_key(replace(card(), private_key_pem=plain.decode()), PIN)


@pytest.mark.parametrize("pin", ["1234", "0000", "9999", "0420"])
def test_a_pin_is_four_ascii_digits(pin):
    assert validate_pin(pin) == pin


@pytest.mark.parametrize(
    "pin", ["", "123", "12345", "abcd", "12a4", "１２３４", " 1234", "1234\n", "12.4", "-123"]
)
def test_anything_else_is_not_a_pin(pin):
    with pytest.raises(InvalidPin, match="the PIN is 4 digits") as error:
        validate_pin(pin)
    assert error.value.code == "invalid_pin"


def test_the_right_pin_unlocks_the_key_and_it_signs_pkcs1_sha256():
    key = unlock_key(card(), PIN)
    assert key is not None
    challenge = b"nonce bytes"
    signature = sign(key, challenge)
    card().certificate.public_key().verify(  # type: ignore[call-arg, union-attr]
        signature, challenge, padding.PKCS1v15(), hashes.SHA256()
    )


@pytest.mark.parametrize("pin", ["1235", "0000", "4321"])
def test_a_wrong_pin_unlocks_nothing(pin):
    assert unlock_key(card(), pin) is None


def test_a_card_cannot_be_sealed_with_a_bad_pin():
    certificate = card().certificate
    with pytest.raises(InvalidPin):
        VirtualCard.seal(certificate, keys()[1], "12345")
