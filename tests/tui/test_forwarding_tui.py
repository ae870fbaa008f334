"""Forwarding in the monitor (`zoomtui --forward-to URL`): the real app against the fake
Zoom, forwarding to a real handler on 127.0.0.1 (tests/webhookkit.py) that checks every
request with Zoom's algorithm.  Each forwarded row shows its result, the inspector the
request and the answer, the panel the counts; a 500 and a dead handler are shown and
counted; `R` in the inspector delivers again, signed with a new timestamp."""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest

from tests.webhookkit import Handler, down_url
from zoomtui.fakezoom import FakeZoom
from zoomtui.forward import ForwardOptions, Routes
from zoomtui.forward.signing import content_bytes
from zoomtui.redaction import Secret
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.options import AppOptions, Clocks, ConnectionOptions
from zoomtui.tui.screens.inspector import InspectorScreen
from zoomtui.zoom.protocol import ZoomEvent
from zoomtui.zoom.updates import ConnectionState

SECRET = "handler-secret-token-0001"


def joined(i: int, name: str = "meeting.participant_joined") -> dict:
    return {
        "event": name,
        "event_ts": 1741960992000 + i,
        "payload": {
            "account_id": "acct-1",
            "object": {
                "id": "8574635241",
                "uuid": "uuid-a==",
                "topic": "Forwarding review",
                "participant": {"user_name": f"Person {i}", "user_id": f"u{i}"},
            },
        },
    }


def forwarding_app(fake: FakeZoom, routes: list[str], tui, clock: Callable[[], float]):
    options = ForwardOptions(Routes.parse(routes), Secret(SECRET), timeout=2.0)
    return ZoomtuiApp(
        AppOptions(
            fake.settings(heartbeat_interval=30),
            connection=ConnectionOptions(tui.FAST),
            clocks=Clocks(wall=clock),
            forward=options,
        )
    )


def events_of(app: ZoomtuiApp) -> list[ZoomEvent]:
    return [r for r in app.event_log if type(r) is ZoomEvent]


async def connected(app: ZoomtuiApp, pilot, tui) -> None:
    await tui.wait_until(pilot, lambda: app.status.state is ConnectionState.CONNECTED)


async def settled(app: ZoomtuiApp, pilot, tui, attempts: int) -> None:
    """Wait until `attempts` deliveries came back and the screen shows them: every row
    applied, the marks painted, and the panel's `fwd` figure as it now reads (the panel
    line is laid out again for its new width on a later screen update: read sooner, the
    screen shows the new figure cut to the old width, "fwd 2 ok 2" for "fwd 2 ok 2 failed")."""
    fwd = app.forwarding.forwarder
    assert fwd is not None
    await tui.wait_until(
        pilot, lambda: fwd.delivered + fwd.failed >= attempts, f"{attempts} deliveries"
    )
    await tui.wait_until(pilot, lambda: app.main.event_view.up_to_date, "the rows applied")
    await tui.wait_until(pilot, lambda: not app.forwarding._dirty, "the marks painted")
    # the figures' line sizes itself to its text: laid out again, it is as wide as that
    line = app.main.panel._metrics_line
    await tui.wait_until(
        pilot,
        lambda: line.region.width == line._zoomtui_shown[1],  # (show_text's size)
        "the panel's figures laid out for their new width",
    )


async def open_inspector_on(app: ZoomtuiApp, pilot, tui, event: ZoomEvent) -> InspectorScreen:
    assert app.main.event_view.select_row(event)
    await pilot.press("enter")
    await tui.wait_until(pilot, lambda: isinstance(app.screen, InspectorScreen), "inspector")
    screen = app.screen
    assert isinstance(screen, InspectorScreen)
    return screen


async def test_forwarded_rows_show_the_status_and_the_inspector_the_request_and_answer(
    fake: FakeZoom, tui
) -> None:
    clock = tui.FixedClock()
    async with Handler(SECRET) as handler:
        app = forwarding_app(fake, [handler.url("/ok")], tui, clock)
        async with app.run_test(size=(160, 48)) as pilot:
            await connected(app, pilot, tui)
            for i in range(3):
                await fake.inject(joined(i))
            got = await handler.wait_for(3)
            await settled(app, pilot, tui, 3)
            assert all(r.verified for r in got)  # Zoom's own check passes
            events = events_of(app)
            # (eight deliveries may be on their way at once: they arrive in any order)
            bodies = [content_bytes(e.stored_raw) for e in events]
            assert sorted(r.body for r in got) == sorted(bodies)
            text = tui.screen_text(app)
            assert text.count("→200") == 3 and "fwd" in text
            assert "fwd 3 ok" in text  # the panel's count

            screen = await open_inspector_on(app, pilot, tui, events[1])
            summary = str(screen.query_one("#inspector-summary").render())
            assert "200 in" in summary and handler.url("/ok") in summary
            await pilot.press("f")
            shown = screen.forward_text
            (sent,) = [r for r in got if r.body == bodies[1]]
            assert f"POST {handler.url('/ok')} · signed" in shown
            assert f"x-zm-signature: {sent.headers['x-zm-signature']}" in shown
            assert f"x-zm-request-timestamp: {int(clock.now)}" in shown
            assert "HTTP 200 in" in shown and "content-type: application/json" in shown
            assert '{"ok": true}' in shown  # the handler's body
            assert orjson.loads(sent.body)["payload"]["object"]["participant"]["user_name"] in (
                shown
            )
            assert SECRET not in shown and SECRET not in tui.screen_text(app)


async def test_a_failing_and_a_dead_handler_are_shown_and_counted(fake: FakeZoom, tui) -> None:
    async with Handler(SECRET) as handler:
        routes = [
            f"meeting.participant_left={handler.url('/fail')}",
            f"meeting.ended={down_url()}",
            handler.url("/ok"),
        ]
        app = forwarding_app(fake, routes, tui, tui.FixedClock())
        async with app.run_test(size=(160, 48)) as pilot:
            await connected(app, pilot, tui)
            await fake.inject(joined(0))
            await fake.inject(joined(1, "meeting.participant_left"))
            await fake.inject(joined(2, "meeting.ended"))
            await fake.inject(joined(3))
            await settled(app, pilot, tui, 4)
            text = tui.screen_text(app)
            assert text.count("→200") == 2 and "→500" in text and "→ERR" in text
            assert "fwd 2 ok 2 failed" in text
            fwd = app.forwarding.forwarder
            assert fwd is not None and (fwd.delivered, fwd.failed) == (2, 2)
            # the monitor went on: every event is in the log, in order
            assert [e.name for e in events_of(app)][-2:] == [
                "meeting.ended",
                "meeting.participant_joined",
            ]

            failing = events_of(app)[1]
            screen = await open_inspector_on(app, pilot, tui, failing)
            await pilot.press("f")
            assert "HTTP 500 in" in screen.forward_text
            assert '{"error": "handler failed"}' in screen.forward_text
            await pilot.press("escape")
            await tui.wait_until(pilot, lambda: app.screen is app.main)

            dead = events_of(app)[2]
            screen = await open_inspector_on(app, pilot, tui, dead)
            summary = str(screen.query_one("#inspector-summary").render())
            assert "cannot connect" in summary
            await pilot.press("f")
            assert "no answer: cannot connect" in screen.forward_text


async def test_a_handler_that_never_answers_is_shown_queued_then_full_and_the_log_goes_on(
    fake: FakeZoom, tui
) -> None:
    """One delivery at a time to a handler that holds every request: the first event is on
    its way, two wait, the rest find the queue full.  The rows and the panel say so (with
    how long the oldest has waited), every event is still in the log, and once the handler
    answers the waiting ones are delivered."""
    from tests.connhelpers import ShiftedClock

    async with Handler(SECRET) as handler:
        options = ForwardOptions(
            Routes.parse([handler.url("/hang")]),
            Secret(SECRET),
            timeout=60.0,
            queue_limit=2,
            concurrency=1,
        )
        app = ZoomtuiApp(
            AppOptions(
                fake.settings(heartbeat_interval=30),
                connection=ConnectionOptions(tui.FAST),
                clocks=Clocks(wall=tui.FixedClock()),
                forward=options,
            )
        )
        async with app.run_test(size=(160, 48)) as pilot:
            fwd = app.forwarding.forwarder
            assert fwd is not None
            # the queue's waits, moved by the test alone: on a real clock "oldest 12s" would
            # read 13s, 14s, ... if the panel painted late on a busy machine
            still = fwd.clock()
            waited = ShiftedClock(lambda: still)
            fwd.clock = waited
            await connected(app, pilot, tui)
            await fake.inject(joined(0))
            await handler.wait_for(1)  # on its way, held by the handler
            for i in range(1, 6):
                await fake.inject(joined(i))
            await tui.wait_until(pilot, lambda: len(events_of(app)) == 6, "six events logged")
            await tui.wait_until(pilot, lambda: fwd.dropped == 3, "three dropped")
            waited.advance(12)  # the oldest queued event has now waited 12 s
            app.forwarding._dirty = True

            def shows_the_queue() -> bool:
                # the panel and the rows' marks are painted on turns of their own (the marks
                # on a repaint timer): one read must find both, or it sees one of them late
                text = tui.screen_text(app)
                return (
                    "fwd 0 ok 3 queued oldest 12s 3 dropped" in text
                    and text.count("→…") == 3
                    and text.count("→full") == 3
                )

            await tui.wait_until(pilot, shows_the_queue, "the panel and the rows' marks")
            text = tui.screen_text(app)
            assert text.count("→…") == 3 and text.count("→full") == 3
            assert fwd.stats().in_flight == 1 and fwd.stats().queued == 2

            handler.release()
            await settled(app, pilot, tui, 3)
            text = tui.screen_text(app)
            assert text.count("→200") == 3 and text.count("→full") == 3
            assert "fwd 3 ok 3 dropped" in text and "oldest" not in text
            assert all(r.verified for r in await handler.wait_for(3))


async def test_resend_from_the_inspector_delivers_again_with_a_new_timestamp(
    fake: FakeZoom, tui
) -> None:
    clock = tui.FixedClock()
    async with Handler(SECRET) as handler:
        app = forwarding_app(fake, [handler.url("/ok")], tui, clock)
        async with app.run_test(size=(160, 48)) as pilot:
            await connected(app, pilot, tui)
            await fake.inject(joined(0))
            first = (await handler.wait_for(1))[0]
            await settled(app, pilot, tui, 1)
            event = events_of(app)[0]
            screen = await open_inspector_on(app, pilot, tui, event)

            clock.advance(90)  # a resend is signed with the time it is sent
            await pilot.press("R")
            assert app.forwarding.sent_count(event) == 2  # queued again at once
            got = await handler.wait_for(2)
            await settled(app, pilot, tui, 2)
            again = got[1]
            assert again.verified and again.body == first.body
            assert again.timestamp == first.timestamp + 90
            assert again.headers["x-zm-signature"] != first.headers["x-zm-signature"]
            assert again.headers["x-zm-request-id"] != first.headers["x-zm-request-id"]
            # the inspector took in the new delivery by itself
            await tui.wait_until(
                pilot,
                lambda: "sent 2 times" in str(screen.query_one("#inspector-summary").render()),
            )
            await pilot.press("f")
            assert f"x-zm-request-timestamp: {again.timestamp}" in screen.forward_text


async def test_without_forwarding_nothing_changes(fake: FakeZoom, tui) -> None:
    app = ZoomtuiApp(
        AppOptions(fake.settings(heartbeat_interval=30), connection=ConnectionOptions(tui.FAST))
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await connected(app, pilot, tui)
        await fake.inject(joined(0))
        await tui.wait_until(pilot, lambda: len(events_of(app)) == 1)
        await tui.wait_until(pilot, lambda: app.main.event_view.up_to_date)
        text = tui.screen_text(app)
        assert " fwd" not in text and "→" not in text
        assert not app.forwarding.enabled and app.main.event_view.row_mark is None


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_marks_keep_the_narrow_columns(fake: FakeZoom, tui, size) -> None:
    async with Handler(SECRET) as handler:
        app = forwarding_app(fake, [handler.url("/ok")], tui, tui.FixedClock())
        async with app.run_test(size=size) as pilot:
            await connected(app, pilot, tui)
            await fake.inject(joined(0))
            await settled(app, pilot, tui, 1)
            lines = [line for line in tui.screen_text(app).splitlines() if "→200" in line]
            assert len(lines) == 1
            line = lines[0]
            assert "participant_joined" in line  # the name keeps what happened
            assert len(line.rstrip()) <= size[0]


@pytest.mark.parametrize("command", ["run", "demo"])
def test_forward_to_follows_forwards_rules_before_the_monitor_opens(command: str) -> None:
    """The transport rule, --unsigned only with --forward-to, and no secret token without
    --unsigned: each refused with exit code 3 and said, before any screen opens."""
    from click.testing import CliRunner

    from zoomtui.cli import main

    def run(*args: str) -> tuple[int, str]:
        env = {"ZOOM_WEBHOOK_SECRET_TOKEN": ""}
        result = CliRunner().invoke(main, [command, *args], env=env, catch_exceptions=False)
        return result.exit_code, result.output

    code, out = run("--forward-to", "http://example.com/zoom")
    assert code == 3 and "non-loopback host" in out
    code, out = run("--unsigned")
    assert code == 3 and "--unsigned is for --forward-to" in out
    code, out = run("--forward-to", "http://127.0.0.1:3000/zoom")
    assert code == 3 and "webhook secret token" in out.lower() and "--unsigned" in out
