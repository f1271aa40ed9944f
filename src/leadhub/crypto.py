"""Secrets at rest (Page tokens, the Meta app secret), encrypted with Fernet."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from leadhub.config import ConfigError

_fernet: Fernet | MultiFernet | None = None


def configure(key: str) -> None:
    """Use LEADHUB_ENCRYPTION_KEY; a key Fernet cannot use stops the start with a clear message.

    During a key rotation it holds "NEW,OLD": the first key encrypts, every key decrypts, and
    `leadhub rotate-key` re-encrypts what the old one wrote.
    """
    global _fernet
    try:
        keys = [Fernet(part.strip().encode()) for part in key.split(",") if part.strip()]
        if not keys:
            raise ValueError("no key")
        _fernet = keys[0] if len(keys) == 1 else MultiFernet(keys)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            "LEADHUB_ENCRYPTION_KEY is not a Fernet key (32 url-safe base64 bytes); make one with: "
            "python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        ) from exc


def _cipher() -> Fernet | MultiFernet:
    if _fernet is None:
        raise RuntimeError("leadhub.crypto is not configured; create_app() does it")
    return _fernet


def encrypt(plain: str) -> str:
    return _cipher().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    """The plain text; a value encrypted with another key raises ValueError (no secret in it)."""
    try:
        return _cipher().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError(
            "cannot decrypt: LEADHUB_ENCRYPTION_KEY changed since it was stored"
        ) from exc


def rotate(token: str) -> str:
    """The same secret encrypted with the first key (MultiFernet.rotate); ValueError if no key
    of LEADHUB_ENCRYPTION_KEY can read it."""
    cipher = _cipher()
    try:
        if isinstance(cipher, MultiFernet):
            return cipher.rotate(token.encode()).decode()
        return cipher.encrypt(cipher.decrypt(token.encode())).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt: none of the keys in LEADHUB_ENCRYPTION_KEY fits") from exc
