"""The app shell against the fake Zoom: real token request, real WebSocket, real Textual app.

Every wait is on a condition the app shows (tests/waits.py); no test asserts on speed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from textual import events
from textual.command import CommandList
from textual.message import Message
from textual.notifications import Notify
from textual.widgets import Input, Static

from tests.waits import awaited
from zoomtui.fakezoom import DEMO_CREDENTIALS, FakeZoom
from zoomtui.monitor.eventlog import GapRow, StateRow
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.messages import RowsArrived, StateUpdated
from zoomtui.tui.options import AppOptions, ConnectionOptions, DemoOptions, FirstRunOptions
from zoomtui.tui.screens.confirm import ConfirmScreen
from zoomtui.tui.screens.first_run import FirstRunScreen
from zoomtui.tui.screens.help import HelpScreen
from zoomtui.tui.sources import Sources
from zoomtui.zoom.connection import ZoomConnection
from zoomtui.zoom.updates import ConnectionState as S
from zoomtui.zoom.updates import Update


def event(
    name: str = "meeting.started", topic: str = "Weekly sync", ts: int = 1_741_960_992_000
) -> dict:
    return {
        "event": name,
        "event_ts": ts,
        "payload": {
            "account_id": "acc",
            "object": {"id": "85746352415", "uuid": "u1==", "topic": topic},
        },
    }


def app_for(fake: FakeZoom, tui, factory: Any = None) -> ZoomtuiApp:
    connection = ConnectionOptions(tui.FAST, factory=factory)
    settings = fake.settings(heartbeat_interval=tui.CALM_HB)
    return ZoomtuiApp(AppOptions(settings, connection=connection))


async def test_panel_reaches_connected_and_shows_the_link(fake: FakeZoom, tui) -> None:
    app = app_for(fake, tui)
    async with app.run_test(size=(160, 40)) as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        await tui.wait_until(
            pilot, lambda: app.status.heartbeat_rtt is not None, what="a heartbeat"
        )
        await fake.inject(event(topic="Design [review]"))
        await tui.wait_until(pilot, lambda: app.status.events == 1, what="the event")
        app.panel.refresh_status()
        # the log repaints at most 10 times a second while following: wait for the paint
        await tui.wait_until(
            pilot,
            lambda: (
                "Design [review]" in tui.screen_text(app) and "events 1" in tui.screen_text(app)
            ),
            what="the event on screen",
        )
        text = tui.screen_text(app)
        assert "● connected" in text
        assert "sub demo…01" in text or "sub dem…01" in text  # masked, never the whole id
        assert DEMO_CREDENTIALS.subscription_id not in text
        assert "token 59m" in text or "token 60m" in text
        assert "hb " in text and " ms " in text
        assert "events 1" in text
        assert "Design [review]" in text  # a name from Zoom is data, not markup
        assert app.panel.has_class("-connected")
        # the connected state is also a line in the log
        assert any(isinstance(r, StateRow) and r.state == "connected" for r in app.event_log)


async def test_server_cut_shows_reconnecting_then_a_gap_then_connected(fake: FakeZoom, tui) -> None:
    seen: list[StateUpdated] = []

    def hook(message: Message) -> None:
        if isinstance(message, StateUpdated):
            seen.append(message)

    app = app_for(fake, tui)
    async with app.run_test(size=(160, 40), message_hook=hook) as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        await fake.cut()
        # the connection says CONNECTED, then the gap that closes: wait for both
        await tui.wait_until(
            pilot,
            lambda: (
                app.status.reconnects == 1
                and app.status.state is S.CONNECTED
                and any(isinstance(r, GapRow) for r in app.event_log)
            ),
            what="reconnected and the gap recorded",
        )
        states = [m.change.state for m in seen]
        assert S.RECONNECTING in states
        reconnecting = next(m.change for m in seen if m.change.state is S.RECONNECTING)
        assert reconnecting.reason  # the user is told why
        gaps = [r for r in app.event_log if isinstance(r, GapRow)]
        assert len(gaps) == 1 and gaps[0].reason
        rows = list(app.event_log)
        kinds = [
            type(r).__name__ + (f":{r.state}" if isinstance(r, StateRow) else "") for r in rows
        ]
        # reconnecting (with its reason), connected again, then the gap it closed
        assert kinds[-3:] == ["StateRow:reconnecting", "StateRow:connected", "GapRow"]
        app.panel.refresh_status()
        await pilot.pause()
        text = tui.screen_text(app)
        assert "reconnects 1" in text and "gaps 1" in text


async def test_reconnecting_is_shown_with_its_reason_while_it_lasts(fake: FakeZoom, tui) -> None:
    app = ZoomtuiApp(
        AppOptions(
            fake.settings(heartbeat_interval=5.0),
            connection=ConnectionOptions({"backoff_base": 30.0, "backoff_cap": 30.0}),
        )
    )
    async with app.run_test(size=(160, 40)) as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        await fake.close(code=1011, reason="maintenance")
        await tui.wait_until(pilot, lambda: app.status.state is S.RECONNECTING, what="reconnecting")
        await pilot.pause()
        text = tui.screen_text(app)
        assert "◌ reconnecting" in text
        assert "1011" in app.status.reason and "1011" in text
        # r skips the wait
        await pilot.press("r")
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected again")


async def test_rejected_credentials_show_failed_and_the_fix(fake: FakeZoom, tui) -> None:
    fake.reject_credentials = True
    app = app_for(fake, tui)
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.FAILED, what="failed")
        await pilot.pause()
        assert app.status.hint  # what to check
        text = tui.screen_text(app)
        assert "✖ failed" in text
        assert "→ " + app.status.hint[:40] in text
        assert app.panel.has_class("-failed")
        assert any(n.title == "Connection failed" for n in app._notifications)
        assert DEMO_CREDENTIALS.client_secret not in text
        # the footer now offers connect (not disconnect); after a fix, c connects
        assert app.main.check_action("connect", ()) and not app.main.check_action("disconnect", ())
        fake.reject_credentials = False
        await pilot.press("c")
        await tui.wait_until(
            pilot, lambda: app.status.state is S.CONNECTED, what="connected after fix"
        )
        assert not app.status.hint


async def test_c_disconnects_and_connects_again(fake: FakeZoom, tui) -> None:
    app = app_for(fake, tui)
    async with app.run_test(size=(160, 40)) as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        await pilot.press("c")  # asks first (test_c_asks_before_disconnecting)
        await tui.wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="asked")
        await pilot.press("tab", "enter")
        await tui.wait_until(pilot, lambda: app.status.state is S.STOPPED, what="stopped")
        assert "○ stopped" in tui.screen_text(app)
        await pilot.press("c")
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected again")


async def test_c_asks_before_disconnecting_and_a_stray_key_keeps_the_link(
    fake: FakeZoom, tui
) -> None:
    app = app_for(fake, tui)
    async with app.run_test(size=(160, 40)) as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        # text pasted into the wrong pane arrives as keys: `c`, then more letters, then enter
        await pilot.press("c", *"yolo", "enter")
        await tui.wait_until(pilot, lambda: app.screen is app.main, what="question answered")
        await pilot.press("c")
        await tui.wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="asked")
        text = tui.screen_text(app)
        assert "Disconnect from Zoom?" in text and "those events are lost" in text
        await pilot.press("escape")
        await tui.wait_until(pilot, lambda: app.screen is app.main, what="question answered")
        await pilot.pause()
        assert app.status.state is S.CONNECTED
        assert len(fake.accepted_connections) == 1


class BrokenNetwork(ZoomConnection):
    """A real connection whose loop dies with an error the engine did not foresee."""

    async def updates(self) -> AsyncIterator[Update]:
        async for update in super().updates():
            yield update
            if getattr(update, "state", None) is S.CONNECTED:
                url = "wss://ws.zoom.us/ws?subscriptionId=x&access_token=tok-SECRET-123456"
                raise OSError(f"network is unreachable while reading {url}")


async def test_a_network_error_never_reaches_the_crash_screen(fake: FakeZoom, tui) -> None:
    app = app_for(fake, tui, factory=BrokenNetwork)
    async with app.run_test(size=(160, 40)) as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.FAILED, what="failed")
        await pilot.pause()
        text = tui.screen_text(app)
        assert "network is unreachable" in text
        assert "tok-SECRET-123456" not in text and "tok-SECRET-123456" not in app.status.reason
        assert app.status.hint
        assert app.is_running and app._exception is None
        # c starts a fresh worker (the broken one is gone)
        assert app.main.check_action("connect", ())
    assert app.return_code in (None, 0)


async def test_crash_report_has_no_locals_and_no_secret(tui, capfd) -> None:
    """Defence in depth: a bug anywhere still must not print a secret (Textual prints locals)."""

    class Boom(ZoomtuiApp):
        def on_mount(self) -> None:
            # built at run time, so the traceback's source lines do not show it either
            secret = "".join(reversed("321fedcba-TERCES-kot"))
            raise RuntimeError("boom while using access_token=" + secret)

    app = Boom(AppOptions(first_run=FirstRunOptions(reason="none")))
    with pytest.raises(RuntimeError):
        async with app.run_test() as pilot:
            await pilot.pause()
    err = capfd.readouterr().err
    assert "boom while using access_token=***" in err
    assert "tok-SECRET-abcdef123" not in err
    assert "secret =" not in err.replace('secret = "".join', "")  # no locals panel


async def test_first_run_form_verifies_and_saves_to_the_keyring(
    fake: FakeZoom, tui, memory_keyring, config_file
) -> None:
    form = {"oauth_url": fake.oauth_url, "ws_url": fake.ws_url}
    app = ZoomtuiApp(
        AppOptions(
            first_run=FirstRunOptions("Missing account id.", config_path=config_file, form=form),
            connection=ConnectionOptions(tui.FAST),
        )
    )
    c = DEMO_CREDENTIALS
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, FirstRunScreen)
        text = tui.screen_text(app)
        assert "Press d to try the demo" in text
        # typed in one burst, like a password manager's auto-type: tab, value, enter, ...
        burst = [events.Key("tab", None)]
        for value in (c.account_id, c.client_id, c.client_secret, c.subscription_id):
            burst += [events.Key(ch, ch) for ch in value] + [events.Key("enter", "\r")]
        for key in burst:
            app.post_message(key)
        await tui.wait_until(
            pilot,
            lambda: (
                not isinstance(app.screen, FirstRunScreen)  # (then the form is gone)
                or app.screen.query_one("#subscription_id", Input).value == c.subscription_id
            ),
            what="typed",
        )
        # the secret is a password field: never on screen
        assert c.client_secret not in tui.screen_text(app)
        await tui.wait_until(
            pilot, lambda: not isinstance(app.screen, FirstRunScreen), what="form closed"
        )
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
    # the connection shares its token with the profile's other zoomtui processes
    shared = orjson.loads(memory_keyring.passwords.pop(("zoomtui", "default:access_token")))
    assert (shared["profile"], shared["client_id"]) == ("default", c.client_id)
    assert fake.issuer.is_valid(shared["access_token"])
    assert memory_keyring.passwords == {("zoomtui", "default:client_secret"): c.client_secret}
    saved = config_file.read_text()
    assert c.account_id in saved and c.subscription_id in saved
    assert c.client_secret not in saved
    assert [r.status for r in fake.token_requests][:1] == [200]


async def test_first_run_form_says_why_when_zoom_rejects(
    fake: FakeZoom, tui, memory_keyring, config_file
) -> None:
    fake.reject_credentials = True
    form = {"oauth_url": fake.oauth_url, "ws_url": fake.ws_url}
    app = ZoomtuiApp(
        AppOptions(
            first_run=FirstRunOptions("Missing account id.", config_path=config_file, form=form)
        )
    )
    c = DEMO_CREDENTIALS
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for field, value in (
            ("account_id", c.account_id),
            ("client_id", c.client_id),
            ("client_secret", "wrong-secret-value"),
            ("subscription_id", c.subscription_id),
        ):
            app.screen.query_one(f"#{field}", Input).value = value
        await pilot.press("ctrl+s")
        status = app.screen.query_one("#status")
        await tui.wait_until(pilot, lambda: status.has_class("-error"), what="an error")
        assert isinstance(app.screen, FirstRunScreen)
        assert "wrong-secret-value" not in tui.screen_text(app)
    assert memory_keyring.passwords == {}
    assert not config_file.exists()


async def test_first_run_d_starts_the_demo(tui) -> None:
    app = ZoomtuiApp(
        AppOptions(
            first_run=FirstRunOptions(
                "Missing account id.", demo=DemoOptions(seed=3, rate=50.0, heartbeat=tui.CALM_HB)
            ),
            connection=ConnectionOptions(tui.FAST),
        )
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, FirstRunScreen)
        await pilot.press("d")
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="demo connected")
        await tui.wait_until(pilot, lambda: app.status.events > 0, what="demo events")
        assert app.fake is not None and app.fake.token_requests


async def test_a_flood_arrives_in_few_batches_and_nothing_is_lost(tui) -> None:
    batches: list[RowsArrived] = []
    app = ZoomtuiApp(AppOptions(DemoOptions(seed=2, rate="max", events=3000, heartbeat=30.0)))
    app_hook = batches.append

    def hook(message: Message) -> None:
        if isinstance(message, RowsArrived):
            app_hook(message)

    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        await tui.wait_until(
            pilot,
            lambda: app.status.events + app.status.malformed >= 3000,
            what="3000 events",
        )
        assert app.event_log.total >= 3000
        # batched: a handful of messages, not one per event
        assert len(batches) < 300


async def test_help_lists_the_bindings_and_the_filter_language(fake: FakeZoom, tui) -> None:
    app = app_for(fake, tui)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        # every line of the help (it scrolls), as text
        text = "\n".join(str(w.content) for w in app.screen.query(Static))
        for binding in [*app.main.BINDINGS, *app.BINDINGS]:
            if binding.action != "replay_pause":  # offered only while replaying an archive
                assert binding.description in text
        assert "Connect / Disconnect" in text
        assert "type:meeting.participant_*" in text
        assert "Inspect" in text  # the event list's own keys are there too
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_palette_offers_the_app_actions(fake: FakeZoom, tui) -> None:
    app = app_for(fake, tui)
    async with app.run_test(size=(160, 48)) as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"disconnect")

        def offered() -> str:  # the command the palette would run on enter
            hits = app.screen.query_one(CommandList)
            if hits.highlighted is None:
                return ""
            return str(hits.get_option_at_index(hits.highlighted).prompt)

        # the palette searches in the background: wait for its answer to what was typed
        await tui.wait_until(pilot, lambda: "Disconnect" in offered(), what="the hit")
        await pilot.press("enter")
        await tui.wait_until(
            pilot, lambda: app.status.state is S.STOPPED, what="stopped via palette"
        )


async def test_quitting_closes_the_connection(fake: FakeZoom, tui) -> None:
    app = app_for(fake, tui)
    async with app.run_test() as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        await pilot.press("q")
    conn = fake.connections[-1]
    await awaited(conn.wait_closed(None), "the fake to see the close")
    assert not conn.open


async def test_keys_typed_right_after_slash_land_in_the_filter(fake: FakeZoom, tui) -> None:
    """Like a fast typist or `tmux send-keys / m e e t`: all keys queued before any is handled."""
    app = app_for(fake, tui)
    async with app.run_test(size=(160, 40)) as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        for key, char in (("slash", "/"), ("m", "m"), ("e", "e"), ("e", "e"), ("t", "t")):
            app.post_message(events.Key(key, char))
        await tui.wait_until(
            pilot, lambda: app.filter_bar.input.value == "meet", what="'meet' typed"
        )
        # a `/` typed inside the filter is text (uuids have them), not "focus the filter"
        await pilot.press("slash", "x")
        assert app.filter_bar.input.value == "meet/x"
        assert app.status.state is S.CONNECTED  # `m` did not open anything, `c` was never seen


async def test_a_retry_loop_logs_each_reason_once_and_a_gap_when_back(fake: FakeZoom, tui) -> None:
    seen: list[StateUpdated] = []
    app = app_for(fake, tui)
    async with app.run_test(
        size=(160, 40), message_hook=lambda m: isinstance(m, StateUpdated) and seen.append(m)
    ) as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        await fake.stop()  # Zoom unreachable: the engine retries with backoff
        await tui.wait_until(
            pilot,
            lambda: sum(m.change.state is S.RECONNECTING for m in seen) >= 4,
            what="a few attempts",
        )
        await fake.start()  # same ports
        await tui.wait_until(
            pilot,
            lambda: app.status.state is S.CONNECTED and app.status.gaps == 1,
            what="back, with a gap",
        )
        rows = [r for r in app.event_log if isinstance(r, StateRow) and r.state == "reconnecting"]
        assert len({r.reason for r in rows}) == len(rows)  # no line repeated per attempt
        assert len(rows) < sum(m.change.state is S.RECONNECTING for m in seen)


async def test_export_view_writes_the_filtered_events(
    fake: FakeZoom, tui, tmp_path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = app_for(fake, tui)
    async with app.run_test(size=(160, 40)) as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        await fake.inject(event("meeting.started", topic="Keep me"))
        await fake.inject(event("meeting.ended", topic="Not me"))
        await tui.wait_until(pilot, lambda: app.status.events == 2, what="two events")
        app.main.set_filter("type:meeting.started")
        app.main.action_export_view()
        await app.workers.wait_for_complete([w for w in app.workers if w.group == "export"])
    (path,) = tmp_path.glob("zoomtui-export-*.jsonl")
    lines = path.read_text().splitlines()
    assert len(lines) == 1 and "Keep me" in lines[0]
    assert path.stat().st_mode & 0o077 == 0  # names and emails: owner-only


async def test_toasts_for_connected_and_displaced_not_for_each_attempt(fake: FakeZoom, tui) -> None:
    titles: list[str] = []  # every toast shown, even one that has timed out since

    def hook(message: Message) -> None:
        if isinstance(message, Notify):
            titles.append(message.notification.title)

    # retake: it comes back by itself (the default waits for a person: test_displaced_panel.py)
    settings = fake.settings(heartbeat_interval=5.0, on_displaced="retake")
    app = ZoomtuiApp(AppOptions(settings, connection=ConnectionOptions(tui.FAST)))
    async with app.run_test(size=(160, 40), notifications=True, message_hook=hook) as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
        await fake.close(code=1000, reason="")  # what a second consumer on the subscription causes
        await tui.wait_until(
            pilot,
            lambda: app.status.reconnects == 1 and app.status.state is S.CONNECTED,
            what="reconnected",
        )
        await pilot.pause()
        assert titles.count("Displaced?") == 1
        assert titles.count("Connected") == 2  # first connect, and back again
        assert len(titles) == 3  # authenticating/connecting/reconnecting say nothing


async def test_an_error_escaping_the_worker_is_still_shown_as_failed(fake: FakeZoom, tui) -> None:
    def factory(settings, **kwargs):
        conn = ZoomConnection(settings, **kwargs)
        conn.updates = None  # type: ignore[method-assign] - a bug: not callable
        return conn

    class Unbridged(Sources):
        async def _run_connection(self, settings):  # skip the bridge's own safety net
            factory(settings).updates()

    app = ZoomtuiApp(AppOptions(fake.settings(heartbeat_interval=tui.CALM_HB)))
    app.sources = Unbridged(app)
    async with app.run_test(size=(160, 40)) as pilot:
        await tui.wait_until(pilot, lambda: app.status.state is S.FAILED, what="failed")
        assert "not callable" in app.status.reason and app.status.hint
        assert app.is_running
