"""`zoomtui doctor` and `zoomtui tail --count 1`, run as their own processes beside a running
monitor of the same profile, take the monitor's access token: the fake Zoom issues no new
one (Zoom invalidates older tokens once "a max number" were issued, PROTOCOL.md section 1).

The processes share a keyring as they would on a desktop; here it is a test-only backend
kept in one file (tests/keyrings_shared_fake.py), which zoomtui treats as an OS keyring.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import keyring
import orjson
import pytest
from keyrings_shared_fake import ENV_FILE, SharedFileKeyring

from tests.connhelpers import ThreadedFake
from tests.tui.conftest import wait_until
from zoomtui import config as cfg
from zoomtui import credentials
from zoomtui.fakezoom import DEMO_CREDENTIALS as C
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.options import AppOptions
from zoomtui.zoom.updates import ConnectionState as S

pytestmark = pytest.mark.timeout(120)

REPO = Path(__file__).resolve().parents[1]
PROFILE = "work"


@pytest.fixture
def shared_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SharedFileKeyring:
    """One keyring for this process and the ones it starts."""
    path = tmp_path / "keyring.json"
    backend = SharedFileKeyring(path)
    keyring.set_keyring(backend)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings_shared_fake.SharedFileKeyring")
    monkeypatch.setenv(ENV_FILE, str(path))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO / "tests"), str(REPO)]))
    return backend


async def zoomtui(*args: str) -> tuple[int, str, str]:
    """Run `zoomtui ARGS` as its own process (the event loop, and the monitor, keep running)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "zoomtui.cli",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(60):  # a bound, so a hang fails the test instead of CI
            out, err = await proc.communicate()
    except TimeoutError:
        proc.kill()
        raise
    return proc.returncode or 0, out.decode(), err.decode()


async def test_doctor_and_tail_beside_the_monitor_issue_no_new_token(
    shared_keyring: SharedFileKeyring,
) -> None:
    # several consumers at once: this test is about tokens, not about displacement
    with ThreadedFake(
        scenario="demo", rate=20.0, one_connection_per_subscription=False, token_prefix="fzk.share."
    ) as tf:
        cfg.save_profile(
            PROFILE,
            {
                "account_id": C.account_id,
                "client_id": C.client_id,
                "subscription_id": C.subscription_id,
                "oauth_url": tf.fake.oauth_url,
                "ws_url": tf.fake.ws_url,
            },
        )
        shared_keyring.set_password("zoomtui", f"{PROFILE}:client_secret", C.client_secret)
        settings = credentials.resolve_settings(profile=PROFILE)
        app = ZoomtuiApp(AppOptions(settings, profile=PROFILE))
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="the monitor")
            assert tf.call(lambda fake: fake.tokens_issued) == 1
            stored = shared_keyring.get_password("zoomtui", f"{PROFILE}:access_token")
            assert stored is not None and orjson.loads(stored)["profile"] == PROFILE

            code, out, err = await zoomtui("doctor", "--profile", PROFILE)
            assert code == 0, out + err
            assert "reused the access token shared in the OS keyring" in out
            assert "✓ heartbeat" in out
            # the profile names no API host: the token answer's is the fake's own, so the
            # hydration checks of doctor (and of the monitor and tail) ask the fake, not Zoom
            assert "✓ Dashboard API (hydration)" in out

            code, out, err = await zoomtui("tail", "--profile", PROFILE, "--count", "1")
            assert code == 0, err
            assert len(out.splitlines()) == 1
            assert "access token reused" in err

            assert tf.call(lambda fake: fake.tokens_issued) == 1
            assert app.status.state is S.CONNECTED
            await wait_until(pilot, lambda: app.session.last_roster is not None, what="roster")
            assert app.session.last_roster is not None and not app.session.last_roster.problem
            # the monitor's, doctor's and tail's REST calls took the one token as well
            assert tf.call(lambda fake: len(fake.dashboard.calls)) >= 3
            assert tf.call(lambda fake: fake.tokens_issued) == 1
        for text in (out, err):
            assert C.client_secret not in text and "fzk.share." not in text
