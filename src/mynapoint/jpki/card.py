"""The virtual card file (INTERFACES "Card file"): a certificate and its PIN-encrypted key.

Like a chip's, the PIN retry counter is not in the file: the simulated card authority
keeps it (see authority.py). Unlike a chip, a file can be attacked offline (a 4-digit PIN
is 10,000 guesses): the virtual card is for development, training and tests only.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mynapoint.domain.errors import MynapointError
from mynapoint.jpki.certificates import certificate_pem, format_serial, load_certificate

CARD_FORMAT = "mynapoint-virtual-card/1"
_PIN = re.compile(r"[0-9]{4}")
_SERIAL = re.compile(r"[0-9A-F]+")
_ENCRYPTED_KEY_HEADER = "-----BEGIN ENCRYPTED PRIVATE KEY-----"


class CardFileError(MynapointError):
    code = "invalid_card_file"


class InvalidPin(MynapointError):
    code = "invalid_pin"

    def __init__(self, pin: str) -> None:
        # The PIN itself is a secret: say what is wrong with it without echoing it.
        super().__init__(
            f"the PIN is 4 digits (0-9), e.g. 1234; the one given has {len(pin)} characters"
            + ("" if len(pin) != 4 else " that are not all digits")
        )


def validate_pin(pin: str) -> str:
    # fullmatch on [0-9], not str.isdigit(): full-width and other Unicode digits are refused.
    if not _PIN.fullmatch(pin):
        raise InvalidPin(pin)
    return pin


@dataclass(frozen=True)
class VirtualCard:
    serial: str  # uppercase hex, as on the certificate
    certificate_pem: str
    private_key_pem: str  # PKCS#8, encrypted with the PIN

    @classmethod
    def seal(
        cls, certificate: x509.Certificate, private_key: rsa.RSAPrivateKey, pin: str
    ) -> VirtualCard:
        """Write a card: the key is encrypted with the PIN, which the file does not keep."""
        encrypted = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(validate_pin(pin).encode("ascii")),
        )
        return cls(
            serial=format_serial(certificate.serial_number),
            certificate_pem=certificate_pem(certificate),
            private_key_pem=encrypted.decode("ascii"),
        )

    @property
    def certificate(self) -> x509.Certificate:
        return load_certificate(self.certificate_pem)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": CARD_FORMAT,
                "serial": self.serial,
                "certificate": self.certificate_pem,
                "private_key": self.private_key_pem,
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> VirtualCard:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise CardFileError(f"a card file is JSON; this is not ({error})") from None
        if not isinstance(data, dict):
            raise CardFileError(
                f"a card file is a JSON object with format '{CARD_FORMAT}'; "
                f"this is a JSON {type(data).__name__}"
            )
        if data.get("format") != CARD_FORMAT:
            raise CardFileError(
                f"the card file's format is {data.get('format')!r}; expected '{CARD_FORMAT}'",
                format=data.get("format"),
            )
        serial, certificate_text, key_text = (
            _text_field(data, name) for name in ("serial", "certificate", "private_key")
        )
        if not _SERIAL.fullmatch(serial):
            raise CardFileError(
                f"the card's serial {serial!r} is not uppercase hex, e.g. 4F2A09C1…", serial=serial
            )
        try:
            certificate = load_certificate(certificate_text)
        except ValueError:
            raise CardFileError(
                "the card's certificate is not a readable PEM certificate "
                "(-----BEGIN CERTIFICATE----- …)"
            ) from None
        if format_serial(certificate.serial_number) != serial:
            raise CardFileError(
                f"the card says serial {serial} but its certificate has serial "
                f"{format_serial(certificate.serial_number)}",
                serial=serial,
            )
        if not key_text.lstrip().startswith(_ENCRYPTED_KEY_HEADER):
            raise CardFileError(
                "the card's private_key is not a PIN-encrypted PKCS#8 key "
                f"({_ENCRYPTED_KEY_HEADER})"
            )
        return cls(serial=serial, certificate_pem=certificate_text, private_key_pem=key_text)

    @classmethod
    def read(cls, path: Path | str) -> VirtualCard:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CardFileError(
                f"cannot read the card file {path}: {error}", path=str(path)
            ) from None
        return cls.from_json(text)

    def write(self, path: Path | str) -> None:
        # Owner-only: the key inside is protected by a mere 4-digit PIN.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(self.to_json() + "\n")


def unlock_key(card: VirtualCard, pin: str) -> rsa.RSAPrivateKey | None:
    """The card's key, or None if the PIN does not decrypt it (a wrong PIN)."""
    try:
        # The key was validated when the card was made; the check costs ~28 ms per unlock
        # and a key tampered with inside the file could only spoil its own holder's logins.
        key = serialization.load_pem_private_key(
            card.private_key_pem.encode("ascii", errors="replace"),
            password=validate_pin(pin).encode("ascii"),
            unsafe_skip_rsa_key_validation=True,
        )
    except ValueError:
        return None
    except TypeError:
        raise CardFileError("the card's private_key is not encrypted with a PIN") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CardFileError(f"the card's key is {type(key).__name__}; a card key is RSA-2048")
    return key


def sign(private_key: rsa.RSAPrivateKey, challenge: bytes) -> bytes:
    """RSASSA-PKCS1-v1_5 with SHA-256 over the raw challenge bytes, as the chip signs."""
    return private_key.sign(challenge, padding.PKCS1v15(), hashes.SHA256())


def _text_field(data: dict[str, object], name: str) -> str:
    value = data.get(name)
    if value is None:
        raise CardFileError(f"the card file has no '{name}'", missing=name)
    if not isinstance(value, str):
        raise CardFileError(
            f"the card file's '{name}' is a JSON {type(value).__name__}; expected a string",
            field=name,
        )
    return value
