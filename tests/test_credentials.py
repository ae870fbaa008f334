"""Resolution order and sources, keyring states detected by asking, timeouts, verify_and_save."""

from __future__ import annotations

import base64
import logging
import threading
from pathlib import Path

import keyring
import keyring.core
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer, null
from keyring.errors import KeyringLocked
from keyrings_alt_fake import PlaintextKeyring

from tests.conftest import MemoryKeyring
from zoomtui import config as cfg
from zoomtui import credentials as cred
from zoomtui.fakezoom import DEMO_CREDENTIALS, FakeZoom
from zoomtui.redaction import Secret
from zoomtui.settings import SettingsError

SECRET = "s3cret-value-for-tests-0001"
USER = "work:client_secret"


@pytest.fixture(autouse=True)
def _no_session_secrets():
    cred.forget_session_secret()
    yield
    cred.forget_session_secret()


def _profile(path: Path | None = None, name: str = "work", **extra: object) -> None:
    values = {
        "account_id": "acc-profile",
        "client_id": "cid-profile",
        "subscription_id": "sub-profile",
    }
    cfg.save_profile(name, {**values, **extra}, path)


# --- resolution order -------------------------------------------------------------


def test_profile_and_keyring_supply_everything(memory_keyring: MemoryKeyring) -> None:
    _profile(heartbeat_interval=2.5)
    memory_keyring.set_password("zoomtui", USER, SECRET)
    s = cred.resolve_settings(profile="work", env={})
    assert (s.account_id, s.client_id, s.subscription_id) == (
        "acc-profile",
        "cid-profile",
        "sub-profile",
    )
    assert s.client_secret == Secret(SECRET)
    assert s.heartbeat_interval == 2.5
    assert s.profile == "work"
    assert s.sources == {
        "account_id": "profile work",
        "client_id": "profile work",
        "client_secret": "keyring",
        "subscription_id": "profile work",
        "oauth_url": "default",
        "ws_url": "default",
        "api_url": "default",
        "grant": "default",
        "cloud": "default",
        "heartbeat_interval": "profile work",
        "max_frame_bytes": "default",
        "insecure_transport": "default",
        "on_displaced": "default",
        "hydrate": "default",
    }


def test_option_beats_env_beats_keyring_and_profile(memory_keyring: MemoryKeyring) -> None:
    _profile(oauth_url="https://profile.example/oauth/token")
    memory_keyring.set_password("zoomtui", USER, SECRET)
    env = {
        "ZOOMTUI_PROFILE": "work",
        "ZOOM_ACCOUNT_ID": "acc-env",
        "ZOOM_CLIENT_ID": "cid-env",
        "ZOOM_CLIENT_SECRET": "env-secret-value",
        "ZOOMTUI_WS_URL": "wss://env.example/ws",
    }
    s = cred.resolve_settings(
        env=env, overrides={"account_id": "acc-opt", "client_id": None, "heartbeat_interval": 0.05}
    )
    assert s.account_id == "acc-opt" and s.sources["account_id"] == "option"
    assert s.client_id == "cid-env" and s.sources["client_id"] == "env ZOOM_CLIENT_ID"
    assert s.client_secret == Secret("env-secret-value")
    assert s.sources["client_secret"] == "env ZOOM_CLIENT_SECRET"
    assert s.subscription_id == "sub-profile" and s.sources["subscription_id"] == "profile work"
    assert s.oauth_url == "https://profile.example/oauth/token"
    assert s.ws_url == "wss://env.example/ws" and s.sources["ws_url"] == "env ZOOMTUI_WS_URL"
    assert s.heartbeat_interval == 0.05 and s.sources["heartbeat_interval"] == "option"


def test_config_path_from_env_and_argument(memory_keyring: MemoryKeyring, tmp_path: Path) -> None:
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    cfg.save_profile(
        "default", {"account_id": "from-a", "client_id": "c", "subscription_id": "s"}, a
    )
    cfg.save_profile(
        "default", {"account_id": "from-b", "client_id": "c", "subscription_id": "s"}, b
    )
    memory_keyring.set_password("zoomtui", "default:client_secret", SECRET)
    assert cred.resolve_settings(env={"ZOOMTUI_CONFIG": str(a)}).account_id == "from-a"
    assert (
        cred.resolve_settings(config_path=b, env={"ZOOMTUI_CONFIG": str(a)}).account_id == "from-b"
    )


def test_env_only_needs_no_profile_or_keyring(fail_keyring) -> None:
    env = {
        "ZOOM_ACCOUNT_ID": "a",
        "ZOOM_CLIENT_ID": "c",
        "ZOOM_CLIENT_SECRET": SECRET,
        "ZOOM_SUBSCRIPTION_ID": "s",
    }
    s = cred.resolve_settings(profile="ci", env=env)
    assert s.sources["client_secret"] == "env ZOOM_CLIENT_SECRET"
    assert s.profile == "ci"


def test_session_secret_is_used_before_the_keyring(memory_keyring: MemoryKeyring) -> None:
    _profile()
    memory_keyring.set_password("zoomtui", USER, "keyring-value-xyz")
    cred.save_session_secret("work", Secret("session-value-xyz"))
    s = cred.resolve_settings(profile="work", env={})
    assert s.client_secret == Secret("session-value-xyz")
    assert s.sources["client_secret"] == "session"
    cred.forget_session_secret("work")
    assert cred.resolve_settings(profile="work", env={}).sources["client_secret"] == "keyring"


def test_missing_values_say_what_and_how(memory_keyring: MemoryKeyring) -> None:
    _profile(name="other")
    with pytest.raises(SettingsError) as err:
        cred.resolve_settings(profile="work", env={})
    message = str(err.value)
    assert err.value.missing == ("account_id", "client_id", "client_secret", "subscription_id")
    assert "no profile 'work'" in message and "other" in message
    assert "zoomtui login --profile work" in message
    assert "ZOOM_CLIENT_SECRET" in message


def test_missing_secret_with_no_keyring_says_so(fail_keyring) -> None:
    _profile()
    with pytest.raises(SettingsError) as err:
        cred.resolve_settings(profile="work", env={})
    assert err.value.missing == ("client_secret",)
    assert "No usable keyring" in str(err.value)
    assert "ZOOM_CLIENT_SECRET" in str(err.value)


def test_malformed_config_is_a_settings_error(config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text("[profiles.work\n")
    with pytest.raises(SettingsError, match="line 1"):
        cred.resolve_settings(config_path=config_file, env={})


# --- keyring states, detected ------------------------------------------------------


class LockedKeyring(KeyringBackend):
    priority = -1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")


class HangingKeyring(KeyringBackend):
    """Blocks like a keyring waiting for an unlock prompt nobody will answer."""

    priority = -1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait(30)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.release.wait(30)

    def delete_password(self, service: str, username: str) -> None:
        self.release.wait(30)


class ForgetfulKeyring(KeyringBackend):
    """Accepts every write and keeps nothing."""

    priority = -1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        pass

    def delete_password(self, service: str, username: str) -> None:
        pass


class LeakyKeyring(KeyringBackend):
    """Fails with the password in its error text (a real backend could)."""

    priority = -1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError(f"D-Bus said no to storing {password!r}")

    def delete_password(self, service: str, username: str) -> None:
        pass


@pytest.fixture
def hanging_keyring():
    backend = HangingKeyring()
    keyring.set_keyring(backend)
    yield backend
    backend.release.set()


def test_status_usable(memory_keyring: MemoryKeyring) -> None:
    status = cred.keyring_status()
    assert status.state == "usable" and status.usable
    assert status.backend_name == "conftest.MemoryKeyring"


def test_status_none_for_fail_and_null_backends(fail_keyring) -> None:
    status = cred.keyring_status()
    assert status.state == "none"
    assert status.backend_name == "keyring.backends.fail.Keyring"
    assert "No usable keyring" in status.message
    keyring.set_keyring(null.Keyring())
    assert cred.keyring_status().state == "none"
    with pytest.raises(cred.KeyringUnavailable) as err:
        cred.get_secret("work")
    assert err.value.state == "none"


def test_status_insecure_for_plaintext_backend(tmp_path: Path) -> None:
    keyring.set_keyring(PlaintextKeyring(tmp_path / "kr.json"))
    status = cred.keyring_status()
    assert status.state == "insecure"
    assert "plain file" in status.message
    assert status.backend_name.endswith("PlaintextKeyring")


def test_status_insecure_inside_a_chain(tmp_path: Path) -> None:
    class Chain(chainer.ChainerBackend):
        backends = [MemoryKeyring(), PlaintextKeyring(tmp_path / "kr.json")]  # type: ignore[assignment]

    keyring.set_keyring(Chain())
    status = cred.keyring_status()
    assert status.state == "insecure"
    assert "PlaintextKeyring" in status.backend_name

    class EmptyChain(chainer.ChainerBackend):
        backends: list = []  # type: ignore[assignment]

    keyring.set_keyring(EmptyChain())
    assert cred.keyring_status().state == "none"


def test_status_error_for_broken_backend_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "no.such.module.Keyring")
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    status = cred.keyring_status()
    assert status.state == "error"
    assert "PYTHON_KEYRING_BACKEND=no.such.module.Keyring" in status.message
    assert "Fix or unset it" in status.message
    with pytest.raises(cred.KeyringUnavailable, match="PYTHON_KEYRING_BACKEND"):
        cred.get_secret("work")


def test_status_error_for_locked_keyring() -> None:
    keyring.set_keyring(LockedKeyring())
    status = cred.keyring_status()
    assert status.state == "error"
    assert "locked" in status.message
    with pytest.raises(cred.KeyringUnavailable, match="locked"):
        cred.set_secret("work", Secret(SECRET))


def test_hung_keyring_times_out(hanging_keyring: HangingKeyring) -> None:
    status = cred.keyring_status(timeout=0.2)
    assert status.state == "error"
    assert "did not answer within 0.2 s" in status.message
    with pytest.raises(cred.KeyringUnavailable, match="did not answer"):
        cred.get_secret("work", timeout=0.2)
    with pytest.raises(cred.KeyringUnavailable, match="did not answer"):
        cred.set_secret("work", Secret(SECRET), timeout=0.2)


def test_set_get_delete(memory_keyring: MemoryKeyring) -> None:
    assert cred.get_secret("work") is None
    cred.set_secret("work", Secret(SECRET))
    assert memory_keyring.passwords == {("zoomtui", USER): SECRET}
    assert cred.get_secret("work") == Secret(SECRET)
    assert cred.delete_secret("work") is True
    assert cred.delete_secret("work") is False
    assert memory_keyring.passwords == {}


def test_a_keyring_that_keeps_nothing_is_caught() -> None:
    keyring.set_keyring(ForgetfulKeyring())
    with pytest.raises(cred.KeyringUnavailable, match="does not give it back"):
        cred.set_secret("work", Secret(SECRET))


def test_keyring_error_text_never_holds_the_secret() -> None:
    keyring.set_keyring(LeakyKeyring())
    with pytest.raises(cred.KeyringUnavailable) as err:
        cred.set_secret("work", Secret(SECRET))
    assert SECRET not in str(err.value)
    assert "D-Bus said no" in str(err.value)


def test_insecure_backend_needs_confirmation(tmp_path: Path) -> None:
    backend = PlaintextKeyring(tmp_path / "kr.json")
    keyring.set_keyring(backend)
    with pytest.raises(cred.KeyringUnavailable) as err:
        cred.set_secret("work", Secret(SECRET))
    assert err.value.state == "insecure"
    assert not (tmp_path / "kr.json").exists()
    cred.set_secret("work", Secret(SECRET), allow_insecure=True)
    with pytest.raises(cred.KeyringUnavailable):
        cred.get_secret("work")
    assert cred.get_secret("work", allow_insecure=True) == Secret(SECRET)
    # resolution reads it only for a profile whose owner accepted it
    _profile()
    res = cred.resolve(profile="work", env={})
    assert "client_secret" in res.missing and res.keyring_state == "insecure"
    _profile(insecure_keyring=True)
    assert cred.resolve_settings(profile="work", env={}).sources["client_secret"] == "keyring"


# --- verify_and_save against the fake Zoom -------------------------------------------


def _log_everything(caplog: pytest.LogCaptureFixture) -> None:
    # install_log_redaction() (run by CLI tests) holds library loggers at WARNING: lift that here
    for name in (None, "httpx", "httpcore", "zoomtui", "websockets"):
        caplog.set_level(logging.DEBUG, logger=name)


def _assert_not_logged(caplog: pytest.LogCaptureFixture, client_id: str, secret: str) -> None:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    assert caplog.records, "expected some log records to check"
    for record in caplog.records:
        text = record.getMessage() + str(record.args) + (record.exc_text or "")
        assert secret not in text and basic not in text
    assert secret not in caplog.text and basic not in caplog.text


def _demo(fake: FakeZoom, **kw: object) -> dict:
    c = DEMO_CREDENTIALS
    args = dict(
        profile="work",
        account_id=c.account_id,
        client_id=c.client_id,
        client_secret=Secret(c.client_secret),
        subscription_id=c.subscription_id,
        oauth_url=fake.oauth_url,
        ws_url=fake.ws_url,
    )
    args.update(kw)
    return args


async def test_verify_and_save_good_credentials(memory_keyring: MemoryKeyring, caplog) -> None:
    _log_everything(caplog)
    async with FakeZoom() as fake:
        result = await cred.verify_and_save(**_demo(fake))
    assert result.ok and result.verified, result.message
    assert result.secret_store == "keyring"
    assert result.token_expires_in and result.token_expires_in > 3000
    assert memory_keyring.passwords == {("zoomtui", USER): DEMO_CREDENTIALS.client_secret}
    path = cfg.default_config_path()
    assert result.config_path == path
    assert DEMO_CREDENTIALS.client_secret.encode() not in path.read_bytes()
    assert cfg.get_profile("work") == {
        "account_id": DEMO_CREDENTIALS.account_id,
        "client_id": DEMO_CREDENTIALS.client_id,
        "subscription_id": DEMO_CREDENTIALS.subscription_id,
        "oauth_url": fake.oauth_url,
        "ws_url": fake.ws_url,
    }
    s = cred.resolve_settings(profile="work", env={})
    assert s.sources["client_secret"] == "keyring"
    assert DEMO_CREDENTIALS.client_secret not in result.message
    _assert_not_logged(caplog, DEMO_CREDENTIALS.client_id, DEMO_CREDENTIALS.client_secret)


async def test_verify_and_save_bad_credentials_saves_nothing(
    memory_keyring: MemoryKeyring, caplog
) -> None:
    _log_everything(caplog)
    wrong = "wrong-secret-but-long-enough"
    async with FakeZoom() as fake:
        result = await cred.verify_and_save(**_demo(fake, client_secret=Secret(wrong)))
    assert not result.ok
    assert result.problem == "credentials"
    assert "invalid_client" in result.message and "Nothing was saved" in result.message
    assert wrong not in result.message
    assert memory_keyring.passwords == {}
    assert not cfg.default_config_path().exists()
    _assert_not_logged(caplog, DEMO_CREDENTIALS.client_id, wrong)


async def test_verify_and_save_unreachable_and_rate_limited(memory_keyring: MemoryKeyring) -> None:
    async with FakeZoom() as fake:
        fake.oauth_fault("429", retry_after=7, times=1)
        limited = await cred.verify_and_save(**_demo(fake))
        fake.oauth_fault("500", times=1)
        broken = await cred.verify_and_save(**_demo(fake))
        oauth = fake.oauth_url
    assert limited.problem == "rate_limited" and limited.retry_after == 7
    assert broken.problem == "unreachable" and "HTTP 500" in broken.message
    gone = await cred.verify_and_save(**_demo(fake, oauth_url=oauth))  # the fake has stopped
    assert gone.problem == "unreachable" and "Could not reach" in gone.message
    assert memory_keyring.passwords == {}
    assert not cfg.default_config_path().exists()


async def test_verify_and_save_without_keyring(fail_keyring) -> None:
    async with FakeZoom() as fake:
        refused = await cred.verify_and_save(**_demo(fake), no_keyring="refuse")
        assert not refused.ok and refused.problem == "no_keyring"
        assert "No usable keyring" in refused.message
        assert not cfg.default_config_path().exists()
        assert fake.token_requests == []  # refused before asking Zoom anything

        session = await cred.verify_and_save(**_demo(fake))
    assert session.ok and session.secret_store == "session"
    assert "this session only" in session.message
    assert DEMO_CREDENTIALS.client_secret.encode() not in cfg.default_config_path().read_bytes()
    s = cred.resolve_settings(profile="work", env={})
    assert s.sources["client_secret"] == "session"
    assert s.client_secret == Secret(DEMO_CREDENTIALS.client_secret)


async def test_verify_and_save_with_hung_keyring_keeps_the_loop_free(hanging_keyring) -> None:
    result = await cred.verify_and_save(
        profile="work",
        account_id="a",
        client_id="c",
        client_secret=Secret(SECRET),
        subscription_id="s",
        verify=False,
        keyring_timeout=0.2,
        no_keyring="refuse",
    )
    assert not result.ok and result.problem == "no_keyring"
    assert "did not answer" in result.message


async def test_verify_and_save_insecure_keyring(tmp_path: Path) -> None:
    keyring.set_keyring(PlaintextKeyring(tmp_path / "kr.json"))
    async with FakeZoom() as fake:
        asked = await cred.verify_and_save(**_demo(fake))
        assert not asked.ok and asked.needs_confirmation and asked.problem == "insecure_keyring"
        assert not (tmp_path / "kr.json").exists() and not cfg.default_config_path().exists()
        accepted = await cred.verify_and_save(**_demo(fake), allow_insecure_keyring=True)
    assert accepted.ok and accepted.secret_store == "insecure keyring"
    assert cfg.get_profile("work")["insecure_keyring"] is True
    assert cred.resolve_settings(profile="work", env={}).sources["client_secret"] == "keyring"


async def test_verify_and_save_checks_input_first(memory_keyring: MemoryKeyring) -> None:
    blank = await cred.verify_and_save("work", " ", "c", Secret(""), "s", verify=False)
    assert (
        blank.problem == "invalid"
        and "account id" in blank.message
        and "client secret" in blank.message
    )
    cleartext = await cred.verify_and_save(
        "work",
        "a",
        "c",
        Secret(SECRET),
        "s",
        oauth_url="http://zoom.example/oauth/token",
        verify=False,
    )
    assert cleartext.problem == "transport"
    bad_name = await cred.verify_and_save("a b", "a", "c", Secret(SECRET), "s", verify=False)
    assert bad_name.problem == "config"
    assert memory_keyring.passwords == {}
    # a pasted secret's trailing newline is not part of it; ids are trimmed too
    ok = await cred.verify_and_save("work", " a ", "c", Secret(SECRET + "\n"), "s", verify=False)
    assert ok.ok and memory_keyring.passwords[("zoomtui", USER)] == SECRET
    assert cfg.get_profile("work")["account_id"] == "a"
