"""`zoomtui status` against the fake Zoom: every profile, where each value comes from, the
keyring's state, one token request each (never a WebSocket), never a secret or a token,
and doctor's exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from click.testing import CliRunner, Result
from keyrings_alt_fake import PlaintextKeyring

from tests.conftest import MemoryKeyring
from tests.connhelpers import ThreadedFake
from zoomtui import config as cfg
from zoomtui.cli import main
from zoomtui.fakezoom import DEMO_CREDENTIALS as C

pytestmark = pytest.mark.timeout(60)

WRONG = "a-wrong-secret-0042"


@pytest.fixture(scope="module")
def tf() -> Iterator[ThreadedFake]:
    with ThreadedFake(scenario="quiet", token_prefix="fzk.status-test.") as fake:
        yield fake


def profile_for(tf: ThreadedFake, **changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "account_id": C.account_id,
        "client_id": C.client_id,
        "subscription_id": C.subscription_id,
        "oauth_url": tf.fake.oauth_url,
        "ws_url": tf.fake.ws_url,
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def run(args: list[str], env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(main, ["status", *args], env=env, catch_exceptions=False)
    for secret in (C.client_secret, WRONG, "fzk.status-test."):
        assert secret not in result.output
    assert "Traceback" not in result.output
    return result


def blocks(output: str) -> dict[str, list[str]]:
    """The report per profile: its heading's first word -> its lines."""
    out: dict[str, list[str]] = {}
    for block in output.split("\n\n")[1:]:
        lines = block.splitlines()
        if lines and not lines[0].startswith(("Set in", "Keyring", "The selected")):
            out[lines[0].split()[0]] = lines
    return out


def test_every_profile_with_its_sources_and_a_token_check_each(
    tf: ThreadedFake, memory_keyring: MemoryKeyring
) -> None:
    cfg.save_profile("good", profile_for(tf))
    cfg.save_profile("rejected", profile_for(tf))
    memory_keyring.set_password("zoomtui", "good:client_secret", C.client_secret)
    memory_keyring.set_password("zoomtui", "rejected:client_secret", WRONG)
    before = len(tf.fake.token_requests)
    result = run([], env={"ZOOMTUI_PROFILE": "good"})
    assert result.exit_code == 4, result.output  # Zoom rejected one profile's credentials
    assert result.output.startswith(f"Config: {cfg.default_config_path()}\n")
    report = blocks(result.output)
    assert list(report) == ["good", "rejected"]
    good, rejected = report["good"], report["rejected"]
    assert good[0] == "good (selected)"
    assert good[1] == "  ✓ Zoom accepted the credentials (token valid for 60 min)"
    assert "  - client secret: set (hidden) (from keyring)" in good
    assert f"  - token URL: {tf.fake.oauth_url} (from profile good)" in good
    assert any(line.startswith("  - account id: dem…01 #") for line in good)
    assert rejected[1].startswith("  ✗ ") and "invalid_client" in rejected[1]
    assert rejected[2].startswith("    → Check the account id")
    assert "Keyring: usable" in result.output
    assert len(tf.fake.token_requests) == before + 2  # one token request per profile
    assert tf.fake.connections == []  # and no WebSocket


def test_options_and_environment_are_named_as_sources(
    tf: ThreadedFake, memory_keyring: MemoryKeyring
) -> None:
    cfg.save_profile("work", profile_for(tf, account_id="acc-from-profile"))
    env = {"ZOOM_CLIENT_SECRET": C.client_secret, "ZOOM_CLIENT_ID": C.client_id}
    result = run(["--profile", "work", "--account-id", C.account_id], env=env)
    assert result.exit_code == 0, result.output
    work = blocks(result.output)["work"]
    assert any(line.endswith("(from option)") and "account id" in line for line in work)
    assert "  - client secret: set (hidden) (from env ZOOM_CLIENT_SECRET)" in work
    assert any("client id" in line and "(from env ZOOM_CLIENT_ID)" in line for line in work)
    assert (
        "Set in the environment (these override any profile): ZOOM_CLIENT_ID, "
        "ZOOM_CLIENT_SECRET\n" in result.output
    )


def test_missing_values_are_a_settings_failure_without_a_token_request(
    tf: ThreadedFake, memory_keyring: MemoryKeyring
) -> None:
    cfg.save_profile("half", profile_for(tf, subscription_id=None))
    before = len(tf.fake.token_requests)
    result = run([])
    assert result.exit_code == 3
    half = blocks(result.output)["half"]
    assert half[1].startswith("  ✗ Missing client secret, subscription id for profile 'half'.")
    assert "  - subscription id: missing" in half
    assert "The selected profile 'default' is not in the config file." in result.output
    assert len(tf.fake.token_requests) == before


def test_no_check_asks_zoom_nothing(tf: ThreadedFake, memory_keyring: MemoryKeyring) -> None:
    cfg.save_profile("work", profile_for(tf))
    memory_keyring.set_password("zoomtui", "work:client_secret", WRONG)
    before = len(tf.fake.token_requests)
    result = run(["--no-check"])
    assert result.exit_code == 0, result.output
    assert "  - not checked (--no-check)" in blocks(result.output)["work"]
    assert len(tf.fake.token_requests) == before


def test_an_unreachable_token_endpoint_is_a_failed_check(memory_keyring: MemoryKeyring) -> None:
    cfg.save_profile(
        "work",
        {
            "account_id": "acc",
            "client_id": "cid",
            "subscription_id": "sub",
            "oauth_url": "http://127.0.0.1:9/oauth/token",
        },
    )
    memory_keyring.set_password("zoomtui", "work:client_secret", WRONG)
    result = run(["--timeout", "5"])
    assert result.exit_code == 1, result.output
    assert "✗ http://127.0.0.1:9/oauth/token:" in result.output
    assert "Check the network" in result.output


def test_env_only_setup_shows_the_selected_profile(tf: ThreadedFake, fail_keyring) -> None:
    result = run([], env=tf.env())
    assert result.exit_code == 0, result.output
    report = blocks(result.output)
    assert report["default"][0] == "default (selected; not in the config file)"
    assert "Keyring: none" in result.output


def test_nothing_set_up_says_what_to_do(fail_keyring) -> None:
    result = run([])
    assert result.exit_code == 3
    assert "No profiles" in result.output and "zoomtui login" in result.output


def test_a_broken_config_file_is_exit_3(config_file: Path) -> None:
    config_file.parent.mkdir(parents=True)
    config_file.write_text("[profiles\n")
    result = run(["--config", str(config_file)])
    assert result.exit_code == 3 and f"{config_file}, line 1" in result.stderr


def test_an_insecure_keyring_is_flagged(tf: ThreadedFake, tmp_path: Path) -> None:
    keyring.set_keyring(PlaintextKeyring(tmp_path / "plain.json"))
    cfg.save_profile("work", {**profile_for(tf), "insecure_keyring": True})
    keyring.get_keyring().set_password("zoomtui", "work:client_secret", C.client_secret)
    result = run([])
    assert result.exit_code == 0, result.output
    work = blocks(result.output)["work"]
    assert "  - client secret: set (hidden) (from keyring, INSECURE plain-file backend)" in work
    assert "Keyring: INSECURE" in result.output and "accepted for work" in result.output


@pytest.mark.parametrize(
    "url",
    ["http://[::1", "http://127.0.0.1:99999/t", "http://127.0.0.1:abc/t", "http:///t"],
)
def test_a_malformed_url_is_a_settings_failure_not_a_traceback(url: str, fail_keyring) -> None:
    env = {
        "ZOOM_ACCOUNT_ID": "acc",
        "ZOOM_CLIENT_ID": "cid",
        "ZOOM_CLIENT_SECRET": WRONG,
        "ZOOM_SUBSCRIPTION_ID": "sub",
        "ZOOMTUI_OAUTH_URL": url,
    }
    result = run([], env=env)
    assert result.exit_code == 3, result.output
    # the settings check names the value (ConnectionSettings refuses it before any request)
    assert f"✗ The OAuth URL {url!r}" in result.output
