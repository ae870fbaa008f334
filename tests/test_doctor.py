"""`zoomtui doctor` against the fake Zoom: passes on a good setup, and on a bad one says
which step failed and what to do, with a non-zero exit and never the secret."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tests.connhelpers import ThreadedFake
from zoomtui.commands.doctor import command
from zoomtui.fakezoom import DEMO_CREDENTIALS


@pytest.fixture(scope="module")
def tf():
    with ThreadedFake() as fake:
        yield fake


def run(env: dict[str, str], *args: str):
    result = CliRunner().invoke(command, list(args), env=env)
    assert DEMO_CREDENTIALS.client_secret not in result.output
    assert "Traceback" not in result.output
    return result


def test_passes_against_the_fake(tf: ThreadedFake) -> None:
    r = run(tf.env())
    assert r.exit_code == 0, r.output
    out = r.output
    for step in (
        "✓ settings",
        "✓ token request",
        "✓ clock",
        "✓ WebSocket handshake",
        "✓ build_connection",
        "✓ heartbeat: answered in",
    ):
        assert step in out
    assert "client secret: set (hidden) (from env ZOOM_CLIENT_SECRET)" in out
    assert "scopes: meeting:read:admin" in out
    assert "Zoom may close that one" in out and "--no-connect" in out
    assert out.rstrip().endswith("All checks passed.")


def test_without_a_keyring_the_token_is_not_said_to_be_shared(tf: ThreadedFake) -> None:
    # the tests' default keyring is keyring's "fail" backend: a headless box's
    r = run(tf.env(), "--no-connect")
    assert r.exit_code == 0, r.output
    assert "shared with this profile's other zoomtui processes" not in r.output
    assert "kept in this process's memory only (no usable keyring)" in r.output


def test_wrong_secret_fails_at_the_token_step_with_a_hint(tf: ThreadedFake) -> None:
    r = run(tf.env(ZOOM_CLIENT_SECRET="wrong-secret-0042"))
    assert r.exit_code == 4
    assert "✗ token request" in r.output and "invalid_client" in r.output
    assert "client secret" in r.output and "activated" in r.output
    assert "wrong-secret-0042" not in r.output
    assert "WebSocket handshake" not in r.output  # no point connecting


def test_wrong_subscription_fails_at_build_connection_with_a_hint(tf: ThreadedFake) -> None:
    r = run(tf.env(ZOOM_SUBSCRIPTION_ID="noSuchSubscription"))
    assert r.exit_code == 4
    assert "✓ WebSocket handshake" in r.output
    assert "✗ build_connection" in r.output and "Invalid subscriptionId" in r.output
    assert "Event Subscriptions" in r.output
    assert "1 check(s) failed: build_connection." in r.output


def test_missing_settings_say_what_to_set() -> None:
    r = run({"ZOOM_ACCOUNT_ID": "acc"})
    assert r.exit_code == 3
    assert "✗ settings" in r.output and "client id: missing" in r.output
    assert "ZOOM_CLIENT_ID" in r.output


def test_unreachable_websocket_and_no_connect(tf: ThreadedFake) -> None:
    r = run(tf.env(ZOOMTUI_WS_URL="ws://127.0.0.1:9/ws"))
    assert r.exit_code == 1
    assert "✗ WebSocket handshake" in r.output and "could not connect" in r.output
    r = run(tf.env(ZOOMTUI_WS_URL="ws://127.0.0.1:9/ws"), "--no-connect")
    assert r.exit_code == 0 and "skipped (--no-connect)" in r.output


def test_cleartext_to_a_remote_host_is_refused() -> None:
    r = run(
        {
            "ZOOM_ACCOUNT_ID": "a",
            "ZOOM_CLIENT_ID": "b",
            "ZOOM_CLIENT_SECRET": "c" * 12,
            "ZOOM_SUBSCRIPTION_ID": "d",
            "ZOOMTUI_OAUTH_URL": "http://example.com/oauth/token",
        }
    )
    assert r.exit_code == 3 and "✗ transport" in r.output


def test_timeout_bounds_the_token_step_too(tf: ThreadedFake) -> None:
    """A token endpoint sending a byte every 0.05 s never trips a per-read timeout; before,
    `doctor --timeout 3` was still waiting after 40 s."""
    from tests.reliability.hostile import HostileEndpoint, drip

    with HostileEndpoint(drip(interval=0.05, total=45)) as endpoint:
        r = run(tf.env(ZOOMTUI_OAUTH_URL=endpoint.url), "--timeout", "1")
    assert r.exit_code == 1, r.output
    assert "✗ token request" in r.output and "timed out after 1 s" in r.output


def test_checks_the_dashboard_scope_with_one_call(tf: ThreadedFake) -> None:
    r = run(tf.env(), "--no-connect")
    assert "✓ Dashboard API (hydration): live meetings and rosters can be read" in r.output
    before = tf.call(lambda fake: len(fake.dashboard.calls))
    tf.call(lambda fake: setattr(fake.dashboard, "scope_granted", False))
    try:
        r = run(tf.env(), "--no-connect")
    finally:
        tf.call(lambda fake: setattr(fake.dashboard, "scope_granted", True))
    assert r.exit_code == 0, r.output  # a warning: the monitor works without it
    assert "! Dashboard API (hydration)" in r.output and "4711" in r.output
    assert "dashboard_meetings:read:admin" in r.output and "hydrate = false" in r.output
    calls = tf.call(lambda fake: fake.dashboard.calls[before:])
    assert [(c.path, c.page_size) for c in calls] == [("/v2/metrics/meetings", 1)]
