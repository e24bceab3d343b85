"""The simulated authority's X.509 material: its root CA, user certificates and CRLs.

Keys are RSA-2048 and signatures RSASSA-PKCS1-v1_5 with SHA-256, as on the My Number
Card (RULES.md §4). A user certificate carries no personal data: no name, address, birth
date or sex; only its serial links it to a person, and only the authority knows how.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mynapoint.jpki.ports import AuthorityKey

KEY_BITS = 2048
PUBLIC_EXPONENT = 65537
SERIAL_BYTES = 16
ROOT_NAME = x509.Name(
    [
        x509.NameAttribute(
            NameOID.COMMON_NAME, "Mynapoint simulated JPKI root (not a real J-LIS CA)"
        ),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mynapoint"),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
    ]
)
USER_NAME = x509.Name(
    [
        x509.NameAttribute(NameOID.COMMON_NAME, "JPKI user certificate"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mynapoint (simulated)"),
    ]
)
# The platform clock may be set years back (the program ran 2020-2023), so the root is
# valid from well before any card the simulation issues, whatever "now" it was made at.
ROOT_EARLIEST = datetime(2010, 1, 1, tzinfo=UTC)
ROOT_YEARS = 30
CRL_LIFETIME = timedelta(days=1)


def generate_key() -> rsa.RSAPrivateKey:
    """A fresh RSA-2048 key (about 33 ms: tests and demos pre-generate them)."""
    return rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=KEY_BITS)


def new_serial() -> str:
    """A random positive 128-bit serial, uppercase hex, always 32 digits (no leading zero)."""
    value = secrets.randbits(SERIAL_BYTES * 8 - 4) | (1 << (SERIAL_BYTES * 8 - 4))
    return format_serial(value)


def format_serial(value: int) -> str:
    return format(value, "X")


def generate_root(now: datetime, key: rsa.RSAPrivateKey | None = None) -> AuthorityKey:
    key = key or generate_key()
    not_before = min(ROOT_EARLIEST, _whole_seconds(now) - timedelta(days=1))
    not_after = _whole_seconds(now) + timedelta(days=365 * ROOT_YEARS)
    public_key = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(ROOT_NAME)
        .issuer_name(ROOT_NAME)
        .public_key(public_key)
        .serial_number(int(new_serial(), 16))
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )
    return AuthorityKey(
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM),
        private_key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),  # demo-only root, kept in the authority's own store
        ),
        created_at=now,
    )


def issue_user_certificate(
    root: AuthorityKey,
    public_key: rsa.RSAPublicKey,
    serial_hex: str,
    issued_at: datetime,
    not_after: datetime,
) -> x509.Certificate:
    """A user (authentication) certificate: digitalSignature and clientAuth, nothing personal."""
    if not_after <= issued_at:
        raise ValueError(
            f"a certificate issued at {issued_at.isoformat()} cannot end at {not_after.isoformat()}"
        )
    root_certificate, root_key = _root_material(root.certificate_pem, root.private_key_pem)
    return (
        x509.CertificateBuilder()
        .subject_name(USER_NAME)
        .issuer_name(root_certificate.subject)
        .public_key(public_key)
        .serial_number(int(serial_hex, 16))
        .not_valid_before(_whole_seconds(issued_at))
        .not_valid_after(_whole_seconds(not_after))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(root_key, hashes.SHA256())
    )


def build_crl(
    root: AuthorityKey, revocations: Sequence[tuple[str, datetime]], now: datetime
) -> x509.CertificateRevocationList:
    """Every revoked serial with its revocation time, signed by the root; valid one day."""
    root_certificate, root_key = _root_material(root.certificate_pem, root.private_key_pem)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(root_certificate.subject)
        .last_update(_whole_seconds(now))
        .next_update(_whole_seconds(now) + CRL_LIFETIME)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
    )
    for serial, revoked_at in revocations:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(int(serial, 16))
            .revocation_date(_whole_seconds(revoked_at))
            .build()
        )
    return builder.sign(root_key, hashes.SHA256())


def certificate_pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def load_certificate(pem: str | bytes) -> x509.Certificate:
    """Raises ValueError on anything that is not one PEM certificate."""
    data = pem.encode("ascii", errors="replace") if isinstance(pem, str) else pem
    return x509.load_pem_x509_certificate(data)


def crl_pem(crl: x509.CertificateRevocationList) -> bytes:
    return crl.public_bytes(serialization.Encoding.PEM)


def load_crl(pem: bytes) -> x509.CertificateRevocationList:
    return x509.load_pem_x509_crl(pem)


def root_certificate(root: AuthorityKey) -> x509.Certificate:
    return _root_material(root.certificate_pem, root.private_key_pem)[0]


@lru_cache(maxsize=8)
def _root_material(
    certificate_pem: bytes, private_key_pem: bytes
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    # Checking an RSA key's consistency costs ~28 ms; this key was made by generate_root and
    # comes from the authority's own store, so the check is skipped and the result cached.
    key = serialization.load_pem_private_key(
        private_key_pem, password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError(f"the authority key must be RSA, not {type(key).__name__}")
    return load_certificate(certificate_pem), key


def _whole_seconds(at: datetime) -> datetime:
    # X.509 times have no fractions: truncating keeps "valid from" at or before the instant.
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at.isoformat()} has no UTC offset")
    return at.astimezone(UTC).replace(microsecond=0)
