"""Check a card's answer to a login challenge: chain, revocation, validity, key usage, signature.

The order is fixed so that each failure has one stable code: who issued the certificate
first (nothing else about an untrusted certificate is worth reporting), then revocation,
then validity, then the signature itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from cryptography import exceptions as crypto_exceptions
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mynapoint.domain.auth import (
    CertificateExpired,
    CertificateNotYetValid,
    CertificateRevoked,
    InvalidSignature,
    UntrustedCertificate,
)
from mynapoint.jpki.certificates import format_serial, load_certificate


def verify_signed_challenge(
    certificate_pem: str | bytes,
    signature: bytes,
    challenge: bytes,
    anchors: Sequence[x509.Certificate],
    crl: x509.CertificateRevocationList | None,
    at: datetime,
) -> str:
    """The certificate's serial (uppercase hex) if its key signed `challenge` and it is good `at`.

    `crl` None skips the revocation check (for callers that have none); a CRL that the
    certificate's own root did not sign is refused rather than ignored.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at.isoformat()} has no UTC offset")
    try:
        certificate = load_certificate(certificate_pem)
    except ValueError:
        raise UntrustedCertificate(
            "the certificate is not a readable PEM certificate (-----BEGIN CERTIFICATE----- …)"
        ) from None
    serial = format_serial(certificate.serial_number)
    anchor = _issuing_anchor(certificate, anchors)
    if anchor is None:
        raise UntrustedCertificate(
            f"certificate {serial} was not issued by a trusted JPKI root "
            f"(it names issuer '{certificate.issuer.rfc4514_string()}')",
            serial=serial,
        )
    if crl is not None:
        _check_revocation(certificate, serial, anchor, crl)
    _check_validity(certificate, serial, at)
    _check_usage(certificate, serial)
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise UntrustedCertificate(
            f"certificate {serial} holds a {type(public_key).__name__}; card keys are RSA-2048",
            serial=serial,
        )
    try:
        public_key.verify(signature, challenge, padding.PKCS1v15(), hashes.SHA256())
    except crypto_exceptions.InvalidSignature:
        raise InvalidSignature(
            f"the signature does not match the challenge and the key of certificate {serial}; "
            "sign the challenge's raw bytes with RSASSA-PKCS1-v1_5 and SHA-256",
            serial=serial,
        ) from None
    return serial


def _issuing_anchor(
    certificate: x509.Certificate, anchors: Sequence[x509.Certificate]
) -> x509.Certificate | None:
    # A name match alone proves nothing (anyone can make a CA with the same name): the
    # certificate's signature must verify under the anchor's key.
    for anchor in anchors:
        if anchor.subject != certificate.issuer:
            continue
        try:
            certificate.verify_directly_issued_by(anchor)
        except (ValueError, TypeError, crypto_exceptions.InvalidSignature):
            continue
        return anchor
    return None


def _check_revocation(
    certificate: x509.Certificate,
    serial: str,
    anchor: x509.Certificate,
    crl: x509.CertificateRevocationList,
) -> None:
    anchor_key = anchor.public_key()
    if (
        crl.issuer != anchor.subject
        or not isinstance(anchor_key, rsa.RSAPublicKey)
        or not crl.is_signature_valid(anchor_key)
    ):
        # Ignoring a forged or foreign CRL would let revoked certificates in: refuse instead.
        raise UntrustedCertificate(
            "the revocation list is not signed by the root that issued certificate "
            f"{serial}, so its revocation cannot be checked",
            serial=serial,
        )
    revoked = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
    if revoked is not None:
        # Listed means revoked, whatever the date on the entry: a CRL lists only what has
        # happened, and a simulated clock set back must not bring a certificate back.
        raise CertificateRevoked(
            f"certificate {serial} was revoked at {_iso(revoked.revocation_date_utc)}",
            serial=serial,
            revoked_at=_iso(revoked.revocation_date_utc),
        )


def _check_validity(certificate: x509.Certificate, serial: str, at: datetime) -> None:
    starts = certificate.not_valid_before_utc
    ends = certificate.not_valid_after_utc
    if at < starts:
        raise CertificateNotYetValid(
            f"certificate {serial} is valid from {_iso(starts)} (platform time {_iso(at)})",
            serial=serial,
            not_before=_iso(starts),
            at=_iso(at),
        )
    if at > ends:
        raise CertificateExpired(
            f"the certificate expired on {_iso(ends)} (platform time {_iso(at)}); "
            "renew it at a municipal office",
            serial=serial,
            not_after=_iso(ends),
            at=_iso(at),
        )


def _check_usage(certificate: x509.Certificate, serial: str) -> None:
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        pass
    else:
        if constraints.value.ca:
            raise UntrustedCertificate(
                f"certificate {serial} is a CA certificate, not a card's user certificate",
                serial=serial,
            )
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is None or not usage.digital_signature:
        raise UntrustedCertificate(
            f"certificate {serial} is not for signing (its key usage lacks digitalSignature)",
            serial=serial,
        )


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")
