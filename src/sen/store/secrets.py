"""Secrets kept in the operational store, encrypted at rest.

Provider API keys, SMTP passwords and OAuth tokens are entered in the app and
stored sealed with a key that never enters the database: ``SEN_ENCRYPTION_KEY``
when set (several processes on several machines share it), else a key file
written once into the data folder, readable by its owner only. A stolen
database dump therefore holds no usable secret. Sealing is Fernet
(AES-128-CBC with HMAC-SHA256, from ``cryptography``): tampering is detected,
not silently decrypted.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from sen.errors import ConfigError

KEY_FILE = "secret-box.key"


def _key_file(data_dir: Path) -> bytes:
    path = Path(data_dir) / KEY_FILE
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key)
    finally:
        os.close(fd)
    return key


class SecretBox:
    """Seals and opens JSON-able values with one key."""

    def __init__(self, key: bytes | str) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                "The encryption key is not valid.",
                hint="Set SEN_ENCRYPTION_KEY to a key made by "
                "`python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`, or leave it empty to use the "
                "key file in the data folder.") from exc

    @classmethod
    def for_settings(cls, settings: Any) -> SecretBox:
        """The box for these settings: their key, or the data folder's key file."""
        key = getattr(settings, "encryption_key", "") or _key_file(settings.data_dir)
        return cls(key)

    def seal(self, value: Any) -> str:
        """``value`` as JSON, encrypted; an empty string for ``None``."""
        if value is None:
            return ""
        return self._fernet.encrypt(json.dumps(value).encode()).decode()

    def open(self, token: str) -> Any:
        """The value :meth:`seal` sealed (``None`` for an empty string)."""
        if not token:
            return None
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise ConfigError(
                "A stored secret cannot be decrypted with this key.",
                hint="Use the same SEN_ENCRYPTION_KEY (or data folder key file) as the "
                "process that saved it, or enter the secret again.") from exc
