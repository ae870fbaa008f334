"""Shared fixtures. Several helpers append here: keep each block small and self-contained.

Isolation (autouse): no test may read or write the developer's real config, data,
keyring or ZOOM_* environment.  Code under test must call `platformdirs.user_*_dir(...)`
through the module (not a `from platformdirs import ...` bound at import) so the
monkeypatch below reaches it on every platform; on Linux the XDG variables do it too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.core
import platformdirs
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import PasswordDeleteError

from zoomtui.credentials.token_cache import MemoryTokenCache

# --- credentials/config (issue 4) ---------------------------------------------------

_ENV_TO_CLEAR = (
    "ZOOM_ACCOUNT_ID",
    "ZOOM_CLIENT_ID",
    "ZOOM_CLIENT_SECRET",
    "ZOOM_SUBSCRIPTION_ID",
    "ZOOM_WEBHOOK_SECRET_TOKEN",
    "ZOOMTUI_OAUTH_URL",
    "ZOOMTUI_WS_URL",
    "ZOOMTUI_API_URL",
    "ZOOMTUI_GRANT",
    "ZOOMTUI_CLOUD",
    "ZOOMTUI_PROFILE",
    "ZOOMTUI_CONFIG",
    "ZOOMTUI_INSECURE_TRANSPORT",
    "PYTHON_KEYRING_BACKEND",
)


@pytest.fixture(autouse=True)
def _isolate_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Point every per-user directory at a fresh temp dir and hide the developer's
    ZOOM_* variables and keyring; the default keyring in tests is the fail backend
    (an in-process test that wants a keyring asks for `memory_keyring`)."""
    home = tmp_path_factory.mktemp("home")
    dirs = {
        "XDG_CONFIG_HOME": home / "config",
        "XDG_DATA_HOME": home / "data",
        "XDG_CACHE_HOME": home / "cache",
        "XDG_STATE_HOME": home / "state",
    }
    for var, path in dirs.items():
        monkeypatch.setenv(var, str(path))
    for var in _ENV_TO_CLEAR:
        monkeypatch.delenv(var, raising=False)

    def under(base: Path):
        def user_dir(appname: str | None = None, *args: object, **kwargs: object) -> str:
            return str(base / appname) if appname else str(base)

        return user_dir

    monkeypatch.setattr(platformdirs, "user_config_dir", under(dirs["XDG_CONFIG_HOME"]))
    monkeypatch.setattr(platformdirs, "user_data_dir", under(dirs["XDG_DATA_HOME"]))
    monkeypatch.setattr(platformdirs, "user_cache_dir", under(dirs["XDG_CACHE_HOME"]))
    monkeypatch.setattr(platformdirs, "user_state_dir", under(dirs["XDG_STATE_HOME"]))
    monkeypatch.setattr(platformdirs, "user_log_dir", under(dirs["XDG_STATE_HOME"] / "log"))
    # Subprocesses started by tests get no real keyring either.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setattr(keyring.core, "_keyring_backend", fail.Keyring())
    # Tokens shared in this process's memory stay with the test that got them (a later
    # fake may listen on the same port and know nothing of them).
    MemoryTokenCache.clear()
    yield home
    MemoryTokenCache.clear()


class MemoryKeyring(KeyringBackend):
    """A keyring that keeps passwords in a dict. Priority -1: never chosen by accident."""

    priority = -1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.passwords[(service, username)]
        except KeyError:
            raise PasswordDeleteError("Password not found") from None


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Install an in-memory keyring for this test (restored afterwards by the autouse fixture)."""
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend


@pytest.fixture
def fail_keyring() -> fail.Keyring:
    """keyring's own 'no backend available' keyring (what a headless box gets)."""
    backend = fail.Keyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """A config path for tests that want an explicit `--config` (the file does not exist yet)."""
    return tmp_path / "cfg" / "config.toml"


# --- loopback only (tests/netguard.py) ------------------------------------------------

_refused: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    import os
    import tempfile

    from tests import netguard

    netguard.install(_refused.append)
    # the zoomtui processes tests start get the guard too, and say what it refused in a file
    site = str(Path(__file__).parent / "netguard_site")
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (site, os.environ.get("PYTHONPATH", "")) if p
    )
    fd, log = tempfile.mkstemp(prefix="zoomtui-netguard-", suffix=".log")
    os.close(fd)
    os.environ[netguard.LOG_VARIABLE] = log


@pytest.fixture(autouse=True)
def _loopback_only() -> Iterator[None]:
    """A test that reached for a host beyond loopback fails, by name, with what it asked."""
    import os

    from tests import netguard

    log = Path(os.environ[netguard.LOG_VARIABLE])
    _refused.clear()
    start = log.stat().st_size
    yield
    with log.open(encoding="utf-8") as children:
        children.seek(start)
        refused = _refused + [f"(child) {line.strip()}" for line in children]
    if refused:
        pytest.fail(f"reached beyond loopback: {sorted(set(refused))}", pytrace=False)
