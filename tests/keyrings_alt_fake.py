"""A stand-in for keyrings.alt's PlaintextKeyring (keyrings.alt is not a dependency).

Like the real one it keeps passwords in a plain file; zoomtui must recognise it as
insecure by what it is (a class named PlaintextKeyring), not by where it lives.
Usable in a subprocess too:
PYTHONPATH=tests PYTHON_KEYRING_BACKEND=keyrings_alt_fake.PlaintextKeyring with
ZOOMTUI_TEST_PLAINTEXT_KEYRING=<file>.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

ENV_FILE = "ZOOMTUI_TEST_PLAINTEXT_KEYRING"


class PlaintextKeyring(KeyringBackend):
    priority = -1  # type: ignore[assignment]  # never chosen by accident

    def __init__(self, file_path: Path | str | None = None) -> None:
        super().__init__()
        self.file_path = Path(file_path or os.environ.get(ENV_FILE) or "keyring_pass.cfg")

    def _load(self) -> dict[str, str]:
        try:
            return json.loads(self.file_path.read_text())
        except FileNotFoundError:
            return {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}/{username}"] = password
        self.file_path.write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError("Password not found")
        self.file_path.write_text(json.dumps(data))
