"""The first-run form with either grant, either cloud, and the endpoint URL exactly as Zoom's
subscription page shows it (the subscription id may then stay empty), against the fake Zoom:
it verifies, saves and connects."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Select, Static

from zoomtui import config as cfg
from zoomtui.fakezoom import DEMO_CREDENTIALS as C
from zoomtui.fakezoom import FakeZoom
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.options import AppOptions, ConnectionOptions, FirstRunOptions
from zoomtui.tui.screens.first_run import FirstRunScreen
from zoomtui.zoom.updates import ConnectionState as S


def _app(fake: FakeZoom, config_file: Path, tui) -> ZoomtuiApp:
    return ZoomtuiApp(
        AppOptions(
            first_run=FirstRunOptions(
                "Missing client id.", config_path=config_file, form={"oauth_url": fake.oauth_url}
            ),
            connection=ConnectionOptions(tui.FAST),
        )
    )


async def test_client_credentials_and_a_pasted_endpoint_url_connect(
    fake: FakeZoom, tui, memory_keyring, config_file: Path
) -> None:
    app = _app(fake, config_file, tui)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, FirstRunScreen)
        # the grant chosen with the keyboard: enter opens the list, down and enter pick
        screen.set_focus(screen.query_one("#grant", Select))
        await pilot.press("enter", "down", "enter")
        account = screen.query_one("#account_id", Input)
        await tui.wait_until(pilot, lambda: account.disabled, what="account id not asked")
        assert screen.query_one("#grant", Select).value == "client_credentials"
        for field, value in (
            ("client_id", C.client_id),
            ("client_secret", C.client_secret),
            ("ws_url", f"{fake.ws_url}?subscriptionId={C.subscription_id}"),
        ):
            screen.query_one(f"#{field}", Input).value = value
        # enter in the empty subscription id moves on to the endpoint URL instead of saving
        screen.set_focus(screen.query_one("#subscription_id", Input))
        await pilot.press("enter")
        await tui.wait_until(
            pilot, lambda: screen.focused is screen.query_one("#ws_url", Input), what="next field"
        )
        await pilot.press("enter")
        await tui.wait_until(
            pilot, lambda: not isinstance(app.screen, FirstRunScreen), what="form closed"
        )
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
    saved = cfg.load_config(config_file).profiles["default"]
    assert saved["grant"] == "client_credentials" and "account_id" not in saved
    assert (saved["subscription_id"], saved["ws_url"]) == (C.subscription_id, fake.ws_url)
    assert {q.grant for q in fake.token_requests} == {"client_credentials"}


async def test_a_typed_subscription_that_is_not_the_urls_is_said_plainly(
    fake: FakeZoom, tui, memory_keyring, config_file: Path
) -> None:
    app = _app(fake, config_file, tui)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        screen = app.screen
        for field, value in (
            ("account_id", C.account_id),
            ("client_id", C.client_id),
            ("client_secret", C.client_secret),
            ("subscription_id", "someOtherSubscription"),
            ("ws_url", f"{fake.ws_url}?subscriptionId={C.subscription_id}"),
        ):
            screen.query_one(f"#{field}", Input).value = value
        await pilot.press("ctrl+s")
        status = screen.query_one("#status", Static)
        await tui.wait_until(pilot, lambda: status.has_class("-error"), what="an error")
        assert "does not match the one in the endpoint URL" in tui.screen_text(app)
        assert isinstance(app.screen, FirstRunScreen)
    assert not config_file.exists() and memory_keyring.passwords == {}
    assert fake.tokens_issued == 0


async def test_without_subscription_or_url_the_form_asks_for_either(
    fake: FakeZoom, tui, memory_keyring, config_file: Path
) -> None:
    app = _app(fake, config_file, tui)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        screen = app.screen
        for field, value in (
            ("account_id", C.account_id),
            ("client_id", C.client_id),
            ("client_secret", C.client_secret),
        ):
            screen.query_one(f"#{field}", Input).value = value
        await pilot.press("ctrl+s")
        status = screen.query_one("#status", Static)
        await tui.wait_until(pilot, lambda: status.has_class("-error"), what="an error")
        assert "Fill in Subscription ID (or the endpoint URL)." in tui.screen_text(app)
        assert screen.focused is screen.query_one("#subscription_id", Input)
    assert fake.tokens_issued == 0
