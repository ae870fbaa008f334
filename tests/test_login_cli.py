"""`zoomtui login`, `logout` and `profiles` driven through click against the fake Zoom."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from click.testing import CliRunner, Result
from keyrings_alt_fake import PlaintextKeyring

from tests.conftest import MemoryKeyring
from tests.waits import HANG_GUARD
from zoomtui import config as cfg
from zoomtui import credentials as cred
from zoomtui.cli import main
from zoomtui.fakezoom import DEMO_CREDENTIALS, FakeZoom

C = DEMO_CREDENTIALS
USER = "work:client_secret"
PROMPTS = f"{C.account_id}\n{C.client_id}\n{C.subscription_id}\n{C.client_secret}\n"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def fake() -> Iterator[FakeZoom]:
    """The fake Zoom on its own event loop in a thread: the CLI runs `asyncio.run` itself."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-zoom", daemon=True)
    thread.start()
    fz = FakeZoom()
    asyncio.run_coroutine_threadsafe(fz.start(), loop).result(10)
    try:
        yield fz
    finally:
        asyncio.run_coroutine_threadsafe(fz.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


@pytest.fixture(autouse=True)
def _no_session_secrets() -> Iterator[None]:
    cred.forget_session_secret()
    yield
    cred.forget_session_secret()


def run(args: list[str], input: str | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, args, input=input, env=env, catch_exceptions=False)


def urls(fake: FakeZoom) -> list[str]:
    return ["--oauth-url", fake.oauth_url, "--ws-url", fake.ws_url]


def assert_no_secret_anywhere(result: Result, secret: str = C.client_secret) -> None:
    assert secret not in result.output
    path = cfg.default_config_path()
    if path.exists():
        assert secret.encode() not in path.read_bytes()


# --- login ------------------------------------------------------------------------


def test_login_prompts_verifies_and_saves(memory_keyring: MemoryKeyring, fake: FakeZoom) -> None:
    result = run(["login", "--profile", "work", *urls(fake)], input=PROMPTS)
    assert result.exit_code == 0, result.output
    assert "Account id:" in result.output and "Client secret (hidden):" in result.output
    assert "Zoom accepted the credentials" in result.output
    assert f"Saved profile 'work' in {cfg.default_config_path()}" in result.output
    assert memory_keyring.passwords == {("zoomtui", USER): C.client_secret}
    assert cfg.get_profile("work")["subscription_id"] == C.subscription_id
    assert len(fake.token_requests) == 1
    assert_no_secret_anywhere(result)


def test_login_with_bad_credentials_saves_nothing(
    memory_keyring: MemoryKeyring, fake: FakeZoom
) -> None:
    fake.reject_credentials = True
    result = run(["login", "--profile", "work", *urls(fake)], input=PROMPTS)
    assert result.exit_code == 4
    assert "Zoom rejected the credentials" in result.stderr
    assert "Check the account id" in result.stderr and "Nothing was saved" in result.stderr
    assert memory_keyring.passwords == {}
    assert not cfg.default_config_path().exists()
    assert_no_secret_anywhere(result)


def test_login_unreachable_suggests_no_verify(
    memory_keyring: MemoryKeyring, fake: FakeZoom
) -> None:
    fake.oauth_fault("500", times=1)
    result = run(["login", "--profile", "work", *urls(fake)], input=PROMPTS)
    assert result.exit_code == 1
    assert "HTTP 500" in result.stderr and "--no-verify" in result.stderr
    assert not cfg.default_config_path().exists()


def test_login_scripted_from_env_asks_nothing(
    memory_keyring: MemoryKeyring, fake: FakeZoom
) -> None:
    env = {
        "ZOOM_ACCOUNT_ID": C.account_id,
        "ZOOM_CLIENT_ID": C.client_id,
        "ZOOM_CLIENT_SECRET": C.client_secret,
        "ZOOM_SUBSCRIPTION_ID": C.subscription_id,
        "ZOOMTUI_OAUTH_URL": fake.oauth_url,
        "ZOOMTUI_WS_URL": fake.ws_url,
        "ZOOMTUI_PROFILE": "work",
    }
    result = run(["login"], env=env)
    assert result.exit_code == 0, result.output
    assert "Client secret: from ZOOM_CLIENT_SECRET" in result.output
    assert "Enter the credentials" not in result.output
    assert memory_keyring.passwords == {("zoomtui", USER): C.client_secret}
    assert cfg.get_profile("work")["oauth_url"] == fake.oauth_url
    assert_no_secret_anywhere(result)


def test_login_no_verify_asks_zoom_nothing(memory_keyring: MemoryKeyring, fake: FakeZoom) -> None:
    args = [
        "login",
        "--profile",
        "work",
        "--no-verify",
        "--account-id",
        "a",
        "--client-id",
        "c",
        "--subscription-id",
        "s",
    ]
    result = run(args, input="anything-secret-123\n")
    assert result.exit_code == 0, result.output
    assert "Saved without checking" in result.output
    assert fake.token_requests == []
    assert memory_keyring.passwords == {("zoomtui", USER): "anything-secret-123"}


def test_login_again_keeps_ids_as_defaults(memory_keyring: MemoryKeyring, fake: FakeZoom) -> None:
    assert run(["login", "--profile", "work", *urls(fake)], input=PROMPTS).exit_code == 0
    # rotate the secret: enter keeps the ids and the URLs the profile already has
    memory_keyring.passwords.clear()
    result = run(["login", "--profile", "work"], input=f"\n\n\n{C.client_secret}\n")
    assert result.exit_code == 0, result.output
    assert f"[{C.account_id}]" in result.output
    assert memory_keyring.passwords == {("zoomtui", USER): C.client_secret}
    assert cfg.get_profile("work")["ws_url"] == fake.ws_url
    assert len(fake.token_requests) == 2


def test_login_without_keyring_says_so_and_writes_nothing(fail_keyring, fake: FakeZoom) -> None:
    result = run(["login", "--profile", "work", *urls(fake)], input=PROMPTS)
    assert result.exit_code == 3
    assert "No usable keyring on this machine (keyring.backends.fail.Keyring)" in result.stderr
    assert "read -rs ZOOM_CLIENT_SECRET" in result.stderr
    assert "memory for that session only" in result.stderr
    assert "Nothing was saved." in result.stderr
    assert "Account id" not in result.output  # said before anyone typed anything
    assert fake.token_requests == []
    assert not cfg.default_config_path().exists()
    assert not cfg.default_config_path().parent.exists()


def test_login_without_keyring_but_env_secret_saves_ids_only(fail_keyring, fake: FakeZoom) -> None:
    result = run(
        ["login", "--profile", "work", *urls(fake)],
        input=f"{C.account_id}\n{C.client_id}\n{C.subscription_id}\n",
        env={"ZOOM_CLIENT_SECRET": C.client_secret},
    )
    assert result.exit_code == 0, result.output
    assert "only the ids will be saved" in result.stderr
    assert "keep ZOOM_CLIENT_SECRET set" in result.stdout
    assert cfg.get_profile("work")["client_id"] == C.client_id
    assert_no_secret_anywhere(result)


def test_login_insecure_keyring_asks_first(tmp_path: Path, fake: FakeZoom) -> None:
    store = tmp_path / "plain.json"
    keyring.set_keyring(PlaintextKeyring(store))
    declined = run(["login", "--profile", "work", *urls(fake)], input="n\n")
    assert declined.exit_code == 3
    assert "plain file" in declined.stderr and "Nothing was saved" in declined.stderr
    assert not store.exists() and not cfg.default_config_path().exists()

    accepted = run(["login", "--profile", "work", *urls(fake)], input="y\n" + PROMPTS)
    assert accepted.exit_code == 0, accepted.output
    assert "a plain-file keyring you accepted" in accepted.output
    assert cfg.get_profile("work")["insecure_keyring"] is True
    assert_no_secret_anywhere(accepted)

    shown = run(["profiles", "show", "work"])
    assert shown.exit_code == 0
    assert "keyring, INSECURE plain-file backend" in shown.output
    assert "Keyring: INSECURE" in shown.output and "accepted for work" in shown.output
    assert C.client_secret not in shown.output


def test_a_file_keyring_holds_the_secret_in_clear_text_from_consent_to_logout(
    tmp_path: Path, fake: FakeZoom
) -> None:
    """What the README says of a plain-file keyring, step by step: after consent the secret
    is in that file in clear text (the config file holds the consent, never the secret),
    later commands read it from there without asking, and logout removes it from there."""
    store = tmp_path / "plain.json"
    keyring.set_keyring(PlaintextKeyring(store))
    login = run(["login", "--profile", "work", *urls(fake)], input="y\n" + PROMPTS)
    assert login.exit_code == 0, login.output
    assert C.client_secret in store.read_text()
    assert "insecure_keyring = true" in cfg.default_config_path().read_text()
    assert_no_secret_anywhere(login)

    doctor = run(["doctor", "--profile", "work", "--no-connect"], input="")
    assert doctor.exit_code == 0, doctor.output
    assert "client secret: set (hidden) (from keyring, INSECURE plain-file backend)" in (
        doctor.output
    )
    # doctor says what it reads from there, as status and `profiles show` do (it said the
    # keyring was used "only if you confirm", of a profile that had confirmed)
    assert "! keyring: INSECURE: the only keyring" in doctor.output
    assert "profile work accepted it (insecure_keyring = true)" in doctor.output
    assert "only if you confirm" not in doctor.output
    assert C.client_secret not in doctor.output

    logout = run(["logout", "--profile", "work"])
    assert logout.exit_code == 0, logout.output
    assert "Removed the client secret of 'work'" in logout.output
    assert C.client_secret not in store.read_text()


def test_login_insecure_keyring_flag_for_scripts(tmp_path: Path, fake: FakeZoom) -> None:
    keyring.set_keyring(PlaintextKeyring(tmp_path / "plain.json"))
    result = run(["login", "--profile", "work", "--insecure-keyring", *urls(fake)], input=PROMPTS)
    assert result.exit_code == 0, result.output
    assert "Store the client secret" not in result.output


def test_login_with_malformed_config(memory_keyring: MemoryKeyring, config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text('[profiles.work]\naccount_id = "x\n')
    result = run(["login", "--config", str(config_file)], input=PROMPTS)
    assert result.exit_code == 3
    assert f"{config_file}, line 2" in result.stderr


# --- logout -----------------------------------------------------------------------


def test_logout_and_forget(memory_keyring: MemoryKeyring, fake: FakeZoom) -> None:
    assert run(["login", "--profile", "work", *urls(fake)], input=PROMPTS).exit_code == 0
    out = run(["logout", "--profile", "work"])
    assert out.exit_code == 0
    assert "Removed the client secret of 'work'" in out.output
    assert memory_keyring.passwords == {}
    assert cfg.get_profile("work") is not None  # the ids stay without --forget
    again = run(["logout", "--profile", "work", "--forget"])
    assert "No client secret of 'work' was stored" in again.output
    assert "Removed profile 'work'" in again.output
    assert cfg.get_profile("work") is None


def test_logout_without_keyring(fail_keyring) -> None:
    cfg.save_profile("default", {"account_id": "a"})
    result = run(["logout", "--forget"], env={"ZOOM_CLIENT_SECRET": "still-exported-secret"})
    assert result.exit_code == 0
    assert "No keyring on this machine" in result.output
    assert "ZOOM_CLIENT_SECRET is still set" in result.output
    assert cfg.load_config().profiles == {}


# --- profiles ---------------------------------------------------------------------


def test_profiles_list_marks_selected_and_secret_state(memory_keyring: MemoryKeyring) -> None:
    empty = run(["profiles"])
    assert empty.exit_code == 0 and "No profiles" in empty.output
    cfg.save_profile("default", {"account_id": "acc-default-1", "subscription_id": "sub-default-1"})
    cfg.save_profile("work", {"account_id": "acc-work-0001", "subscription_id": "sub-work-0001"})
    memory_keyring.set_password("zoomtui", USER, "a-stored-secret")
    result = run(["profiles"], env={"ZOOMTUI_PROFILE": "work"})
    assert result.exit_code == 0
    lines = {
        line.split()[1] if line.startswith("*") else line.split()[0]: line
        for line in result.output.splitlines()[1:3]
    }
    assert lines["work"].startswith("*") and lines["work"].rstrip().endswith("keyring")
    assert not lines["default"].startswith("*") and lines["default"].rstrip().endswith("missing")
    assert "Keyring: usable" in result.output
    assert run(["profiles", "list", "--profile", "default"]).output.splitlines()[1].startswith("*")
    with_env = run(["profiles"], env={"ZOOM_CLIENT_ID": "x"})
    assert "Set in the environment (these override any profile): ZOOM_CLIENT_ID" in with_env.output


def test_profiles_show_values_and_sources(memory_keyring: MemoryKeyring) -> None:
    cfg.save_profile(
        "work",
        {"account_id": "acc", "client_id": "cid", "subscription_id": "sub", "log_limit": 5000},
    )
    memory_keyring.set_password("zoomtui", USER, "shown-nowhere-secret")
    result = run(["profiles", "show", "work"], env={"ZOOM_CLIENT_ID": "cid-env"})
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line for line in result.output.splitlines() if line.startswith("  ")}
    assert rows["account_id"].split()[1:] == ["acc", "profile", "work"]
    assert rows["client_id"].split()[1:] == ["cid-env", "env", "ZOOM_CLIENT_ID"]
    assert rows["client_secret"].split()[1:] == ["set", "(hidden)", "keyring"]
    assert rows["oauth_url"].split()[1:] == ["https://zoom.us/oauth/token", "default"]
    assert rows["log_limit"].split()[1:] == ["5000", "profile", "work"]
    assert "shown-nowhere-secret" not in result.output
    assert "Keyring: usable" in result.output


def test_profiles_show_unknown_profile(memory_keyring: MemoryKeyring) -> None:
    cfg.save_profile("work", {"account_id": "acc"})
    result = run(["profiles", "show", "nope"])
    assert result.exit_code == 3
    assert "There is no profile 'nope'" in result.stderr and "work" in result.stderr


def test_profiles_with_malformed_config(config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text("[profiles\n")
    result = run(["profiles", "--config", str(config_file)])
    assert result.exit_code == 3 and f"{config_file}, line 1" in result.stderr


# --- what a user on a headless box sees --------------------------------------------


def test_headless_login_output(tmp_path: Path) -> None:
    """A real process with keyring's fail backend (what a box with no keyring gets)."""
    env = {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "PYTHONPATH": str(REPO),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "zoomtui.cli", "login"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
    )
    assert proc.returncode == 3
    assert proc.stdout == ""
    assert proc.stderr.startswith(
        "No usable keyring on this machine (keyring.backends.fail.Keyring), so zoomtui cannot "
        "store the client secret (and it never writes it to a file).\nYou can instead:\n"
    )
    assert proc.stderr.endswith("Nothing was saved.\n")
    assert not (tmp_path / "config").exists()


# --- end to end: login once, then tail and doctor use only the stored profile ---------


@pytest.fixture
def demo_fake() -> Iterator[FakeZoom]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-zoom-demo", daemon=True)
    thread.start()
    fz = FakeZoom(scenario="demo", rate=50.0)
    asyncio.run_coroutine_threadsafe(fz.start(), loop).result(10)
    try:
        yield fz
    finally:
        asyncio.run_coroutine_threadsafe(fz.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def test_login_then_tail_and_doctor_use_the_stored_profile(
    memory_keyring: MemoryKeyring, demo_fake: FakeZoom
) -> None:
    login = run(["login", "--profile", "work", *urls(demo_fake)], input=PROMPTS)
    assert login.exit_code == 0, login.output
    assert not any(var.startswith(("ZOOM_", "ZOOMTUI_")) for var in os.environ)

    tail = run(["tail", "--profile", "work", "--count", "3"])
    assert tail.exit_code == 0, tail.output
    assert len(tail.stdout.splitlines()) == 3
    assert C.client_secret not in tail.output

    doctor = run(["doctor", "--profile", "work"])
    assert doctor.exit_code == 0, doctor.output
    assert "from keyring" in doctor.output and "from profile work" in doctor.output
    assert C.client_secret not in doctor.output


# --- words that must agree and not mislead (issue 15, section 5) --------------------


def test_profiles_show_and_doctor_agree_on_a_secret_from_the_environment(fail_keyring) -> None:
    cfg.save_profile("work", {"account_id": "acc", "client_id": "cid", "subscription_id": "sub"})
    env = {"ZOOM_CLIENT_SECRET": "an-env-secret-0042"}
    shown = run(["profiles", "show", "work"], env=env)
    assert shown.exit_code == 0, shown.output
    rows = {line.split()[0]: line for line in shown.output.splitlines() if line.startswith("  ")}
    assert rows["client_secret"].split()[1:] == ["set", "(hidden)", "env", "ZOOM_CLIENT_SECRET"]
    doctor = run(
        ["doctor", "--profile", "work", "--no-connect", "--oauth-url", "http://127.0.0.1:9/t"],
        env=env,
    )
    assert "client secret: set (hidden) (from env ZOOM_CLIENT_SECRET)" in doctor.output
    assert "an-env-secret-0042" not in shown.output + doctor.output


def test_profiles_list_tells_apart_ids_that_share_their_ends(memory_keyring: MemoryKeyring) -> None:
    cfg.save_profile("a", {"account_id": "demo-account-0001", "subscription_id": "demoSub-one-01"})
    cfg.save_profile("b", {"account_id": "demo-acc-prod-0001", "subscription_id": "demoSub-two-01"})
    result = run(["profiles"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[1:] for line in result.output.splitlines()[1:3]}
    assert rows["a"][0] == rows["b"][0] == "dem…01"  # the same ends ...
    assert rows["a"] != rows["b"]  # ... but the rows differ
    assert rows["a"][1].startswith("#") and rows["a"][1] != rows["b"][1]
    for hidden in ("demo-account-0001", "demo-acc-prod-0001", "prod"):
        assert hidden not in result.output


def test_logout_of_an_unknown_profile_says_so_and_fails(memory_keyring: MemoryKeyring) -> None:
    cfg.save_profile("work", {"account_id": "acc"})
    result = run(["logout", "--profile", "nosuch"])
    assert result.exit_code == 3
    assert "There is no profile 'nosuch'" in result.stderr and "work" in result.stderr
    assert "Nothing was removed" in result.stderr
    assert cfg.get_profile("work") is not None
    forget = run(["logout", "--profile", "nosuch", "--forget"])
    assert forget.exit_code == 3 and "There is no profile 'nosuch'" in forget.stderr


def test_logout_of_an_unknown_profile_without_keyring_says_so(fail_keyring) -> None:
    result = run(["logout", "--profile", "nosuch"])
    assert result.exit_code == 3
    assert "There is no profile 'nosuch'" in result.stderr and "holds no profiles" in result.stderr


def test_login_says_when_it_saves_urls_from_the_shell(
    memory_keyring: MemoryKeyring, fake: FakeZoom
) -> None:
    env = {"ZOOMTUI_OAUTH_URL": fake.oauth_url, "ZOOMTUI_WS_URL": fake.ws_url}
    result = run(["login", "--profile", "work"], input=PROMPTS, env=env)
    assert result.exit_code == 0, result.output
    assert (
        f"Token URL: from ZOOMTUI_OAUTH_URL ({fake.oauth_url}); it will be saved in profile 'work'"
        in result.output
    )
    assert f"WebSocket URL: from ZOOMTUI_WS_URL ({fake.ws_url})" in result.output
    assert cfg.get_profile("work")["ws_url"] == fake.ws_url
    # given as options, the URLs are what the user typed: nothing to point out
    again = run(["login", "--profile", "work", *urls(fake)], input=PROMPTS)
    assert again.exit_code == 0 and "from ZOOMTUI_" not in again.output


def test_login_says_when_it_saves_a_grant_or_a_cloud_from_the_shell(
    memory_keyring: MemoryKeyring, fake: FakeZoom
) -> None:
    """As with the URLs: a ZOOMTUI_GRANT or ZOOMTUI_CLOUD left in the shell is saved in the
    profile, so login says so (it saved them without a word)."""
    env = {"ZOOMTUI_GRANT": "client_credentials", "ZOOMTUI_CLOUD": "gov"}
    typed = f"{C.client_id}\n{C.subscription_id}\n{C.client_secret}\n"  # no account id asked
    result = run(["login", "--profile", "work", *urls(fake)], input=typed, env=env)
    assert result.exit_code == 0, result.output
    assert (
        "Grant: from ZOOMTUI_GRANT (client_credentials); it will be saved in profile 'work' "
        "(to save another, unset ZOOMTUI_GRANT or pass --grant)." in result.output
    )
    assert "Cloud: from ZOOMTUI_CLOUD (gov); it will be saved in profile 'work'" in result.output
    saved = cfg.get_profile("work")
    assert (saved["grant"], saved["cloud"]) == ("client_credentials", "gov")
    # given as options, they are what the user typed: nothing to point out
    again = run(
        ["login", "--profile", "work", "--grant", "client_credentials", "--cloud", "gov"]
        + urls(fake),
        input=typed,
        env=env,
    )
    assert again.exit_code == 0, again.output
    assert "from ZOOMTUI_" not in again.output


def test_a_wrong_secret_asks_again_for_what_zoom_rejected_only(
    memory_keyring: MemoryKeyring, fake: FakeZoom
) -> None:
    typed = f"{C.account_id}\n{C.client_id}\n{C.subscription_id}\nwrong-secret-0042\n"
    again = f"\n{C.client_secret}\n"  # enter keeps the client id shown; the secret again
    result = run(["login", "--profile", "work", *urls(fake)], input=typed + again)
    assert result.exit_code == 0, result.output
    assert "Zoom rejected the credentials" in result.stderr
    assert (
        "Enter the client id and the client secret again (the account id and the "
        "subscription are kept)" in result.stderr
    )
    # each of the kept values was asked once; the rejected ones twice
    assert result.output.count("Account id:") == 1
    assert result.output.count("Subscription id") == 1
    assert result.output.count(f"Client id [{C.client_id}]:") == 1
    assert result.output.count("Client secret (hidden):") == 2
    assert memory_keyring.passwords == {("zoomtui", USER): C.client_secret}
    assert [r.status for r in fake.token_requests] == [400, 200]
    assert_no_secret_anywhere(result, "wrong-secret-0042")


def test_a_wrong_account_id_asks_for_it_alone_and_keeps_the_secret(
    memory_keyring: MemoryKeyring, fake: FakeZoom
) -> None:
    typed = f"wrong-account\n{C.client_id}\n{C.subscription_id}\n{C.client_secret}\n"
    result = run(["login", "--profile", "work", *urls(fake)], input=typed + f"{C.account_id}\n")
    assert result.exit_code == 0, result.output
    assert "Enter the account id again" in result.stderr
    assert result.output.count("Client secret (hidden):") == 1
    assert cfg.get_profile("work")["account_id"] == C.account_id


def test_a_rejected_value_from_the_environment_is_not_asked_for(
    memory_keyring: MemoryKeyring, fake: FakeZoom
) -> None:
    typed = f"{C.account_id}\n{C.client_id}\n{C.subscription_id}\n"
    env = {"ZOOM_CLIENT_SECRET": "wrong-secret-0042"}
    result = run(["login", "--profile", "work", *urls(fake)], input=typed, env=env)
    assert result.exit_code == 4
    assert "again" not in result.stderr  # fix it where it came from
    assert len(fake.token_requests) == 1
