"""Secrets at rest (Page tokens, the Meta app secret), encrypted with Fernet."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from leadhub.config import ConfigError

_fernet: Fernet | None = None


def configure(key: str) -> None:
    """Use LEADHUB_ENCRYPTION_KEY; a key Fernet cannot use stops the start with a clear message."""
    global _fernet
    try:
        _fernet = Fernet(key.encode())
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            "LEADHUB_ENCRYPTION_KEY is not a Fernet key (32 url-safe base64 bytes); make one with: "
            "python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        ) from exc


def _cipher() -> Fernet:
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
