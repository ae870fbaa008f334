"""Fuzzing the whole receive path, not one part at a time.

Frames (valid, near-valid and garbage) go through what a received frame meets in zoomtui:
the protocol parser -> the meeting tracker -> a filter typed by the user -> the bounded
event log -> the archive.  Nothing may raise, and after every step: the tracker's counts
are sane (never negative), the log's filtered index agrees with a plain reference, and at
the end the archive gives back exactly what went in.  Filters come from arbitrary text:
an error message for the user or a filter, never an exception.

Last, a bounded handful of fuzzed frames sent by the fake over a real WebSocket: every
one is reported as the parser classifies it, and the connection stays up.

(The parser, the filter language and the tracker each have their own property tests:
tests/test_protocol.py, tests/test_filters.py, tests/test_meetings_props.py; the
strategies below reuse theirs.)
"""

from __future__ import annotations

import asyncio
import itertools
import json
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.connhelpers import CALM_HB, Recorder, meeting_event
from tests.test_filters import filter_texts
from tests.test_meetings_props import check_invariants, nonsense
from tests.test_protocol import json_values
from tests.waits import awaited
from zoomtui import config as cfg
from zoomtui.credentials import resolve_settings
from zoomtui.fakezoom import FakeZoom, scenario_events
from zoomtui.monitor.archive import Archive
from zoomtui.monitor.eventlog import EventLog, GapRow, _row_predicate
from zoomtui.monitor.filters import Filter, FilterError, compile_filter
from zoomtui.monitor.meetings import MeetingTracker
from zoomtui.monitor.recording import plan_from_profile
from zoomtui.settings import SettingsError
from zoomtui.zoom.connection import ZoomConnection
from zoomtui.zoom.protocol import (
    KIND_HEARTBEAT,
    KIND_INVALID_TOKEN,
    Envelope,
    MalformedFrame,
    ZoomEvent,
    message_frame,
    parse_frame,
)
from zoomtui.zoom.updates import ConnectionState as S
from zoomtui.zoom.updates import Gap, Notice, StateChanged

T0 = 1_706_123_456.0

#: realistic events: the fake's demo scenario (meetings, webinars, people coming and going,
#: recordings, late and out-of-order events), serialised the way Zoom does
SCENARIO = list(itertools.islice(scenario_events(seed=11, clock_start=T0), 400))


# -- frames ---------------------------------------------------------------------------------
scenario_bodies = st.integers(0, len(SCENARIO) - 1).map(SCENARIO.__getitem__)
valid_frames = (
    scenario_bodies.map(message_frame)
    | nonsense().map(lambda ev: ev.raw)  # presence events for one meeting, in any order
)

_PATHS = [
    ("event",),
    ("event_ts",),
    ("payload",),
    ("payload", "object"),
    ("payload", "object", "id"),
    ("payload", "object", "uuid"),
    ("payload", "object", "topic"),
    ("payload", "object", "participant"),
    ("payload", "object", "participant", "user_name"),
    ("payload", "object", "participant", "leave_reason"),
]


def _message(body: object) -> str:
    """A message frame written with the json module, which also writes what Zoom never would
    (integers past 64 bits, NaN) and orjson refuses."""
    return json.dumps(
        {"module": "message", "success": True, "content": json.dumps(body), "header": {}}
    )


@st.composite
def near_valid_frames(draw: st.DrawFn) -> str:
    """A real event bent one way: a field missing or of the wrong type, the content sent
    as an object, another module, a cut-off or corrupted frame."""
    body = json.loads(json.dumps(draw(scenario_bodies)))
    how = draw(st.sampled_from(["replace", "delete", "object", "envelope", "truncate", "corrupt"]))
    if how in ("replace", "delete"):
        *parents, key = draw(st.sampled_from(_PATHS))
        node = body
        for p in parents:
            node = node.get(p) if isinstance(node, dict) else None
        if isinstance(node, dict):
            if how == "delete":
                node.pop(key, None)
            else:
                node[key] = draw(json_values)
        return _message(body)
    if how == "object":  # content as an object, not a JSON string (accepted too)
        return json.dumps({"module": "message", "success": True, "content": body})
    if how == "envelope":
        return json.dumps(
            {
                "module": draw(
                    st.sampled_from(["message", "heartbeat", "build_connection", "mystery"])
                    | st.text(max_size=6)
                ),
                "success": draw(st.sampled_from([True, False, None]) | json_values),
                "content": draw(st.just(json.dumps(body)) | json_values),
                "header": draw(st.just({}) | json_values),
            }
        )
    frame = _message(body)
    at = draw(st.integers(0, len(frame) - 1))
    if how == "truncate":
        return frame[:at]
    return frame[:at] + draw(st.characters(exclude_categories=[])) + frame[at + 1 :]


garbage_frames = (
    st.binary(max_size=200)
    | st.text(st.characters(exclude_categories=[]), max_size=200)  # lone surrogates too
    | json_values.map(lambda v: json.dumps(v))
)

frames = valid_frames | near_valid_frames() | garbage_frames

#: one step of the monitor: a frame arrives, the link drops (a gap), or the user types a filter
steps = st.lists(
    st.one_of(
        frames.map(lambda f: ("frame", f)),
        frames.map(lambda f: ("frame", f)),
        frames.map(lambda f: ("frame", f)),
        st.text(max_size=30).map(lambda r: ("gap", r)),
        (st.text(max_size=40) | filter_texts()).map(lambda t: ("filter", t)),
    ),
    max_size=40,
)


# -- the pipeline ---------------------------------------------------------------------------
class Monitor:
    """The models a received frame reaches, wired as a front end wires them."""

    def __init__(self, folder: Path, limit: int) -> None:
        self.tracker = MeetingTracker()
        self.log = EventLog(limit=limit)
        self.archive = Archive(folder / "fuzz.sqlite3", flush_interval=0.01)
        self.filter: Filter | None = None
        self.rows: list[object] = []  # every row ever given to the log (the reference)
        self.archived: list[object] = []  # every update given to the archive
        self.now = time.time()  # received now: the archive's retention keeps 30 days

    def step(self, op: str, value: object) -> None:
        self.now += 0.001  # strictly increasing: the archive reads back in time order
        if op == "frame":
            self.receive(parse_frame(value, self.now))  # type: ignore[arg-type]
        elif op == "gap":
            gap = Gap(start=self.now - 0.5, end=self.now, reason=str(value))
            self.tracker.note_gap(gap.start, gap.end)
            self.add_rows([GapRow(gap.start, gap.end, gap.reason)])
            self.keep(gap)
        else:
            self.type_filter(str(value))

    def receive(self, item: ZoomEvent | Envelope | MalformedFrame) -> None:
        if isinstance(item, Envelope):
            if item.kind != KIND_HEARTBEAT:  # what the connection turns into a Notice
                self.keep(Notice(envelope=item, text=f"unknown module {item.module!r}"))
            return
        if isinstance(item, ZoomEvent):
            self.tracker.apply(item)
        self.add_rows([item])
        self.keep(item)

    def add_rows(self, rows: list[object]) -> None:
        self.log.extend(rows)  # type: ignore[arg-type]
        self.rows.extend(rows)

    def keep(self, update: object) -> None:
        self.archive.add(update)  # type: ignore[arg-type]
        self.archived.append(update)

    def type_filter(self, text: str) -> None:
        """What the filter bar does: a filter, or a message saying what is wrong."""
        try:
            flt = compile_filter(text)
        except FilterError as err:
            assert err.message and 0 <= err.position <= len(text)
            return  # the previous filter stays
        self.filter = None if flt.is_empty else flt
        self.log.set_filter(self.filter)

    # -- invariants ------------------------------------------------------------------------
    def check(self) -> None:
        check_invariants(self.tracker)
        log = self.log
        retained = self.rows[-log.limit :]
        keep = _row_predicate(self.filter) if self.filter is not None else (lambda r: True)
        visible = [r for r in retained if keep(r)]
        assert log.total == len(retained) and log.dropped == len(self.rows) - len(retained)
        assert log.visible_count == len(visible)
        for i, row in enumerate(visible):
            seq = log.seq_at(i)
            assert log.visible(i) is row and log.row_by_seq(seq) is row
            assert log.visible_index_of_seq(seq) == i

    def check_archive(self) -> None:
        assert self.archive.flush(), self.archive.error
        back = [r.update for r in self.archive.iter_records()]
        assert [_key(u) for u in back] == [_key(u) for u in self.archived]


def _key(update: object) -> tuple:
    """What must survive the archive, per kind of update."""
    if isinstance(update, ZoomEvent):
        return (
            "event",
            update.raw,
            update.received_at,
            update.name,
            update.meeting_uuid,
            update.participant_key,
        )
    if isinstance(update, MalformedFrame):
        return ("malformed", bytes(update.raw), update.reason, update.received_at)
    if isinstance(update, Notice):
        return ("notice", update.envelope.raw, update.text, update.envelope.received_at)
    if isinstance(update, Gap):
        return ("gap", update.start, update.end, update.reason)
    return ("other", repr(update))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps, st.integers(1, 25))
def test_the_receive_path_never_raises_and_keeps_its_invariants(ops: list, limit: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        monitor = Monitor(Path(folder), limit)
        try:
            for op, value in ops:
                monitor.step(op, value)
                monitor.check()
            monitor.tracker.prune(monitor.now + 10**6)  # ended meetings go, nothing breaks
            check_invariants(monitor.tracker)
            monitor.check_archive()
            assert monitor.archive.status == "open"
        finally:
            monitor.archive.close()


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=80)
    | filter_texts()
    | st.binary(max_size=40).map(lambda b: b.decode("utf-8", "replace"))
)
def test_a_typed_filter_is_a_result_or_a_message_never_an_exception(text: str) -> None:
    try:
        flt = compile_filter(text)
    except FilterError as err:
        assert str(err) and "Traceback" not in str(err)
        return
    for row in (
        parse_frame(message_frame(SCENARIO[0]), T0),
        parse_frame(text, T0),
        GapRow(T0, T0, text),
    ):
        assert isinstance(flt.matches(row), bool)


# -- over a real WebSocket ---------------------------------------------------------------------
def expected_report(frame: str | bytes) -> tuple | None:
    """How the connection reports one frame: as the parser classifies it."""
    item = parse_frame(frame, T0)
    if isinstance(item, ZoomEvent):
        return ("event", item.raw)
    if isinstance(item, MalformedFrame):
        return ("malformed", bytes(item.raw))
    if item.kind == KIND_HEARTBEAT:
        return None  # an answer we did not ask for (or one we did): not news
    return ("notice", item.raw)


def reported(update: object) -> tuple | None:
    if isinstance(update, ZoomEvent):
        return ("event", update.raw)
    if isinstance(update, MalformedFrame):
        return ("malformed", bytes(update.raw))
    if isinstance(update, Notice):
        return ("notice", update.envelope.raw)
    return None


async def _over_the_wire(sent: list[str | bytes]) -> None:
    async with FakeZoom() as fake:
        # Zoom's heartbeat: a stall of this process is never taken for a dead link
        rec = Recorder(ZoomConnection(fake.settings(heartbeat_interval=CALM_HB)))
        await rec.wait_state(S.CONNECTED)
        for frame in sent:
            await fake.inject_frame(frame)
        await fake.inject(meeting_event(424242))  # the sentinel: everything before it is in
        await rec.wait_for(
            lambda items: any(isinstance(u, ZoomEvent) and "424242" in u.raw for u in items)
        )
        await rec.close()
        got = [r for r in map(reported, rec.items) if r is not None][:-1]
        assert got == [r for r in map(expected_report, sent) if r is not None]
        states = [u.state for u in rec.items if isinstance(u, StateChanged)]
        assert states == [S.AUTHENTICATING, S.CONNECTING, S.CONNECTED, S.STOPPED]
        assert len(fake.accepted_connections) == 1 and rec.gaps == []


def _sendable(frame: str | bytes) -> bool:
    """A WebSocket text frame is UTF-8: a str with a lone surrogate cannot be sent at all."""
    if isinstance(frame, bytes):
        return True
    try:
        frame.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(frames.filter(_sendable), min_size=1, max_size=12))
def test_fuzzed_frames_over_a_real_websocket_keep_the_connection_up(sent: list) -> None:
    for frame in sent:  # an invalid-token frame must reconnect: that is the design, not a fault
        item = parse_frame(frame, T0)
        assume(not (isinstance(item, Envelope) and item.kind == KIND_INVALID_TOKEN))
    asyncio.run(awaited(_over_the_wire(sent), "the fuzzed frames over the wire"))


# -- config files: every key, any value --------------------------------------------------------
def _toml_float(x: float) -> str:
    if x != x:
        return "nan"
    if x in (float("inf"), float("-inf")):
        return "inf" if x > 0 else "-inf"
    return repr(x)


_URL_EDGES = [
    "wss://[::1",
    "https://[::1",
    "wss://ws.zoom.us:99999/ws",
    "ws://127.0.0.1:0/ws",
    "wss:///ws",
    "wss://",
    "ftp://zoom.us/x",
    "wss://ws.zoom.us/ws\n",
    "wss://ws.zoom.us/ws",
    "https://zoom.us/oauth/token",
    "ws://[::1]:8080/ws",
]
#: TOML values of every type, in and far out of every key's range
toml_values = st.one_of(
    st.floats().map(_toml_float),
    st.sampled_from([0.0, -0.0, 0.5, 1.0, 300.0, 300.5, 1e-9, 1e308]).map(_toml_float),
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(str),
    st.sampled_from([0, -1, 1, 99, 100, 1023, 1024, 67108864, 67108865, 10**6 + 1]).map(str),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=300).map(cfg._toml_string),
    st.sampled_from(_URL_EDGES).map(cfg._toml_string),
    st.builds(
        "{}://{}:{}/ws".format,
        st.sampled_from(["ws", "wss", "http", "https", "ftp", ""]),
        st.sampled_from(["127.0.0.1", "[::1]", "ws.zoom.us", "[::1", ""]),
        st.integers(-5, 70000),
    ).map(cfg._toml_string),
    st.booleans().map(lambda b: "true" if b else "false"),
    st.sampled_from(["1979-05-27T07:32:00Z", "07:32:00", "1979-05-27", "[]", "[1, 2]", "{a = 1}"]),
    st.integers(1, 3000).map(lambda n: "[" * n + "]" * n),  # nested to any depth
)
_KEYS = sorted(cfg.PROFILE_KEYS)
_CREDENTIALS_ENV = {
    "ZOOM_ACCOUNT_ID": "acc",
    "ZOOM_CLIENT_ID": "cid",
    "ZOOM_CLIENT_SECRET": "s" * 16,
    "ZOOM_SUBSCRIPTION_ID": "sub",
}


@pytest.mark.parametrize("key", _KEYS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=toml_values,
    others=st.dictionaries(
        st.sampled_from([*_KEYS, "histroy_minutes", "colour"]), toml_values, max_size=3
    ),
)
def test_any_value_of_any_config_key_is_a_setting_or_a_settings_error(
    key: str, value: str, others: dict[str, str]
) -> None:
    """What every front end does with the file: resolve the profile into connection
    settings and an archive plan.  Either works with values in range, or a settings error
    (exit 3) names the file; nothing else escapes."""
    lines = [f"{key} = {value}"] + [f"{k} = {v}" for k, v in others.items() if k != key]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.toml"
        path.write_text("[profiles.fuzz]\n" + "\n".join(lines) + "\n", encoding="utf-8")
        try:
            settings_ = resolve_settings(profile="fuzz", config_path=path, env=_CREDENTIALS_ENV)
            values = cfg.load_config(path).profiles["fuzz"]
        except SettingsError as exc:
            assert str(path) in str(exc) or "URL" in str(exc), str(exc)
            return
    for name, got in values.items():  # whatever was kept is in range
        assert cfg.check_value(name, got) == got
    assert 1 <= settings_.heartbeat_interval <= 300
    assert 1024 <= settings_.max_frame_bytes <= 64 << 20
    assert settings_.insecure_transport is False  # never from a file
    plan_from_profile(values)
