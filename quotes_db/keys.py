"""API keys: make one, store only a salted digest of it, check a presented one.

A key reads ``qc_<key_id>_<secret>``. The ``key_id`` is public: it names the key in
``quotecheck keys list`` and in logs, and it is how the store finds the key's record. The
secret is 32 random bytes from ``secrets`` (256 bits), shown once when the key is made and
never stored.

Why a fast salted hash and not a password hash (bcrypt, scrypt, argon2): a password hash is
slow on purpose, because passwords are guessable and a stolen table of digests can be
attacked by trying likely passwords. A 256-bit random secret cannot be guessed: trying
2**256 candidates is out of reach however fast each try is, so slowness buys nothing and
would only cost every API request milliseconds of CPU. A salted BLAKE2b (keyed with a
per-key random salt) is enough to make the stored digest useless to whoever reads the
database, and ``hmac.compare_digest`` compares it in constant time so that response timing
says nothing about how much of a guess was right.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

__all__ = [
    "KEY_PREFIX",
    "GeneratedKey",
    "PresentedKey",
    "digest",
    "generate_key",
    "parse_key",
    "verify_secret",
]

KEY_PREFIX = "qc"
KEY_ID_LENGTH = 12  # letters and digits: about 71 bits, plenty for a unique name
SECRET_BYTES = 32  # 43 base64url characters
SALT_BYTES = 16
DIGEST_BYTES = 32
# no "_" in a key_id, so a key splits cleanly at its first two underscores
_KEY_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_KEY_RE = re.compile(r"qc_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})")


@dataclass(frozen=True, slots=True)
class GeneratedKey:
    """A new key: the full ``token`` to hand out once, and what the store keeps."""

    token: str
    key_id: str
    salt: bytes
    digest: bytes


@dataclass(frozen=True, slots=True)
class PresentedKey:
    """The two parts of a well-formed key a client sent."""

    key_id: str
    secret: str


def digest(secret: str, salt: bytes) -> bytes:
    """Return the salted BLAKE2b digest of ``secret`` (32 bytes), as stored for a key."""
    return hashlib.blake2b(secret.encode("ascii"), key=salt, digest_size=DIGEST_BYTES).digest()


def generate_key() -> GeneratedKey:
    """Return a fresh random key with its id, salt and digest."""
    key_id = "".join(secrets.choice(_KEY_ID_CHARS) for _ in range(KEY_ID_LENGTH))
    secret = secrets.token_urlsafe(SECRET_BYTES)
    salt = secrets.token_bytes(SALT_BYTES)
    return GeneratedKey(f"{KEY_PREFIX}_{key_id}_{secret}", key_id, salt, digest(secret, salt))


def parse_key(token: str) -> PresentedKey | None:
    """Return the key id and secret of a presented key; None when it is not a key's shape."""
    match = _KEY_RE.fullmatch(token)
    if match is None:
        return None
    return PresentedKey(match.group(1), match.group(2))


def verify_secret(secret: str, salt: bytes, expected: bytes) -> bool:
    """Return whether ``secret`` has the stored digest, compared in constant time."""
    return hmac.compare_digest(digest(secret, salt), expected)
