"""Keys and passwords: random keys of 192 bits, scrypt hashes, constant-time comparison."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# scrypt cost: ~50 ms on a 2-core laptop, 16 MiB of memory per hash.
_N, _R, _P = 2**14, 8, 1
_MAXMEM = 64 * 1024 * 1024


def new_key() -> str:
    """A fresh random key (192 bits, URL-safe)."""
    return secrets.token_urlsafe(24)


def new_id() -> str:
    """A fresh random identifier for documents and models (128 bits, hex)."""
    return secrets.token_hex(16)


def keys_equal(given: object, expected: str | None) -> bool:
    """Constant-time comparison; anything that is not a non-empty string never matches."""
    if not isinstance(given, str) or not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$<salt b64>$<hash b64>``; never store or log the password itself."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P,
                            maxmem=_MAXMEM, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    """True when ``password`` matches the stored scrypt hash."""
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt),
                                n=int(n), r=int(r), p=int(p), maxmem=_MAXMEM,
                                dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)
