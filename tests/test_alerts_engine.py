"""Each alert condition against the fake Zoom and its fault injection: it fires once,
a flood (or a flapping link) is one alert with a count, and it clears saying so.

The engine's clock is the real one plus what a test says has passed (`ShiftedClock`):
the time-based conditions are driven by moving it and calling `tick`, never by waiting.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from tests.connhelpers import CALM_HB, HB, Recorder, ShiftedClock, meeting_event
from zoomtui.alerts.alert import Alert
from zoomtui.alerts.engine import AlertEngine
from zoomtui.alerts.rules import parse_rules
from zoomtui.fakezoom import FakeZoom
from zoomtui.monitor.session import MonitorSession
from zoomtui.zoom.connection import ZoomConnection
from zoomtui.zoom.protocol import ZoomEvent
from zoomtui.zoom.updates import ConnectionState, Gap, Heartbeat, StateChanged

FAST = {"backoff_base": 0.01, "backoff_cap": 0.05, "open_timeout": 5.0}


@dataclass
class Watch:
    fake: FakeZoom
    rec: Recorder
    engine: AlertEngine
    alerts: list[Alert]
    clock: ShiftedClock

    def fired(self) -> list[Alert]:
        return [a for a in self.alerts if a.state == "firing"]

    def cleared(self) -> list[Alert]:
        return [a for a in self.alerts if a.state == "cleared"]

    def later(self, seconds: float) -> None:
        """`seconds` pass for the engine, and it looks at the time."""
        self.clock.advance(seconds)
        self.engine.tick()

    async def events(self, n: int) -> None:
        await self.rec.wait_for(lambda items: len(self.rec.events) >= n, f"{n} events")


def _rules(body: str):
    text = f'[profiles.default]\n\n[[profiles.default.alerts]]\nname = "r"\n{body}\n'
    return parse_rules(text, Path("config.toml"), "default").rules


@contextlib.asynccontextmanager
async def watching(rule: str, hb: float = CALM_HB, **fake: object) -> AsyncIterator[Watch]:
    clock = ShiftedClock(time.time)
    engine = AlertEngine(_rules(rule), clock=clock)
    alerts: list[Alert] = []
    engine.listen(alerts.append)
    session = MonitorSession(clock=clock)
    session.subscribe(engine)
    async with FakeZoom(**fake) as f:  # type: ignore[arg-type]
        conn = ZoomConnection(f.settings(heartbeat_interval=hb), **FAST)  # type: ignore[arg-type]
        rec = Recorder(conn, sink=session.receive)
        await rec.wait_state(ConnectionState.CONNECTED)
        try:
            yield Watch(f, rec, engine, alerts, clock)
        finally:
            await rec.close()


def _joined(i: int, email: str = "someone@example.com") -> dict:
    event = meeting_event(i)
    event["payload"]["object"]["participant"]["email"] = email
    event["event_ts"] = int(time.time() * 1000)
    return event


async def test_an_event_rule_fires_once_groups_a_flood_and_clears() -> None:
    rule = 'event = "type:meeting.participant_joined user:ceo@example.com"\ncooldown = "5m"'
    async with watching(rule) as w:
        await w.fake.inject(_joined(1))  # not the VIP
        await w.fake.inject(_joined(2, "ceo@example.com"))
        await w.events(2)
        assert len(w.fired()) == 1 and w.fired()[0].count == 1
        assert isinstance(w.fired()[0].event, ZoomEvent)
        assert "Ana 2" in w.fired()[0].message
        for i in range(300):
            await w.fake.inject(_joined(100 + i, "ceo@example.com"))
        await w.events(302)
        w.later(60)  # within the cooldown: nothing new
        assert len(w.alerts) == 1
        w.later(300)  # five quiet minutes: the alert clears with its count
        (cleared,) = w.cleared()
        assert cleared.id == w.fired()[0].id and cleared.count == 301 and cleared.notify
        assert "301 matching events" in cleared.message
        w.later(600)
        assert len(w.alerts) == 2  # cleared once
        await w.fake.inject(_joined(999, "ceo@example.com"))
        await w.events(303)
        assert len(w.fired()) == 2  # and fires again after


async def test_one_event_clears_quietly_there_is_no_news() -> None:
    async with watching('event = "type:meeting.participant_joined"\ncooldown = 60') as w:
        await w.fake.inject(_joined(1))
        await w.events(1)
        w.later(61)
        assert [a.state for a in w.alerts] == ["firing", "cleared"]
        assert not w.alerts[1].notify  # recorded, not sent to the rule's actions


async def test_late_events_fire_once_and_clear_when_on_time_again() -> None:
    async with watching('lag_above = "30s"\ncooldown = "2m"') as w:
        await w.fake.inject(_joined(1))  # on time
        await w.events(1)
        assert not w.alerts
        late = int((time.time() - 3600) * 1000)
        for i in range(50):
            await w.fake.inject(_joined(10 + i) | {"event_ts": late})
        await w.events(51)
        (fired,) = w.fired()
        assert "after Zoom stamped it" in fired.message and "1 h" in fired.message
        w.later(121)
        (cleared,) = w.cleared()
        assert cleared.count == 50 and "events on time again (50 late)" in cleared.message


async def test_the_same_event_twice_within_the_window_is_a_duplicate() -> None:
    async with watching('duplicate_within = "1m"\ncooldown = "1m"') as w:
        event = _joined(1)
        await w.fake.inject(event)
        await w.fake.inject(_joined(2))
        await w.events(2)
        assert not w.alerts
        for _ in range(20):
            await w.fake.inject(event)
        await w.events(22)
        (fired,) = w.fired()
        assert "received again" in fired.message
        w.later(61)
        assert w.cleared()[0].count == 20


async def test_a_gap_fires_with_its_length_and_groups_the_next_ones() -> None:
    async with watching('gap_longer_than = 0\ncooldown = "1m"') as w:
        await w.fake.cut()
        await w.rec.wait_for(lambda items: len(w.rec.gaps) >= 1, "a gap")
        (fired,) = w.fired()
        assert fired.message.startswith("gap of ") and fired.gap is not None
        await w.rec.wait_state(ConnectionState.CONNECTED, 2)
        await w.fake.cut()
        await w.rec.wait_for(lambda items: len(w.rec.gaps) >= 2, "a second gap")
        assert len(w.fired()) == 1
        w.later(61)
        assert w.cleared()[0].count == 2


async def test_link_down_fires_after_its_time_and_clears_with_the_gap() -> None:
    async with watching('disconnected_for = "2m"\ncooldown = "10m"', seed=1) as w:
        w.later(300)  # connected: no alert however long
        assert not w.alerts
        await w.fake.stop()
        await w.rec.wait_state(ConnectionState.RECONNECTING)
        w.later(60)
        assert not w.alerts  # down, but not for long enough
        w.later(61)
        (fired,) = w.fired()
        assert fired.message.startswith("link down for 2 min")  # and a second or two
        w.later(60)
        assert len(w.alerts) == 1  # once
        await w.fake.start()
        w.rec.conn.request_reconnect()
        await w.rec.wait_for(lambda items: len(w.rec.gaps) >= 1, "the gap")
        (cleared,) = w.cleared()
        assert (
            cleared.message.startswith("link back after 3 min")
            and "gap recorded" in cleared.message
        )
        # it flaps: down again within the cooldown is held, then sent once if it holds
        await w.fake.stop()
        await w.rec.wait_state(ConnectionState.RECONNECTING, 2)
        w.later(130)
        assert len(w.fired()) == 1
        w.later(500)
        assert len(w.fired()) == 2
        assert "came back 1 time in the cooldown" in w.fired()[1].message


async def test_a_late_heartbeat_answer_fires_and_the_next_answer_clears_it() -> None:
    async with watching('heartbeat_older_than = "90s"', hb=HB) as w:
        w.later(91)
        (fired,) = w.fired()
        assert fired.message.startswith("no heartbeat answer for")
        w.later(30)
        assert len(w.alerts) == 1
        await w.rec.wait_for(lambda items: w.cleared(), "an answer to clear it")
        assert "heartbeat answered again after" in w.cleared()[0].message
        assert any(isinstance(u, Heartbeat) for u in w.rec.items)


async def test_a_reconnect_storm_fires_and_calms() -> None:
    async with watching('reconnects = 2\nwithin = "10m"\ncooldown = 0') as w:
        for n in (2, 3, 4):
            await w.fake.cut()
            await w.rec.wait_state(ConnectionState.CONNECTED, n)
        (fired,) = w.fired()
        assert fired.message == "3 reconnects within 10 min"
        w.later(601)
        assert "reconnects calmed: 0 in the last 10 min" in w.cleared()[0].message


async def test_displaced_fires_and_taking_the_subscription_back_clears() -> None:
    async with watching("displaced = true") as w:
        consumer = await w.fake.start_consumer()
        await w.rec.wait_state(ConnectionState.DISPLACED)
        (fired,) = w.fired()
        assert fired.message.startswith("another consumer took the subscription")
        await consumer.stop()
        w.later(30)
        w.rec.conn.request_connect()
        await w.rec.wait_state(ConnectionState.CONNECTED, 2)
        (cleared,) = w.cleared()
        assert cleared.message.startswith(
            "subscription taken back after 3"
        )  # 30 s and the reconnect


async def test_silence_fires_after_its_time_and_the_next_event_clears_it() -> None:
    async with watching('silent_for = "10m"') as w:
        w.later(599)
        assert not w.alerts
        w.later(2)
        (fired,) = w.fired()
        assert fired.message.startswith("no events for 10 min")
        w.later(100)
        assert len(w.alerts) == 1
        await w.fake.inject(_joined(1))
        await w.events(1)
        assert w.cleared()[0].message.startswith("events again after 11 min 4")


def test_a_failing_listener_never_breaks_the_session() -> None:
    engine = AlertEngine(_rules("gap_longer_than = 0"))
    engine.listen(lambda alert: 1 / 0)
    seen: list[Alert] = []
    engine.listen(seen.append)
    session = MonitorSession()
    session.subscribe(engine)
    session.receive(Gap(1.0, 2.0, "cut"))
    session.receive(Gap(3.0, 4.0, "cut"))
    assert len(seen) == 1 and engine.listener_errors == 1 and not session.sink_errors
    assert engine.fired == {"r": 1}


def test_a_monitor_that_has_not_started_connecting_is_not_down_nor_silent() -> None:
    """The first-run form may stay open for long: nothing to alert about before a source
    starts; once it starts, the time counts from its first attempt."""
    clock = ShiftedClock(time.time)
    for rule in ('disconnected_for = "1m"', 'silent_for = "1m"'):
        engine = AlertEngine(_rules(rule), clock=clock)
        alerts: list[Alert] = []
        engine.listen(alerts.append)
        clock.advance(3600)
        engine.tick()
        assert not alerts
        engine.on_state(
            StateChanged(ConnectionState.AUTHENTICATING, ConnectionState.IDLE, "", 0), True
        )
        clock.advance(61)
        engine.tick()
        assert [a.state for a in alerts] == ["firing"], rule


def test_a_displacement_tug_of_war_is_one_alert_then_one_saying_how_often() -> None:
    """Two consumers taking the subscription from each other: the first displacement is
    sent, the ones within the cooldown after it cleared are held and counted, and one alert
    says so when the cooldown ends with the link still taken; nothing else is sent."""
    clock = ShiftedClock(time.time)
    engine = AlertEngine(_rules('displaced = true\ncooldown = "10m"'), clock=clock)
    alerts: list[Alert] = []
    engine.listen(alerts.append)
    session = MonitorSession(clock=clock)
    session.subscribe(engine)
    s = ConnectionState

    def to(state: ConnectionState, previous: ConnectionState) -> None:
        session.receive(StateChanged(state, previous, "another consumer", clock()))

    to(s.CONNECTED, s.AUTHENTICATING)
    for _ in range(4):  # taken, taken back, four times over two minutes
        to(s.DISPLACED, s.CONNECTED)
        clock.advance(15)
        engine.tick()
        to(s.CONNECTED, s.DISPLACED)
        clock.advance(15)
        engine.tick()
    to(s.DISPLACED, s.CONNECTED)
    sent = [a for a in alerts if a.notify]
    assert [a.state for a in sent] == ["firing", "cleared"]
    clock.advance(600)
    engine.tick()
    sent = [a for a in alerts if a.notify]
    assert [a.state for a in sent] == ["firing", "cleared", "firing"]
    assert "came back 4 times in the cooldown" in sent[-1].message
    assert engine.fired == {"r": 2}
