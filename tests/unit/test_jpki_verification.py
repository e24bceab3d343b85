"""Checking a signed login challenge: chain, revocation, validity, key usage, signature."""

from __future__ import annotations

import base64
from datetime import date, datetime, timedelta
from functools import cache

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mynapoint.domain.auth import (
    CertificateExpired,
    CertificateNotYetValid,
    CertificateRevoked,
    InvalidSignature,
    UntrustedCertificate,
)
from mynapoint.domain.calendar import JST
from mynapoint.domain.cards import certificate_not_after
from mynapoint.jpki.card import sign
from mynapoint.jpki.certificates import (
    USER_NAME,
    build_crl,
    certificate_pem,
    generate_key,
    generate_root,
    issue_user_certificate,
    new_serial,
    root_certificate,
)
from mynapoint.jpki.ports import AuthorityKey
from mynapoint.jpki.verification import verify_signed_challenge

ISSUED_AT = datetime(2021, 4, 1, 10, 0, tzinfo=JST)
BIRTH_DATE = date(1990, 6, 15)
NOT_AFTER = certificate_not_after(BIRTH_DATE, ISSUED_AT)  # 2025-06-15 23:59:59 JST
LOGIN_AT = datetime(2021, 7, 19, 10, 0, tzinfo=JST)
CHALLENGE = b"\x00\x01 a 32-byte nonce, say ......"


@cache
def keys() -> tuple[rsa.RSAPrivateKey, ...]:
    # RSA key generation takes ~33 ms: made once per test process.
    return tuple(generate_key() for _ in range(4))


@cache
def real_root() -> AuthorityKey:
    return generate_root(ISSUED_AT, keys()[0])


@cache
def impostor_root() -> AuthorityKey:
    # Same name, same everything, but a different key: a CA anyone could make.
    return generate_root(ISSUED_AT, keys()[3])


def user_certificate(
    root: AuthorityKey | None = None, serial: str | None = None, key_index: int = 1
) -> x509.Certificate:
    return issue_user_certificate(
        root or real_root(),
        keys()[key_index].public_key(),
        serial or new_serial(),
        ISSUED_AT,
        NOT_AFTER,
    )


def verify(
    certificate: x509.Certificate | str | bytes,
    signature: bytes | None = None,
    *,
    crl: x509.CertificateRevocationList | None = None,
    at: datetime = LOGIN_AT,
    key_index: int = 1,
) -> str:
    pem = certificate_pem(certificate) if isinstance(certificate, x509.Certificate) else certificate
    return verify_signed_challenge(
        pem,
        signature if signature is not None else sign(keys()[key_index], CHALLENGE),
        CHALLENGE,
        [root_certificate(real_root())],
        crl if crl is not None else build_crl(real_root(), [], LOGIN_AT),
        at,
    )


def test_a_good_signature_from_a_card_of_the_root_gives_its_serial():
    serial = new_serial()
    assert verify(user_certificate(serial=serial)) == serial


def test_pem_as_bytes_and_without_a_crl_is_accepted():
    serial = new_serial()
    pem = certificate_pem(user_certificate(serial=serial)).encode()
    assert (
        verify_signed_challenge(
            pem,
            sign(keys()[1], CHALLENGE),
            CHALLENGE,
            [root_certificate(real_root())],
            None,
            LOGIN_AT,
        )
        == serial
    )


def test_a_certificate_from_another_ca_with_the_same_name_is_untrusted():
    forged = user_certificate(root=impostor_root())
    assert forged.issuer == root_certificate(real_root()).subject
    with pytest.raises(UntrustedCertificate, match="not issued by a trusted JPKI root"):
        verify(forged)


def test_the_root_certificate_itself_is_not_a_card():
    root = root_certificate(real_root())
    with pytest.raises(UntrustedCertificate, match="CA certificate"):
        verify(root, key_index=0)


def test_a_certificate_without_digital_signature_usage_is_untrusted():
    root_key = keys()[0]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(USER_NAME)
        .issuer_name(root_certificate(real_root()).subject)
        .public_key(keys()[1].public_key())
        .serial_number(int(new_serial(), 16))
        .not_valid_before(ISSUED_AT)
        .not_valid_after(NOT_AFTER)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(root_key, hashes.SHA256())
    )
    with pytest.raises(UntrustedCertificate, match="digitalSignature"):
        verify(certificate)


def test_a_revoked_certificate_is_refused():
    serial = new_serial()
    crl = build_crl(real_root(), [(new_serial(), ISSUED_AT), (serial, LOGIN_AT)], LOGIN_AT)
    with pytest.raises(CertificateRevoked, match=f"certificate {serial} was revoked") as error:
        verify(user_certificate(serial=serial), crl=crl)
    assert error.value.code == "certificate_revoked"


def test_revocation_is_checked_before_validity():
    serial = new_serial()
    crl = build_crl(real_root(), [(serial, LOGIN_AT)], LOGIN_AT)
    with pytest.raises(CertificateRevoked):
        verify(user_certificate(serial=serial), crl=crl, at=NOT_AFTER + timedelta(days=1))


def test_a_crl_not_signed_by_the_root_is_refused_not_ignored():
    serial = new_serial()
    forged_crl = build_crl(impostor_root(), [], LOGIN_AT)
    with pytest.raises(UntrustedCertificate, match="revocation list is not signed"):
        verify(user_certificate(serial=serial), crl=forged_crl)


@pytest.mark.parametrize(
    ("at", "outcome"),
    [
        (ISSUED_AT - timedelta(seconds=1), CertificateNotYetValid),
        (ISSUED_AT, None),
        (NOT_AFTER, None),
        (NOT_AFTER + timedelta(seconds=1), CertificateExpired),
    ],
)
def test_validity_is_checked_at_platform_time(at, outcome):
    certificate = user_certificate()
    if outcome is None:
        assert verify(certificate, at=at)
    else:
        with pytest.raises(outcome):
            verify(certificate, at=at)


def test_expiry_message_says_when_and_at_what_time():
    with pytest.raises(CertificateExpired) as error:
        verify(user_certificate(), at=datetime(2025, 7, 1, 9, 0, tzinfo=JST))
    assert error.value.message.startswith(
        "the certificate expired on 2025-06-15T14:59:59Z (platform time 2025-07-01T00:00:00Z)"
    )
    assert error.value.code == "certificate_expired"


def test_a_signature_over_other_bytes_is_invalid():
    with pytest.raises(InvalidSignature) as error:
        verify(user_certificate(), sign(keys()[1], CHALLENGE + b"!"))
    assert error.value.code == "invalid_signature"


def test_a_signature_by_another_key_is_invalid():
    with pytest.raises(InvalidSignature):
        verify(user_certificate(), sign(keys()[2], CHALLENGE))


def test_a_signature_with_another_hash_is_invalid():
    from cryptography.hazmat.primitives.asymmetric import padding  # noqa: PLC0415

    signature = keys()[1].sign(CHALLENGE, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
    with pytest.raises(InvalidSignature):
        verify(user_certificate(), signature)


def test_a_tampered_certificate_is_untrusted():
    der = user_certificate().public_bytes(serialization.Encoding.DER)
    tampered = der.replace(b"JPKI user", b"JPKI User", 1)
    assert tampered != der
    pem = (
        "-----BEGIN CERTIFICATE-----\n"
        + base64.encodebytes(tampered).decode()
        + "-----END CERTIFICATE-----\n"
    )
    with pytest.raises(UntrustedCertificate, match="not issued by a trusted"):
        verify(pem)


@pytest.mark.parametrize(
    "pem",
    [
        "",
        "hello",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "証明書",
    ],
)
def test_an_unreadable_certificate_is_untrusted(pem):
    with pytest.raises(UntrustedCertificate, match="not a readable PEM certificate"):
        verify(pem)


def test_platform_time_must_have_an_offset():
    with pytest.raises(ValueError, match="no UTC offset"):
        verify(user_certificate(), at=datetime(2021, 7, 19, 10, 0))  # noqa: DTZ001
