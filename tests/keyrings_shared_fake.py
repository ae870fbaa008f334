"""A test-only stand-in for an OS keyring that several processes share (the Secret Service,
the macOS Keychain): entries in one JSON file, locked while read or written.

zoomtui classifies it as a real keyring (it is neither keyring's fail/null backend nor a
plain-file one by name), which is the point: the tests of the token shared across
processes need a keyring that a subprocess reaches too.  Never a product fallback: it
lives under tests/ only.  In a subprocess:
PYTHONPATH=tests PYTHON_KEYRING_BACKEND=keyrings_shared_fake.SharedFileKeyring with
ZOOMTUI_TEST_SHARED_KEYRING=<file>.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

ENV_FILE = "ZOOMTUI_TEST_SHARED_KEYRING"


class SharedFileKeyring(KeyringBackend):
    priority = -1  # type: ignore[assignment]  # never chosen by accident

    def __init__(self, file_path: Path | str | None = None) -> None:
        super().__init__()
        path = file_path or os.environ.get(ENV_FILE)
        if not path:
            raise RuntimeError(f"SharedFileKeyring needs a file: set {ENV_FILE}")
        self.file_path = Path(path)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, str]]:
        """The entries, with the file locked; what the block leaves in them is written back."""
        lock = self.file_path.with_suffix(".lock")
        with open(lock, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                entries = json.loads(self.file_path.read_text()) if self.file_path.exists() else {}
                before = dict(entries)
                yield entries
                if entries != before:
                    tmp = self.file_path.with_suffix(".tmp")
                    tmp.write_text(json.dumps(entries))
                    os.replace(tmp, self.file_path)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def get_password(self, service: str, username: str) -> str | None:
        with self._locked() as entries:
            return entries.get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        with self._locked() as entries:
            entries[f"{service}/{username}"] = password

    def delete_password(self, service: str, username: str) -> None:
        with self._locked() as entries:
            if entries.pop(f"{service}/{username}", None) is None:
                raise PasswordDeleteError("Password not found")
