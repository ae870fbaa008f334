"""The fault matrix: every fault the fake Zoom can play, against the real connection engine
feeding a real archive (SQLite in tmp_path), with a steady stream of events throughout.

For each fault: the states and reasons a user is shown, recovery within the designed
backoff (bounds from the settings in `faultkit`, never from this machine's speed), every
event sent on our connections received once and archived once, one gap per outage, and
no exception escaping anywhere.  Then the real TUI under Pilot for the three commonest
faults.

`ZOOMTUI_FAULT_REPORT=<file>` writes what each fault measured (for RELIABILITY.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import pytest
from textual.message import Message
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.connhelpers import HB, MaxRandom, content_of, meeting_event
from tests.reliability.faultkit import (
    BASE,
    DEAD_LINK_BOUND,
    OPEN_TIMEOUT,
    TOKEN_TIMEOUT,
    Rig,
    assert_exactly_once,
    assert_gaps_match_outages,
    lit,
    outages,
    render,
    step,
)
from tests.tui.conftest import CALM_HB, FAST, screen_shows, wait_until
from tests.waits import awaited
from zoomtui.fakezoom import MALFORMED_KINDS, FakeZoom
from zoomtui.monitor.archive import ArchiveReader, archive_path
from zoomtui.monitor.eventlog import GapRow, StateRow
from zoomtui.monitor.recording import ArchivePlan
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.messages import StateUpdated
from zoomtui.tui.options import AppOptions, Clocks, ConnectionOptions
from zoomtui.zoom.protocol import MalformedFrame, ZoomEvent
from zoomtui.zoom.updates import ConnectionState as S
from zoomtui.zoom.updates import Heartbeat

# -- expected lines (reasons are regexes; <oauth> and <ws> are the fake's host:port) ----------
REUSE = step(S.AUTHENTICATING, r"reusing the access token \(expires in \d+ min\)")
NEW_TOKEN = step(
    S.AUTHENTICATING,
    lit("getting a new access token from <oauth> (Zoom said the old one is invalid)"),
)
OPEN = step(S.CONNECTING, lit("opening the WebSocket to <ws>"))
BACK = step(S.CONNECTED, lit("reconnected: build_connection accepted"))
CLOSED = step(S.STOPPED, "closed")  # the test's own close() at the end


def invalid(wording: str) -> str:
    return step(
        S.RECONNECTING,
        lit(f'Zoom says the access token is invalid ("{wording}"); getting a new one'),
        0,
    )


@dataclass(frozen=True)
class Fault:
    name: str
    play: Callable[[Rig], Awaitable[object]]
    #: regex for the state lines after the fault (see faultkit.render)
    expect: str
    #: statuses of the fake's token requests, in order (None: not checked)
    tokens: tuple[int, ...] | None = (200,)
    settings: dict = field(default_factory=dict)
    #: the fake is down before the connection starts (nothing to reconnect: no gap)
    down_at_start: bool = False
    malformed: int = 0
    outages: int = 1


# -- the faults -------------------------------------------------------------------------
async def tcp_cut(rig: Rig) -> None:
    await rig.traffic.pause()  # what is in flight when TCP goes is lost on the wire
    await rig.caught_up()
    await rig.fake.cut()
    rig.traffic.resume()


async def silence(rig: Rig) -> None:
    rig.fake.go_silent()


async def token_expiry(rig: Rig) -> None:
    rig.fake.expire_tokens()  # the fake says so at the next heartbeat


def token_endpoint(kind: str, **options: float) -> Callable[[Rig], Awaitable[object]]:
    """A fault of the token endpoint, met when Zoom next invalidates the token."""

    async def play(rig: Rig) -> None:
        rig.fake.oauth_fault(kind, **options)
        await rig.fake.send_invalid_token()

    return play


async def displaced(rig: Rig) -> None:
    # a heartbeat answered: a healthy link (none is late at Zoom's interval), then another
    # consumer
    await rig.rec.wait_for(lambda items: rig.rec.of(Heartbeat), "a heartbeat answered")
    n = len(rig.fake.accepted_connections)
    intruder = await connect(rig.fake.ws_url_for(rig.fake.issue_token()))
    rig.foreign.add((await rig.fake.wait_for_connection(n + 1)).id)

    async def drain() -> None:  # read what it is sent, so the fake never waits on it
        with contextlib.suppress(ConnectionClosed):
            async for _ in intruder:
                pass

    task = asyncio.create_task(drain())
    rig.cleanup.append(intruder.close)
    rig.cleanup.append(lambda: awaited(task, "the intruder's reader to end"))


async def malformed(rig: Rig) -> None:
    for kind in MALFORMED_KINDS:
        await rig.fake.send_malformed(kind=kind)


async def oversize(rig: Rig) -> None:
    await rig.traffic.pause()  # frames behind it are dropped with the connection
    await rig.caught_up()
    fc = await rig.fake.send_malformed(kind="oversize", size=200_000)
    await fc.wait_closed()
    rig.traffic.resume()


async def restart(rig: Rig) -> None:
    mark = len(rig.rec.states)
    await rig.fake.stop()  # 1001 to every client; then nothing listens on either port
    await rig.count_states(S.RECONNECTING, 3, mark)
    await rig.fake.start()  # the same ports


async def come_up(rig: Rig) -> None:
    await rig.count_states(S.RECONNECTING, 3, 0)
    await rig.fake.start()


REFUSED = "could not connect to <ws>: .+"

FAULTS = [
    Fault(
        "close 1011",
        lambda rig: rig.fake.close(code=1011, reason="maintenance"),
        step(S.RECONNECTING, lit("server closed the connection (1011: maintenance)"), BASE)
        + REUSE
        + OPEN
        + BACK,
    ),
    Fault(
        "TCP cut",
        tcp_cut,
        step(S.RECONNECTING, lit("connection lost without a close frame (1006)"), BASE)
        + REUSE
        + OPEN
        + BACK,
    ),
    Fault(
        "silence",
        silence,
        step(S.RECONNECTING, r"no frame from Zoom for [\d.]+ s", BASE) + REUSE + OPEN + BACK,
        settings={"heartbeat_interval": HB},
    ),
    Fault(
        "invalid-token frame",
        lambda rig: rig.fake.send_invalid_token(wording="Token is invalid"),
        invalid("Token is invalid") + NEW_TOKEN + OPEN + BACK,
        tokens=(200, 200),
    ),
    Fault(
        "token expiry",
        token_expiry,
        invalid("Invalid Token") + NEW_TOKEN + OPEN + BACK,
        tokens=(200, 200),
        settings={"heartbeat_interval": HB},  # the fake says so at the next heartbeat
    ),
    Fault(
        "token endpoint 429",
        token_endpoint("429", retry_after=1),
        invalid("Invalid Token")
        + NEW_TOKEN
        + step(
            S.RECONNECTING,
            lit(
                "Zoom's token endpoint is rate limiting us (429: rate_limited, "
                "Too many requests. Please try again later.); retrying in 1 s."
            ),
            1,
        )
        + NEW_TOKEN
        + OPEN
        + BACK,
        tokens=(200, 429, 200),
    ),
    Fault(
        "token endpoint 500",
        token_endpoint("500"),
        invalid("Invalid Token")
        + NEW_TOKEN
        + step(
            S.RECONNECTING,
            lit(
                "Zoom's token endpoint answered HTTP 500: server_error, Internal Error; will retry."
            ),
            BASE,
        )
        + NEW_TOKEN
        + OPEN
        + BACK,
        tokens=(200, 500, 200),
    ),
    Fault(
        "slow token endpoint",
        token_endpoint("slow", delay=TOKEN_TIMEOUT / 2),
        invalid("Invalid Token") + NEW_TOKEN + OPEN + BACK,
        tokens=(200, 200),
    ),
    Fault(
        "token endpoint past its timeout",
        token_endpoint("slow", delay=TOKEN_TIMEOUT + 1),
        invalid("Invalid Token")
        + NEW_TOKEN
        + step(
            S.RECONNECTING,
            lit(f"The token request to <oauth> timed out after {TOKEN_TIMEOUT:g} s."),
            BASE,
        )
        + NEW_TOKEN
        + OPEN
        + BACK,
        tokens=None,
    ),
    Fault(
        "displaced by a second connection (on_displaced = retake)",
        displaced,
        step(
            S.RECONNECTING,
            lit(
                "server closed the connection (1000: replaced by a newer "
                "connection on this subscription); possibly displaced by "
                "another connection on this subscription"
            ),
            BASE,
        )
        + REUSE
        + OPEN
        + BACK,
        # the default (wait for a person) is tests/test_displacement.py's: no recovery here
        settings={"on_displaced": "retake"},
    ),
    Fault("malformed frames", malformed, "", malformed=len(MALFORMED_KINDS), outages=0),
    Fault(
        "frame over the size limit",
        oversize,
        step(
            S.RECONNECTING,
            lit(f"Zoom sent a frame over {10_000 * 4 + 65536:,} bytes; reconnecting"),
            BASE,
        )
        + REUSE
        + OPEN
        + BACK,
        settings={"max_frame_bytes": 10_000},
        malformed=1,
    ),
    Fault(
        "server down at start",
        come_up,
        step(S.AUTHENTICATING, lit("getting an access token from <oauth>"))
        + (
            step(S.RECONNECTING, "Could not reach the token endpoint <oauth>: .+", BASE)
            + step(S.AUTHENTICATING, lit("getting an access token from <oauth>"))
            + step(S.RECONNECTING, "Could not reach the token endpoint <oauth>: .+", 2 * BASE)
            + step(S.AUTHENTICATING, lit("getting an access token from <oauth>"))
            + step(S.RECONNECTING, "Could not reach the token endpoint <oauth>: .+", 4 * BASE)
            + step(S.AUTHENTICATING, lit("getting an access token from <oauth>"))
        )
        + OPEN
        + step(S.CONNECTED, r"build_connection accepted \(subscription dem…01\)"),
        down_at_start=True,
        outages=0,
    ),
    Fault(
        "server restart on the same port",
        restart,
        step(S.RECONNECTING, lit("server closed the connection (1001)"), BASE)
        + REUSE
        + OPEN
        + step(S.RECONNECTING, REFUSED, 2 * BASE)
        + REUSE
        + OPEN
        + step(S.RECONNECTING, REFUSED, 4 * BASE)
        + REUSE
        + OPEN
        + BACK,
    ),
]

#: what each fault measured, for RELIABILITY.md (written when ZOOMTUI_FAULT_REPORT is set)
MEASURED: list[dict] = []


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    path = os.environ.get("ZOOMTUI_FAULT_REPORT")
    if path and MEASURED:
        with open(path, "w") as f:
            json.dump(MEASURED, f, indent=1)


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
async def test_fault(fault: Fault, tmp_path, loop_errors, caplog) -> None:
    async with FakeZoom() as fake:
        rig = Rig(fake, tmp_path, settings_changes=fault.settings)
        if fault.down_at_start:
            await fake.stop()  # the ports stay known: it comes back on the same ones
            rig.start()
            mark = 0
        else:
            rig.start()
            await rig.rec.wait_state(S.CONNECTED)
            await rig.caught_up(more=20)
            mark = len(rig.rec.states)
        await fault.play(rig)
        await rig.rec.wait_for(
            lambda _: (
                sum(s.state is S.CONNECTED for s in rig.rec.states[mark:])
                >= max(fault.outages, 1 if fault.down_at_start else 0)
                and len(rig.rec.of(MalformedFrame)) >= fault.malformed
            )
        )
        await rig.caught_up(more=20)  # the stream goes on after the fault
        await rig.finish()

        shown = render(rig.rec.states[mark:])
        matched = re.fullmatch(rig.hosts(fault.expect + CLOSED), shown) is not None
        assert matched, "the states shown were:\n" + shown
        if fault.tokens is not None:
            assert tuple(r.status for r in fake.token_requests) == fault.tokens

    found = outages(rig.rec.states)
    assert len(found) == fault.outages
    for outage in found:  # the waits really happen, and nothing takes longer than designed
        assert outage.waited * 0.98 <= outage.seconds <= outage.bound, render(outage.states)
    assert_gaps_match_outages(rig, found)
    assert_exactly_once(rig)
    assert len(rig.rec.of(MalformedFrame)) == fault.malformed
    if fault.name == "silence":  # the gap starts at the last frame, the drop 1.5 intervals on
        gap, drop = rig.rec.gaps[0], found[0].states[0]
        assert DEAD_LINK_BOUND * 0.6 <= drop.at - gap.start <= DEAD_LINK_BOUND
    if fault.name == "token endpoint 429":  # Retry-After honoured
        first, second = fake.token_requests[1:]
        assert second.time - first.time >= 1.0
    # nothing escaped: the loop ended by close(), no unhandled task error, nothing logged as one
    assert rig.rec.task.done() and rig.rec.task.exception() is None
    assert loop_errors == []
    assert not [
        r
        for r in caplog.records
        if r.levelname in ("ERROR", "CRITICAL") or "receive loop error" in r.getMessage()
    ]
    MEASURED.append(
        {
            "fault": fault.name,
            "states": [s.state.value for s in rig.rec.states[mark:]],
            "reason": next(
                (s.reason for s in rig.rec.states[mark:] if s.state is S.RECONNECTING), ""
            ),
            "outage_s": [round(o.seconds, 3) for o in found],
            "backoff_s": [round(o.waited, 3) for o in found],
            "bound_s": [round(o.bound, 3) for o in found],
            "events": len(rig.rec.events),
            "gap_s": [round(g.seconds, 3) for g in rig.rec.gaps],
            "malformed": len(rig.rec.of(MalformedFrame)),
            "first_connect_s": (
                round(rig.rec.states[-2].at - rig.rec.states[0].at, 3)
                if fault.down_at_start
                else None
            ),
        }
    )


# -- the real TUI through the three commonest faults -----------------------------------------
TUI_FAULTS = {
    "TCP cut": (lambda fake: fake.cut(), "connection lost without a close frame (1006)"),
    "server close": (
        lambda fake: fake.close(code=1011, reason="maintenance"),
        "server closed the connection (1011: maintenance)",
    ),
    "invalid token": (
        lambda fake: fake.send_invalid_token(),
        'Zoom says the access token is invalid ("Invalid Token"); getting a new one',
    ),
}


@pytest.mark.parametrize("name", list(TUI_FAULTS))
async def test_tui_through_fault(name: str, tmp_path, loop_errors) -> None:
    play, reason = TUI_FAULTS[name]
    seen: list[StateUpdated] = []

    def hook(message: Message) -> None:
        if isinstance(message, StateUpdated):
            seen.append(message)

    async with FakeZoom() as fake:
        options = AppOptions(
            fake.settings(heartbeat_interval=CALM_HB),
            clocks=Clocks(rng=MaxRandom()),
            connection=ConnectionOptions({**FAST, "open_timeout": OPEN_TIMEOUT}),
            archive=ArchivePlan(base=tmp_path, history=None, options={"flush_interval": 0.02}),
        )
        app = ZoomtuiApp(options)
        async with app.run_test(size=(160, 40), message_hook=hook) as pilot:
            await wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
            for i in range(5):
                await fake.inject(meeting_event(i))
            await wait_until(pilot, lambda: app.status.events == 5, what="five events")
            mark = len(seen)
            await play(fake)
            await wait_until(
                pilot,
                lambda: app.status.reconnects == 1 and app.status.state is S.CONNECTED,
                what="reconnected",
            )
            for i in range(5, 10):
                await fake.inject(meeting_event(i))
            await wait_until(pilot, lambda: app.status.events == 10, what="ten events")
            app.panel.refresh_status()
            # the log's rows are painted by a repaint timer of their own: wait for one screen
            # that shows the reconnecting line and the panel's counts
            text = await screen_shows(
                pilot, app, reason[:60], "reconnects 1", "gaps 1", what="the line and the counts"
            )

            changes = [m.change for m in seen[mark:]]
            assert [c.state for c in changes] == [
                S.RECONNECTING,
                S.AUTHENTICATING,
                S.CONNECTING,
                S.CONNECTED,
            ]
            assert changes[0].reason == reason
            assert changes[0].retry_in == (0 if name == "invalid token" else FAST["backoff_base"])
            assert reason[:60] in text  # the reconnecting line in the log says why (cut to fit)
            assert "reconnects 1" in text and "gaps 1" in text
            rows = list(app.event_log)
            sent = [c for fc in fake.accepted_connections for c in fc.sent_events]
            assert [content_of(r) for r in rows if isinstance(r, ZoomEvent)] == sent
            gaps = [r for r in rows if isinstance(r, GapRow)]
            assert len(gaps) == 1 and gaps[0].reason == reason
            assert [(r.state, r.reason) for r in rows if isinstance(r, StateRow)][1:] == [
                ("reconnecting", reason),
                ("connected", "reconnected: build_connection accepted"),
            ]
            assert app._exception is None
    # what the app archived (closed when it quit): the same events, once each, and the gap
    archived = ArchiveReader(archive_path(fake.settings().profile, base=tmp_path))
    assert [content_of(e) for e in archived.iter_events()] == sent
    assert [g.reason for g in (r.update for r in archived.iter_records(kinds=("gap",)))] == [reason]
    assert loop_errors == []
