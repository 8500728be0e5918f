"""Personal data at rest: Fernet encryption, and a keyed hash to find equal values."""

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken

_fernet: Fernet | None = None
_index_key: bytes = b""


def configure(data_key: str) -> None:
    """Set the data-encryption key (a Fernet key); the blind-index key is derived from it."""
    global _fernet, _index_key
    _fernet = Fernet(data_key.encode() if isinstance(data_key, str) else data_key)
    _index_key = hashlib.sha256(b"blind-index:" + base64.urlsafe_b64decode(data_key)).digest()


def new_key() -> str:
    return Fernet.generate_key().decode()


def encrypt(plain: str | None) -> str | None:
    if plain is None:
        return None
    return _require().encrypt(plain.encode()).decode()


def decrypt(token: str | None) -> str | None:
    if token is None:
        return None
    try:
        return _require().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("data cannot be decrypted with the configured key") from None


def blind_index(plain: str) -> str:
    """A keyed hash: equal inputs give equal outputs, and it reveals nothing without the key."""
    _require()
    return hmac.new(_index_key, plain.encode(), hashlib.sha256).hexdigest()


def _require() -> Fernet:
    if _fernet is None:
        raise RuntimeError("data-encryption key not configured")
    return _fernet
