"""The session in Prometheus' terms (`zoomtui watch --metrics 127.0.0.1:9464`).

A `SessionSink` with its own registry (two sinks never share counters):

    zoomtui_events_total{family}            events received, by family (meeting, user, ...)
    zoomtui_malformed_frames_total          frames that could not be understood
    zoomtui_connection_state{state}         1 for the link's current state, 0 for the others
    zoomtui_connected                       1 while connected
    zoomtui_gaps_total                      closed intervals with no connection
    zoomtui_gap_seconds_total               their length, added up
    zoomtui_reconnects_total                connections made after the first
    zoomtui_heartbeat_rtt_seconds           histogram of heartbeat round trips
    zoomtui_event_lag_seconds               histogram of receive time minus event_ts
    zoomtui_alerts_fired_total{rule}        alerts fired, per rule
    zoomtui_alerts_open{rule}               alerts open now (their condition holds), per rule

`prometheus_client` is imported only here (the `metrics` extra).  Zoom's event names are
hostile: the family label is cut to a bounded set (`MAX_FAMILIES`, then "other").
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from zoomtui.alerts.alert import Alert
from zoomtui.monitor.session import SessionSink
from zoomtui.zoom.protocol import MalformedFrame, ZoomEvent, family_of
from zoomtui.zoom.updates import ConnectionState, Gap, Heartbeat, StateChanged

MAX_FAMILIES = 64
MAX_FAMILY_CHARS = 40
RTT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: lag: Zoom's own delivery is usually well under a second; hours happen
LAG_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)


def _family_label(name: str) -> str:
    family = family_of(name)
    ok = family and len(family) <= MAX_FAMILY_CHARS and family.replace("_", "").isalnum()
    return family if ok and family.isascii() else "other"


class MetricsSink(SessionSink):
    """Counts what the session applies into a registry of its own (`self.registry`)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._events = Counter(
            "zoomtui_events", "Events received, by family", ["family"], registry=r
        )
        self._malformed = Counter("zoomtui_malformed_frames", "Frames not understood", registry=r)
        self._state = Gauge(
            "zoomtui_connection_state", "1 for the link's current state", ["state"], registry=r
        )
        self._connected = Gauge("zoomtui_connected", "1 while connected", registry=r)
        self._gaps = Counter("zoomtui_gaps", "Intervals with no connection", registry=r)
        self._gap_seconds = Counter("zoomtui_gap_seconds", "Seconds with no connection", registry=r)
        self._reconnects = Counter("zoomtui_reconnects", "Connections after the first", registry=r)
        self._rtt = Histogram(
            "zoomtui_heartbeat_rtt_seconds", "Heartbeat round trip", buckets=RTT_BUCKETS, registry=r
        )
        self._lag = Histogram(
            "zoomtui_event_lag_seconds",
            "Receive time minus event_ts",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self._alerts = Counter(
            "zoomtui_alerts_fired", "Alerts fired, per rule", ["rule"], registry=r
        )
        self._open = Gauge(
            "zoomtui_alerts_open",
            "Alerts open now (their condition holds), per rule",
            ["rule"],
            registry=r,
        )
        for state in ConnectionState:
            self._state.labels(state.value).set(1 if state is ConnectionState.IDLE else 0)
        #: family -> its counter child (looked up once per family, not per event)
        self._children: dict[str, Any] = {}
        self._families: set[str] = set()
        self._connected_once = False

    def declare_rules(
        self, names: list[str], open_count: Callable[[str], int] | None = None
    ) -> None:
        """Show every rule's counter from the start (at 0), not only once it fired; with
        `open_count(name)` (`AlertEngine.open_by_rule`), its open alerts, read at each
        scrape (a held-back alert is open too, though no notification said so yet)."""
        for name in names:
            self._alerts.labels(name)
            if open_count is not None:
                self._open.labels(name).set_function(functools.partial(open_count, name))

    def on_event(self, event: ZoomEvent, live: bool) -> None:
        name = event.name
        child = self._children.get(name)
        if child is None:
            family = _family_label(name)
            if family not in self._families and len(self._families) >= MAX_FAMILIES:
                family = "other"
            self._families.add(family)
            child = self._events.labels(family)
            if len(self._children) < 10 * MAX_FAMILIES:
                self._children[name] = child
        child.inc()
        ts = event.event_ts_ms
        if ts is not None:
            self._lag.observe(max(0.0, event.received_at - ts / 1000))

    def on_malformed(self, frame: MalformedFrame, live: bool) -> None:
        self._malformed.inc()

    def on_gap(self, gap: Gap, live: bool) -> None:
        self._gaps.inc()
        self._gap_seconds.inc(gap.seconds)

    def on_state(self, change: StateChanged, live: bool) -> None:
        self._state.labels(change.previous.value).set(0)
        for state in ConnectionState:
            self._state.labels(state.value).set(1 if state is change.state else 0)
        up = change.state is ConnectionState.CONNECTED
        self._connected.set(1 if up else 0)
        if up:
            if self._connected_once:
                self._reconnects.inc()
            self._connected_once = True

    def on_heartbeat(self, heartbeat: Heartbeat) -> None:
        self._rtt.observe(max(0.0, heartbeat.rtt))

    def on_alert(self, alert: Alert) -> None:
        """An engine listener: count the alerts fired."""
        if alert.state == "firing":
            self._alerts.labels(alert.rule).inc()

    def render(self) -> bytes:
        """The text a scrape gets."""
        from prometheus_client import generate_latest

        return bytes(generate_latest(self.registry))


def parse_listen(text: str) -> tuple[str, int]:
    """`127.0.0.1:9464` / `[::1]:9464` / `9464` -> (host, port).  Raises ValueError."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "127.0.0.1", text
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{text!r} is not HOST:PORT (e.g. 127.0.0.1:9464)")
    return host, int(port)


def serve(sink: MetricsSink, host: str, port: int) -> tuple[Any, int]:
    """Serve `/metrics` on a thread; returns the server (`shutdown()` it) and its port."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, addr=host, registry=sink.registry)
    return server, int(server.server_port)
