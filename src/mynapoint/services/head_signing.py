"""The audit key: an Ed25519 key, kept in a file outside the database, that signs published heads.

Whoever can rewrite the database can re-link the audit chain and rewrite the heads stored
beside it; they cannot sign a head without this file. With the public key alone (`mynapoint
audit public-key`) anyone can check a signed head anywhere (`mynapoint audit check-head`).
The file is created on first use, readable by its owner only (0600).
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from mynapoint.domain.audit import ChainHead, PublishedHead

if TYPE_CHECKING:
    from pathlib import Path

KEY_FILE_MODE = 0o600


@dataclass(frozen=True, eq=False)
class HeadVerifier:
    """The audit key's public half: checks a head's signature, holds no secret."""

    key: Ed25519PublicKey

    @classmethod
    def from_pem(cls, pem: bytes) -> HeadVerifier:
        """Raises ValueError on anything that is not an Ed25519 public key in PEM."""
        try:
            key = serialization.load_pem_public_key(pem)
        except (ValueError, TypeError):
            raise ValueError(
                "not a PEM public key; give the file `mynapoint audit public-key` prints "
                "(-----BEGIN PUBLIC KEY----- …)"
            ) from None
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError(  # noqa: TRY004 - one error for every unusable key file
                f"the public key is a {type(key).__name__}, not the Ed25519 key of the audit log"
            )
        return cls(key)

    def is_genuine(self, head: PublishedHead) -> bool:
        if head.signature is None:
            return False
        try:
            signature = base64.urlsafe_b64decode(head.signature + "==")
            self.key.verify(signature, head.signed_message())
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True

    def pem(self) -> str:
        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")


@dataclass(frozen=True, eq=False)
class AuditKey:
    """The private key that signs heads."""

    key: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> AuditKey:
        return cls(Ed25519PrivateKey.generate())

    def sign(self, head: ChainHead, published_at: datetime) -> PublishedHead:
        unsigned = PublishedHead(head, published_at)
        signature = self.key.sign(unsigned.signed_message())
        encoded = base64.urlsafe_b64encode(signature).decode("ascii").rstrip("=")
        return PublishedHead(head, published_at, encoded)

    def verifier(self) -> HeadVerifier:
        return HeadVerifier(self.key.public_key())


class AuditKeyFile:
    """The key in its file: read on first use, or generated and written then (0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._key: AuditKey | None = None

    def key(self) -> AuditKey:
        with self._lock:
            if self._key is None:
                self._key = self._load_or_create()
            return self._key

    def verifier(self) -> HeadVerifier:
        return self.key().verifier()

    def _load_or_create(self) -> AuditKey:
        try:
            return self._load()
        except FileNotFoundError:
            pass
        self.path.parent.mkdir(parents=True, exist_ok=True)
        key = AuditKey.generate()
        pem = key.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # Written whole under a name of this process's own, then linked into place: of two
        # processes starting at once (server workers), one links its key and both use it, and
        # neither ever reads a key file half written (O_EXCL on the final name would let the
        # other read it empty).
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, KEY_FILE_MODE)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(pem)
                file.flush()
                os.fsync(file.fileno())
            try:
                os.link(partial, self.path)
            except FileExistsError:
                return self._load()
        finally:
            partial.unlink(missing_ok=True)
        return key

    def _load(self) -> AuditKey:
        pem = self.path.read_bytes()
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError):
            raise ValueError(
                f"the audit signing key {self.path} is not an unencrypted PEM private key"
            ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(  # noqa: TRY004 - one error for every unusable key file
                f"the audit signing key {self.path} holds a {type(key).__name__}, not Ed25519"
            )
        return AuditKey(key)
