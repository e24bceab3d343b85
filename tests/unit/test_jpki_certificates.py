"""The simulated authority's certificates: validity to the 5th birthday, no personal data."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from functools import cache

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mynapoint.domain.calendar import JST
from mynapoint.domain.cards import certificate_not_after
from mynapoint.jpki.certificates import (
    ROOT_NAME,
    build_crl,
    certificate_pem,
    crl_pem,
    format_serial,
    generate_key,
    generate_root,
    issue_user_certificate,
    load_certificate,
    load_crl,
    new_serial,
    root_certificate,
)

NOW = datetime(2021, 4, 1, 10, 0, tzinfo=JST)


@cache
def keys() -> tuple[rsa.RSAPrivateKey, ...]:
    # RSA key generation takes ~33 ms: made once per test process.
    return tuple(generate_key() for _ in range(2))


def jst(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0):
    return datetime(year, month, day, hour, minute, second, tzinfo=JST)


@pytest.mark.parametrize(
    ("birth_date", "issued_at", "last_valid"),
    [
        # birthday still ahead in the year of issue: that birthday is the 1st
        (date(1990, 6, 15), jst(2021, 4, 1, 10), jst(2025, 6, 15, 23, 59, 59)),
        # birthday already past: next year's is the 1st
        (date(1990, 3, 10), jst(2021, 4, 1, 10), jst(2026, 3, 10, 23, 59, 59)),
        # the day before the birthday
        (date(1990, 4, 2), jst(2021, 4, 1, 10), jst(2025, 4, 2, 23, 59, 59)),
        # issued on the birthday: that one is not "after issuance"
        (date(1990, 4, 1), jst(2021, 4, 1, 10), jst(2026, 4, 1, 23, 59, 59)),
        # 00:30 JST on the birthday is still 31 March in UTC: JST decides
        (date(1990, 4, 1), jst(2021, 4, 1, 0, 30), jst(2026, 4, 1, 23, 59, 59)),
        # 29 February: 28 February in common years, 29 in leap years
        (date(2000, 2, 29), jst(2021, 4, 1, 10), jst(2026, 2, 28, 23, 59, 59)),
        (date(2000, 2, 29), jst(2023, 1, 10, 10), jst(2027, 2, 28, 23, 59, 59)),
        (date(2000, 2, 29), jst(2024, 1, 10, 10), jst(2028, 2, 29, 23, 59, 59)),
        (date(2000, 2, 29), jst(2024, 2, 29, 10), jst(2029, 2, 28, 23, 59, 59)),
    ],
)
def test_certificate_is_valid_until_the_fifth_birthday_after_issuance(
    birth_date, issued_at, last_valid
):
    assert certificate_not_after(birth_date, issued_at) == last_valid


def test_user_certificate_ends_on_the_last_second_of_the_fifth_birthday():
    root = generate_root(NOW, keys()[0])
    not_after = certificate_not_after(date(1990, 6, 15), NOW)
    certificate = issue_user_certificate(root, keys()[1].public_key(), new_serial(), NOW, not_after)
    assert certificate.not_valid_after_utc == not_after
    assert certificate.not_valid_before_utc == NOW


def test_user_certificate_holds_no_personal_data():
    root = generate_root(NOW, keys()[0])
    birth_date = date(1990, 6, 15)
    certificate = issue_user_certificate(
        root,
        keys()[1].public_key(),
        new_serial(),
        NOW,
        certificate_not_after(birth_date, NOW),
    )
    assert {attribute.oid for attribute in certificate.subject} == {
        NameOID.COMMON_NAME,
        NameOID.ORGANIZATION_NAME,
    }
    assert "1990" not in certificate.subject.rfc4514_string()
    extension_types = {type(extension.value) for extension in certificate.extensions}
    assert extension_types == {
        x509.BasicConstraints,
        x509.KeyUsage,
        x509.ExtendedKeyUsage,
        x509.AuthorityKeyIdentifier,
        x509.SubjectKeyIdentifier,
    }


def test_user_certificate_is_for_signing_logins_only():
    root = generate_root(NOW, keys()[0])
    certificate = issue_user_certificate(
        root, keys()[1].public_key(), new_serial(), NOW, NOW + timedelta(days=365)
    )
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert not usage.key_cert_sign
    assert not usage.crl_sign
    assert not usage.key_encipherment
    assert list(certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH
    ]
    assert not certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    authority_key_id = certificate.extensions.get_extension_for_class(
        x509.AuthorityKeyIdentifier
    ).value.key_identifier
    root_key_id = (
        root_certificate(root)
        .extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        .value.digest
    )
    assert authority_key_id == root_key_id
    certificate.verify_directly_issued_by(root_certificate(root))


def test_root_is_a_self_signed_ca_valid_long_before_the_program():
    root = root_certificate(generate_root(datetime(2026, 1, 1, tzinfo=UTC), keys()[0]))
    assert root.subject == root.issuer == ROOT_NAME
    assert "not a real J-LIS CA" in root.subject.rfc4514_string()
    assert root.not_valid_before_utc <= datetime(2015, 1, 1, tzinfo=UTC)
    assert root.not_valid_after_utc >= datetime(2055, 12, 1, tzinfo=UTC)
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = root.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign
    assert usage.crl_sign
    root.verify_directly_issued_by(root)


def test_serials_are_random_uppercase_hex_of_fixed_length():
    serials = [new_serial() for _ in range(200)]
    assert len(set(serials)) == 200
    for serial in serials:
        assert re.fullmatch(r"[1-9A-F][0-9A-F]{31}", serial)
        assert format_serial(int(serial, 16)) == serial


def test_issuing_a_certificate_that_ends_before_it_starts_is_refused():
    root = generate_root(NOW, keys()[0])
    with pytest.raises(ValueError, match="cannot end"):
        issue_user_certificate(root, keys()[1].public_key(), new_serial(), NOW, NOW)


def test_crl_lists_the_revocations_signed_by_the_root_for_one_day():
    root = generate_root(NOW, keys()[0])
    first, second = new_serial(), new_serial()
    crl = build_crl(root, [(first, NOW), (second, NOW + timedelta(hours=1))], NOW)
    assert crl.is_signature_valid(keys()[0].public_key())
    assert crl.issuer == ROOT_NAME
    assert crl.next_update_utc == crl.last_update_utc + timedelta(days=1)
    entry = crl.get_revoked_certificate_by_serial_number(int(second, 16))
    assert entry is not None
    assert entry.revocation_date_utc == NOW + timedelta(hours=1)
    assert crl.get_revoked_certificate_by_serial_number(int(new_serial(), 16)) is None
    assert load_crl(crl_pem(crl)) == crl


def test_certificate_pem_round_trips():
    root = root_certificate(generate_root(NOW, keys()[0]))
    assert load_certificate(certificate_pem(root)) == root
    assert load_certificate(certificate_pem(root).encode()) == root
