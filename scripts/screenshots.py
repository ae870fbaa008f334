"""Render the README screenshots: `python scripts/screenshots.py [OUT_DIR [SCENE...]]`
(default screenshots/, every scene).

Each scene runs the real app against the in-process fake Zoom (real token request, real
WebSocket) with a fixed seed, a fixed clock (time stands still at 2025-03-14 14:03:12
UTC, so every time and age on screen is stable), a fixed size (160x48 unless the scene
says), UTC, no cursor blink, no toasts.  A scene waits for what the app signals (every
event applied and painted, the panes up to date, the "Connected" toast in, a filter
applied, a screen open), never for time to pass, so a loaded machine shoots the same.  The SVG snapshot tests (tests/tui/test_snapshots.py) use these same
scenes, so what the README shows is what the tests check.

No SVG may contain the client secret or a token; each file is checked before it is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import random
import socketserver
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import httpx
from textual.pilot import Pilot
from textual.widgets import Input

from zoomtui.fakezoom import DEMO_CREDENTIALS
from zoomtui.forward import ForwardOptions, Routes
from zoomtui.forward import forwarder as forwarder_module
from zoomtui.redaction import Secret
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.messages import HeartbeatAnswered
from zoomtui.tui.options import (
    AppOptions,
    Clocks,
    ConnectionOptions,
    DemoOptions,
    FirstRunOptions,
)
from zoomtui.tui.screens.help import HelpScreen
from zoomtui.tui.screens.inspector import InspectorScreen
from zoomtui.tui.widgets.meetings_pane import MeetingsPane
from zoomtui.tui.widgets.participants import ParticipantPanel
from zoomtui.zoom.updates import ConnectionState, Heartbeat

SIZE = (160, 48)
#: 2025-03-14 14:03:12 UTC
FIXED_NOW = 1741960992.0
SEED = 7
EVENTS = 400
#: Zoom stamped the events this long before we "received" them (gives the lag column values)
STAMP_LEAD = 0.6
#: the meetings scene is shot this long after the events arrived, so meetings have run a while
MEETING_AGE = 12 * 60 + 40


class StillClock:
    """Time stands still: every reading is the same, so screens are byte-for-byte stable."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def demo_app(*, events: int = EVENTS, seed: int = SEED) -> ZoomtuiApp:
    """The demo, deterministic: all `events` arrive at once (rate max) at a still clock.

    The monotonic clock stands still too, so the heartbeat round trip reads 0.0 ms instead
    of whatever the machine measured, and only the first heartbeat (sent on connect) is
    ever sent: the next is due when that clock has moved on by Zoom's 30 s interval.
    """
    clock = StillClock(FIXED_NOW)
    options = DemoOptions(
        seed=seed,
        rate="max",
        events=events,
        heartbeat=30.0,
        fake_clock=StillClock(FIXED_NOW - STAMP_LEAD),
        # (the flood and the Dashboard's answer would race: the picture must be one picture)
        hydrate=False,
    )
    app = ZoomtuiApp(AppOptions(options, clocks=Clocks(clock, monotonic=StillClock(1000.0))))
    record_toasts(app)
    return app


def record_toasts(app: ZoomtuiApp) -> None:
    """Keep the title of every toast the app asks for (`app.scene_toasts`): a toast is a
    message taken in later, and it times out on the real clock, so on a loaded machine the
    shown ones may not hold it yet, or not any more."""
    titles: list[str] = []
    notify = app.notify

    def recording(message: str, **kwargs: Any) -> None:
        titles.append(str(kwargs.get("title", "")))
        notify(message, **kwargs)

    app.notify = recording  # type: ignore[method-assign]
    app.scene_toasts = titles  # type: ignore[attr-defined]


#: the forwarded scene's handler URL (it listens on a Unix socket: the port never changes)
HANDLER_URL = "http://127.0.0.1:3000/zoom"
#: a made-up webhook secret token for the forwarded scene (never shown: only signatures are)
SCENE_WEBHOOK_SECRET = "scene-webhook-secret-token"
#: the forwarded scene's handler, by the id of its app (stopped once the scene is set)
_HANDLERS: dict[int, SceneHandler] = {}


class SceneHandler:
    """A webhook handler (standard library) on a Unix socket in a thread: 200 and a short
    JSON answer, with no Date or Server header, so every shot is the same."""

    def __init__(self) -> None:
        self.folder = tempfile.TemporaryDirectory(prefix="zoomtui-shot-")
        self.path = os.path.join(self.folder.name, "handler.sock")

        class Answer(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - the standard library's name
                self.rfile.read(int(self.headers.get("content-length", "0")))
                body = b'{"received": true}'
                self.send_response_only(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        self.server = Server(self.path, Answer)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(uds=self.path))

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.folder.cleanup()


def forwarding_app() -> ZoomtuiApp:
    """The demo, each event forwarded (signed) to a handler started for the scene."""
    handler = SceneHandler()
    app = demo_app()
    options = app.options
    forward = ForwardOptions(Routes.parse([HANDLER_URL]), Secret(SCENE_WEBHOOK_SECRET))
    app = ZoomtuiApp(
        AppOptions(
            options.source,
            clocks=options.clocks,
            forward=forward,
            forward_client=handler.client,
        )
    )
    record_toasts(app)
    _HANDLERS[id(app)] = handler
    return app


@contextlib.contextmanager
def stable_requests() -> Iterator[None]:
    """Requests whose ids come from their body, and an answer timed on a clock that stands
    still (0.0 ms, as the heartbeat's), so each shot shows the same headers."""
    real = forwarder_module.webhook_headers

    def headers(body: bytes, secret: str | None, timestamp: int | None = None) -> dict:
        out = real(body, secret, timestamp)
        digest = hashlib.sha256(body).hexdigest()
        out["x-zm-request-id"] = digest[:32]
        out["x-zm-trackingid"] = f"v=2.0;clid=zoomtui;rid={digest[:32]}"
        out["traceparent"] = f"00-{digest[32:64]}-{digest[:16]}-01"
        return out

    still = SimpleNamespace(perf_counter=StillClock(1000.0), time=time.time)
    with (
        mock.patch.object(forwarder_module, "webhook_headers", headers),
        mock.patch.object(forwarder_module, "time", still),
    ):
        yield


#: the hydrated scene's meeting, and its story (UTC): it began at 13:40 and two people joined
#: before the monitor started at 14:01 (nobody heard them: Zoom's API tells), two joined
#: live, then the link was down from 14:01:40 to 14:03:12, and meanwhile one of those left
#: and one more joined
HYDRATED_MEETING = 85746352410
BEFORE_START = (("Priya Raman", 13 * 3600 + 41 * 60), ("Kenji Watanabe", 13 * 3600 + 42 * 60))
LIVE = (("Ana Souza", 14 * 3600 + 60 + 20), ("Bo Lindqvist", 14 * 3600 + 60 + 25))
IN_GAP = (
    ("meeting.participant_left", "Bo Lindqvist", 14 * 3600 + 2 * 60 + 5),
    ("meeting.participant_joined", "Ngozi Adeyemi", 14 * 3600 + 2 * 60 + 30),
)
MONITOR_START = 14 * 3600 + 60 + 5
LINK_DOWN = 14 * 3600 + 60 + 40


def at_utc(seconds_into_day: int) -> float:
    """That time of FIXED_NOW's day (UTC), as epoch seconds."""
    return FIXED_NOW - FIXED_NOW % 86400 + seconds_into_day


async def trigger_at(fake: Any, clock: StillClock, event: str, name: str, when: int) -> None:
    """A Zoom event stamped `when` (seconds into the day), heard by whoever is connected."""
    from zoomtui.fakezoom.triggers import TriggerRequest

    clock.now = at_utc(when)
    await fake.trigger(TriggerRequest(event, meeting_id=HYDRATED_MEETING, name=name or None))


class WholeBackoff(random.Random):
    """A backoff's jitter that always waits its whole ceiling: with a ceiling of an hour,
    the connection never retries by itself while the scene has Zoom down, and the scene
    says when it tries again (`request_connect`).  With chance deciding, a retry could
    come before Zoom was back and add a "could not connect to 127.0.0.1:PORT" row."""

    def uniform(self, a: float, b: float) -> float:
        return b


#: the hydrated scene's backoff: an hour, waited in full (`WholeBackoff`)
SCENE_BACKOFF = {"backoff_base": 3600.0, "backoff_cap": 3600.0}


def hydrated_app() -> ZoomtuiApp:
    """A quiet demo with hydration on: Zoom's state before the monitor starts is made on
    the fake before it connects; the scene does the rest."""
    clock, fake_clock = StillClock(at_utc(MONITOR_START)), StillClock(at_utc(13 * 3600 + 40 * 60))

    async def before_start(fake: Any) -> None:
        await trigger_at(fake, fake_clock, "meeting.started", "", 13 * 3600 + 40 * 60)
        for name, when in BEFORE_START:
            await trigger_at(fake, fake_clock, "meeting.participant_joined", name, when)

    options = DemoOptions(
        seed=SEED,
        scenario="quiet",
        heartbeat=30.0,
        fake_clock=fake_clock,
        hydrate=True,
        before_connect=before_start,
    )
    clocks = Clocks(clock, monotonic=StillClock(1000.0), rng=WholeBackoff())
    connection = ConnectionOptions(SCENE_BACKOFF)
    return ZoomtuiApp(AppOptions(options, clocks=clocks, connection=connection))


def first_run_app() -> ZoomtuiApp:
    reason = (
        "Missing account id, client id, client secret, subscription id for profile 'default'. "
        "There are no profiles yet."
    )
    clocks = Clocks(StillClock(FIXED_NOW))
    return ZoomtuiApp(AppOptions(first_run=FirstRunOptions(reason), clocks=clocks))


#: seconds after which a scene that has not settled is declared hung: a guard against a
#: hang, not a time budget (a loaded machine only takes longer)
HANG_GUARD = 300.0


async def wait_for(pilot: Pilot, predicate: Callable[[], bool]) -> None:
    """Let the app run until `predicate()` (a condition the app signals) holds."""
    deadline = time.monotonic() + HANG_GUARD
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the scene did not settle in {HANG_GUARD:g} s: it never will")
        await pilot.pause(0.02)


async def settle(pilot: Pilot) -> None:
    """Wait until every demo event arrived, then freeze what moves (blink, toasts, animation)."""
    app = pilot.app
    assert isinstance(app, ZoomtuiApp)
    # From the options, not `app.demo`: the demo starts as the main screen mounts, which
    # a loaded machine may not have done yet when the scene begins.
    demo = app.options.source
    if isinstance(demo, DemoOptions) and demo.events is not None:
        events = demo.events
        await wait_for(
            pilot,
            lambda: (
                app.status.state is ConnectionState.CONNECTED
                and app.status.events + app.status.malformed >= events
            ),
        )
        await wait_for(pilot, lambda: app.status.heartbeat_rtt is not None)
        # every row applied to the list (its repaint waits for a timer while it follows)
        await wait_for(pilot, lambda: app.main.event_view.up_to_date)
        # The "Connected" toast is posted as a message: on a busy machine it can be taken in
        # after freeze() cleared the toasts.  It comes once per connection: wait until it
        # was asked for and taken in, so the clear below is the last word.
        await wait_for(pilot, lambda: "Connected" in getattr(app, "scene_toasts", ["Connected"]))
        await pilot.pause()
        await settle_side(pilot)
    await freeze(pilot)


async def settle_side(pilot: Pilot) -> None:
    """The side panes poll the tracker a few times a second and keep the meeting they first
    showed: wait for them, and select the first meeting, so the shot does not depend on
    when the first poll happened."""
    from zoomtui.tui.widgets.meetings_pane import MeetingsPane
    from zoomtui.tui.widgets.participants import ParticipantPanel

    app = pilot.app
    pane, panel = app.query_one(MeetingsPane), app.query_one(ParticipantPanel)
    await wait_for(pilot, lambda: pane.up_to_date)
    ordered = app.meetings.ordered()  # type: ignore[attr-defined]
    pane.select(ordered[0].uuid if ordered else None)
    await wait_for(pilot, lambda: pane.up_to_date and panel.up_to_date)


async def freeze(pilot: Pilot) -> None:
    """Stop what moves, clear the toasts, and let every widget take in what is queued."""
    app = pilot.app
    app.animation_level = "none"
    for screen in app.screen_stack:
        for field in screen.query(Input):
            field.cursor_blink = False
    if isinstance(app, ZoomtuiApp) and app.screen_stack[0].is_attached:
        app.panel.refresh_status()
    await pilot.pause()
    # A toast being mounted when the clear comes can outlive it (Textual's toast rack mounts
    # and removes toasts later): clear until no toast is on the screen.
    while True:
        app.clear_notifications()
        await pilot.pause()
        if not app.screen.query("Toast"):
            break
        await pilot.pause(0.02)


# -- scenes: (file name, app factory, what to do before the shot) ------------------------


async def main_screen(pilot: Pilot) -> None:
    await settle(pilot)


async def filter_to(pilot: Pilot, text: str) -> None:
    """Type a filter as a person would, and wait until the list applied it."""
    app = pilot.app
    assert isinstance(app, ZoomtuiApp)
    await pilot.press("slash", *text, "enter")
    view = app.main.event_view
    await wait_for(pilot, lambda: view.applied_filter == text and view.up_to_date)


async def filtered_log(pilot: Pilot) -> None:
    await settle(pilot)
    await filter_to(pilot, "type:participant_joined -user:guest")
    await freeze(pilot)


async def inspector(pilot: Pilot) -> None:
    await settle(pilot)
    await filter_to(pilot, "type:meeting.participant_joined")
    await pilot.press("k", "k", "enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, InspectorScreen))
    await freeze(pilot)


async def forwarded(pilot: Pilot) -> None:
    """An event forwarded to the handler: the request sent (signature and all) and the
    handler's answer, in the inspector (`f`)."""
    app = pilot.app
    assert isinstance(app, ZoomtuiApp)
    try:
        with stable_requests():
            await settle(pilot)
            fwd = app.forwarding.forwarder
            assert fwd is not None
            await wait_for(pilot, lambda: fwd.delivered + fwd.failed >= EVENTS)
        await wait_for(pilot, lambda: not app.forwarding._dirty)
        await filter_to(pilot, "type:meeting.participant_joined")
        await pilot.press("k", "k", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, InspectorScreen))
        await pilot.press("f")
        await wait_for(pilot, lambda: getattr(app.screen, "show_forward", False))
    finally:
        handler = _HANDLERS.pop(id(app), None)
        if handler is not None:
            await asyncio.to_thread(handler.stop)
    await freeze(pilot)


async def help_screen(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("question_mark")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
    await freeze(pilot)


async def meetings_scene(pilot: Pilot) -> None:
    """m, then down to the live webinar, enter: who is in it, who left and why, flags."""
    await settle(pilot)
    app = pilot.app
    assert isinstance(app, ZoomtuiApp) and isinstance(app.clock, StillClock)
    app.clock.now += MEETING_AGE
    await answered_heartbeat(pilot)
    pane, panel = app.query_one(MeetingsPane), app.query_one(ParticipantPanel)
    await pilot.press("m")
    await wait_for(pilot, lambda: pane.up_to_date)
    await pilot.press("home")  # from the top (the newest live meeting), whatever came first
    for _ in range(len(app.meetings.meetings)):
        m = pane.selected_meeting
        if m is not None and m.kind == "webinar" and m.is_live:
            break
        await pilot.press("down")
    await pilot.press("enter")
    await wait_for(pilot, lambda: pane.up_to_date and panel.up_to_date)
    await freeze(pilot)


def person_origin(app: ZoomtuiApp, name: str) -> str | None:
    """The origin kind of the person called `name` in the tracker (None: seen live, or absent)."""
    for m in app.meetings.meetings.values():
        for p in m.participants.values():
            if p.display_name == name:
                return None if p.origin is None else p.origin.kind
    return None


async def hydrated_roster(pilot: Pilot) -> None:
    """Who is in the meeting, and where each is known from: two from Zoom's API (in before
    the monitor started), two seen live, one who left and one who joined while the link was
    down, inferred from Zoom's roster after the gap."""
    from zoomtui.monitor.meetings.origin import FROM_API, JOINED_IN_GAP, LEFT_IN_GAP

    app = pilot.app
    assert isinstance(app, ZoomtuiApp) and isinstance(app.clock, StillClock)
    demo = app.options.source
    assert isinstance(demo, DemoOptions) and isinstance(demo.fake_clock, StillClock)
    await wait_for(pilot, lambda: app.status.state is ConnectionState.CONNECTED)
    await wait_for(pilot, lambda: person_origin(app, "Kenji Watanabe") == FROM_API)
    fake = app.fake
    for heard, (name, when) in enumerate(LIVE, start=1):
        app.clock.now = at_utc(when) + STAMP_LEAD  # received as Zoom stamped it, a moment later
        await trigger_at(fake, demo.fake_clock, "meeting.participant_joined", name, when)
        # received (stamped) before the clock moves on
        await wait_for(pilot, lambda n=heard: app.status.events >= n)
    await wait_for(
        pilot, lambda: sum(len(m.participants) for m in app.meetings.meetings.values()) == 4
    )
    # the link goes down; Zoom's meeting goes on
    app.clock.now = at_utc(LINK_DOWN)
    await fake.stop()
    await wait_for(pilot, lambda: app.status.state is ConnectionState.RECONNECTING)
    for event, name, when in IN_GAP:
        await trigger_at(fake, demo.fake_clock, event, name, when)
    app.clock.now = FIXED_NOW
    await fake.start()
    app.connection.request_connect()  # Zoom is back: retry now (the backoff waits an hour)
    await wait_for(pilot, lambda: person_origin(app, "Bo Lindqvist") == LEFT_IN_GAP)
    await wait_for(pilot, lambda: person_origin(app, "Ngozi Adeyemi") == JOINED_IN_GAP)
    await answered_heartbeat(pilot)
    await wait_for(pilot, lambda: app.main.event_view.up_to_date)
    await settle_side(pilot)
    panel = app.query_one(ParticipantPanel)
    await pilot.press("m", "enter")  # to the meetings pane, then its participants
    await wait_for(pilot, lambda: panel.up_to_date)
    await freeze(pilot)


async def answered_heartbeat(pilot: Pilot) -> None:
    """The answer to the heartbeat of a moment ago, as the connection reports one: a link
    up for minutes has its heartbeats answered every 30 s (time standing still, none is
    sent), and "connected" beside a 12-minute-old answer is a stalled link."""
    app = pilot.app
    assert isinstance(app, ZoomtuiApp)
    now = app.clock()
    app.post_message(HeartbeatAnswered(Heartbeat(rtt=0.0, at=now)))
    await wait_for(pilot, lambda: app.status.heartbeat_at == now)


async def failed(pilot: Pilot) -> None:
    """Zoom starts rejecting the credentials: FAILED, with what to check."""
    await settle(pilot)
    app = pilot.app
    assert isinstance(app, ZoomtuiApp)
    app.fake.reject_credentials = True
    app.fake.expire_tokens()
    app.main.action_reconnect()
    await wait_for(pilot, lambda: app.status.state is ConnectionState.FAILED)
    # the "failed" row is painted by the list's repaint timer (it follows): wait for it
    await wait_for(pilot, lambda: app.main.event_view.up_to_date)
    await freeze(pilot)


async def first_run(pilot: Pilot) -> None:
    await freeze(pilot)


@dataclass(frozen=True)
class Scene:
    name: str
    make_app: Callable[[], ZoomtuiApp]
    run_before: Callable[[Pilot], Awaitable[None]]
    size: tuple[int, int] = SIZE


SCENES: tuple[Scene, ...] = (
    Scene("main", demo_app, main_screen),
    # a laptop's terminal: the side pane steps aside, names keep what tells them apart
    Scene("main-80x24", demo_app, main_screen, (80, 24)),
    Scene("filtered", demo_app, filtered_log),
    Scene("inspector", demo_app, inspector),
    Scene("forwarded", forwarding_app, forwarded),
    Scene("help", demo_app, help_screen),
    Scene("failed", demo_app, failed),
    Scene("meetings", demo_app, meetings_scene),
    Scene("hydrated", hydrated_app, hydrated_roster),
    Scene("first-run", first_run_app, first_run),
)

#: what must never appear in a screenshot (demo values are fake, but the check is the point)
FORBIDDEN = (
    DEMO_CREDENTIALS.client_secret,
    SCENE_WEBHOOK_SECRET,
    "access_token=",
    "Bearer ",
    "Basic ",
)


def check_clean(svg: str, name: str) -> None:
    for needle in FORBIDDEN:
        if needle in svg:
            raise SystemExit(f"{name}: the screenshot contains {needle[:12]!r}…: not written")


async def render(scene: Scene) -> str:
    app = scene.make_app()
    async with app.run_test(size=scene.size) as pilot:
        await scene.run_before(pilot)
        if app.status.heartbeat_overdue(app.clock()) is not None:
            # the panel would say so, but a README scene of a healthy link must be one
            raise SystemExit(f"{scene.name}: the link looks stalled (an old heartbeat answer)")
        svg = app.export_screenshot(title=f"zoomtui: {scene.name}")
        tokens = [t.access_token.reveal() for t in _issued_tokens(app)]
    check_clean(svg, scene.name)
    for token in tokens:
        if token and token in svg:
            raise SystemExit(f"{scene.name}: the screenshot contains an access token: not written")
    return svg


def _issued_tokens(app: ZoomtuiApp) -> list:
    connection = app.connection
    tokens = getattr(connection, "tokens", None)
    token = getattr(tokens, "token", None)
    return [token] if token is not None else []


def use_utc() -> None:
    os.environ["TZ"] = "UTC"
    if hasattr(time, "tzset"):
        time.tzset()


async def main(out: Path, names: list[str]) -> None:
    """Render every scene, or the ones named."""
    use_utc()
    out.mkdir(parents=True, exist_ok=True)
    unknown = set(names) - {scene.name for scene in SCENES}
    if unknown:
        raise SystemExit(f"no such scene: {', '.join(sorted(unknown))}")
    for scene in SCENES:
        if names and scene.name not in names:
            continue
        svg = await render(scene)
        path = out / f"{scene.name}.svg"
        path.write_text(svg, encoding="utf-8")
        print(f"{path}  {len(svg):,} bytes")


if __name__ == "__main__":
    # python scripts/screenshots.py [OUT_DIR [SCENE...]]
    args = sys.argv[1:]
    asyncio.run(main(Path(args[0]) if args else Path("screenshots"), args[1:]))
