"""Fuzzing the whole receive path, not one part at a time.

Frames (valid, near-valid and garbage) go through what a received frame meets in zoomtui:
the protocol parser -> the meeting tracker -> a filter typed by the user -> the bounded
event log -> the archive.  Nothing may raise, and after every step: the tracker's counts
are sane (never negative), the log's filtered index agrees with a plain reference, and at
the end the archive gives back exactly what went in.  Filters come from arbitrary text:
an error message for the user or a filter, never an exception.

Frames nest up to 1,024 levels (as deep as a JSON reader goes; orjson writes only 254)
and carry every control character in every text field.  What zoomtui writes of each
frame is made too: the JSON line (the event's own bytes, one line), the human line and
every stderr note (no control character raw), the CSV row, the notice text (bounded), the
inspector's copy.

Last, a bounded handful of fuzzed frames sent by the fake over a real WebSocket: every
one is reported as the parser classifies it, and the connection stays up; and the TUI
meets the hostile frames, inspector and copy included, without reaching its crash screen.

(The parser, the filter language and the tracker each have their own property tests:
tests/test_protocol.py, tests/test_filters.py, tests/test_meetings_props.py; the
strategies below reuse theirs.)
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import tempfile
import time
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.connhelpers import CALM_HB, Recorder, meeting_event
from tests.reliability.framekit import (
    BIG,
    MAX_DEPTH,
    error_frame,
    message_with_content_object,
    message_with_content_string,
)
from tests.test_filters import filter_texts
from tests.test_meetings_props import check_invariants, nonsense
from tests.test_protocol import json_values
from tests.tui.conftest import wait_until
from tests.waits import HANG_GUARD, awaited
from zoomtui import config as cfg
from zoomtui.commands.tail import TailOutput, TailRun
from zoomtui.credentials import resolve_settings
from zoomtui.fakezoom import FakeZoom, scenario_events
from zoomtui.monitor.archive import Archive
from zoomtui.monitor.eventlog import EventLog, GapRow, _row_predicate
from zoomtui.monitor.filters import Filter, FilterError, compile_filter
from zoomtui.monitor.lines import csv_row, human_line, json_line
from zoomtui.monitor.meetings import MeetingTracker
from zoomtui.monitor.recording import plan_from_profile
from zoomtui.settings import SettingsError
from zoomtui.tui.screens.inspector import copy_text
from zoomtui.zoom.connection import ZoomConnection
from zoomtui.zoom.frames import ConnectionStats, OtherFrames
from zoomtui.zoom.keepers import Heartbeats
from zoomtui.zoom.protocol import (
    KIND_HEARTBEAT,
    KIND_INVALID_TOKEN,
    Envelope,
    MalformedFrame,
    ZoomEvent,
    message_frame,
    parse_frame,
)
from zoomtui.zoom.rawjson import event_text
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

#: every character a terminal may act on: C0, DEL, C1, and the bidi and line separators
CONTROLS = [
    *map(chr, range(0x20)),
    "\x7f",
    *map(chr, range(0x80, 0xA0)),
    *"\u061c\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e",
    *"\u2066\u2067\u2068\u2069",
]


def with_controls(value: object, controls: str) -> object:
    """`value` with `controls` put into every string in it (keys stay: they are not shown)."""
    if isinstance(value, str):
        return value[:3] + controls + value[3:]
    if isinstance(value, dict):
        return {k: with_controls(v, controls) for k, v in value.items()}
    if isinstance(value, list):
        return [with_controls(v, controls) for v in value]
    return value


@st.composite
def deep_frames(draw: st.DrawFn) -> str:
    """A frame nested 1 to 1,024 levels in all (written as text: orjson cannot write it), its
    deepest value a big integer, a string or nothing, with the content as a string (Zoom's
    way) or as an object, or an error frame whose content nests."""
    depth = draw(st.integers(1, MAX_DEPTH) | st.sampled_from([254, 255, 256, MAX_DEPTH]))
    brackets = draw(st.lists(st.sampled_from(["[]", '{"k":}']), min_size=1, max_size=3))
    opens, closes = [], []
    for i in range(max(0, depth - 4)):
        pair = brackets[i % len(brackets)]
        opens.append(pair[:-1])
        closes.append(pair[-1])
    leaf = draw(st.sampled_from(["", BIG, '"x"', "null"]))
    inner = "".join(opens) + leaf + "".join(reversed(closes))
    inner = inner.replace(":]", ":null]").replace(":}", ":null}") or "null"
    body = deep_event_text_with(inner)
    how = draw(st.sampled_from(["string", "object", "error", "build_connection", "heartbeat"]))
    if how == "string":
        return message_with_content_string(body)
    if how == "object":
        return message_with_content_object(body)
    module = "mystery" if how == "error" else how
    return error_frame(module, draw(st.sampled_from([False, None, True])), inner)


def deep_event_text_with(inner: str) -> str:
    return (
        '{"event":"meeting.updated","event_ts":1706123456789,"payload":{"object":'
        f'{{"id":{BIG},"deep":{inner}}}}}}}'
    )


control_frames = st.builds(
    lambda body, controls: message_frame(with_controls(body, controls)),
    scenario_bodies,
    st.lists(st.sampled_from(CONTROLS), min_size=1, max_size=4).map("".join),
)

frames = valid_frames | near_valid_frames() | garbage_frames | deep_frames() | control_frames

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
        #: what the connection does with frames that are not events (its notices)
        self.others = OtherFrames(
            ConnectionStats(), Heartbeats(1.0, time.monotonic), lambda *a, **k: None
        )
        #: `tail`'s printing (human lines and --json), on the same updates
        self.tail_out, self.tail_json_out, self.tail_err = io.BytesIO(), io.BytesIO(), io.StringIO()
        run = TailRun(self.tail_err)
        self.tail = TailOutput(run, self.tail_out)
        self.tail_json = TailOutput(run, self.tail_json_out, as_json=True)

    def step(self, op: str, value: object) -> None:
        self.now += 0.001  # strictly increasing: the archive reads back in time order
        if op == "frame":
            self.receive(parse_frame(value, self.now))  # type: ignore[arg-type]
        elif op == "gap":
            gap = Gap(start=self.now - 0.5, end=self.now, reason=str(value))
            self.tail.on_gap(gap, True)
            self.tracker.note_gap(gap.start, gap.end)
            self.add_rows([GapRow(gap.start, gap.end, gap.reason)])
            self.keep(gap)
        else:
            self.type_filter(str(value))

    def receive(self, item: ZoomEvent | Envelope | MalformedFrame) -> None:
        if isinstance(item, Envelope):  # what the connection makes of it
            notice = self.others.take(item, self.now)
            if isinstance(notice, Notice):
                assert len(notice.text) < 400  # a preview of Zoom's content, never all of it
                self.tail.on_notice(notice)
                self.keep(notice)
            return
        if isinstance(item, ZoomEvent):
            self.tracker.apply(item)
            check_written(item)
            self.tail.on_event(item, True)
            self.tail_json.on_event(item, True)
        else:
            self.tail.on_malformed(item, True)
        self.add_rows([item])
        self.keep(item)

    def check_tail(self) -> None:
        """What `tail` printed: every line shown, not sent (stdout's JSON lines are bytes
        Zoom sent, where JSON escapes every control character)."""
        for line in self.tail_out.getvalue().decode().splitlines():
            check_shown("tail stdout", line)
        for line in self.tail_err.getvalue().splitlines():
            check_shown("tail stderr", line)
        lines = self.tail_json_out.getvalue().splitlines()
        assert len(lines) == self.tail.passed == self.tail_json.passed

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
        self.check_tail()
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
        assert self.archive.flush(timeout=HANG_GUARD), self.archive.error
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


_RAW = {c for c in CONTROLS if c != "\n"}


def check_shown(where: str, text: str) -> None:
    """A line a person reads: no control character raw, one line."""
    assert not _RAW.intersection(text) and "\n" not in text, (where, text[:200])


def check_written(event: ZoomEvent) -> None:
    """What zoomtui writes of an event: never raises, and says what Zoom sent."""
    line = json_line(event)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    own = event_text(event.stored_raw)
    assert line.startswith(own[:-1]) and b'"_received_at":"' in line[len(own) - 1 :]
    orjson.loads(line)  # valid JSON, as deep as the event was
    check_shown("human line", human_line(event).decode().removesuffix("\n"))  # tail's line
    csv_row(event)
    copied = copy_text(event)
    assert "".join(copied.split()) == "".join(own.decode().split())  # the same tokens


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


def test_every_control_character_in_every_text_field_is_shown_not_sent() -> None:
    """Each control character, put into every text field of every kind of scenario event
    (and of a notice, a malformed frame and a gap), through the receive path and every
    output."""
    kinds: dict[str, dict] = {}
    for body in SCENARIO:
        kinds.setdefault(body["event"], body)
    with tempfile.TemporaryDirectory() as folder:
        monitor = Monitor(Path(folder), limit=50)
        try:
            for control in CONTROLS:
                for body in kinds.values():
                    monitor.step("frame", message_frame(with_controls(body, control * 2)))
                monitor.step(
                    "frame",
                    json.dumps({"module": f"m{control}", "success": False, "content": control}),
                )
                monitor.step("frame", "{not json " + control)
                monitor.step("gap", f"closed {control}")
                monitor.check()
            monitor.check_archive()
        finally:
            monitor.archive.close()
    events = [r for r in monitor.rows if isinstance(r, ZoomEvent)]
    assert len(events) == len(kinds) * len(CONTROLS)  # taken in as events, not refused


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
    if item.kind == KIND_HEARTBEAT and item.success is True:
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


# -- the TUI --------------------------------------------------------------------------------------
HOSTILE_FOR_THE_TUI = [
    message_with_content_string(deep_event_text_with(f"[{BIG}," + "[" * 1018 + "]" * 1019)),
    message_with_content_object(deep_event_text_with("[" * 1019 + "]" * 1019)),
    message_with_content_string(deep_event_text_with("[" * 300 + '"x"' + "]" * 300)),
    error_frame("mystery", False, '{"a":' + "[" * 1021 + "]" * 1021 + "}"),
    error_frame("build_connection", None, '"again \\u001b[2J"'),
    message_frame(with_controls(SCENARIO[0], "".join(CONTROLS))),
    message_frame(with_controls(SCENARIO[5], "\x1b]0;PWN\x07\x1b[2J\u202e")),
    "{not json \x1b]0;PWN\x07 \x9b31m \u202e",
]


async def test_the_tui_meets_hostile_frames_inspector_and_copy_included(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every row through the inspector (raw, expand, copy both ways), then an export of the
    view: nothing reaches Textual's crash screen."""
    from zoomtui.tui.app import ZoomtuiApp
    from zoomtui.tui.options import AppOptions
    from zoomtui.tui.screens.inspector import InspectorScreen

    monkeypatch.chdir(tmp_path)
    async with FakeZoom() as fake:
        app = ZoomtuiApp(AppOptions(fake.settings(heartbeat_interval=CALM_HB)))
        async with app.run_test(size=(160, 40), notifications=True) as pilot:
            await wait_until(pilot, lambda: app.status.state is S.CONNECTED, what="connected")
            for frame in HOSTILE_FOR_THE_TUI:
                await fake.inject_frame(frame)
            await fake.inject(meeting_event(1))
            await wait_until(pilot, lambda: app.status.events >= 6, what="six events")
            rows = app.event_log.visible_count
            await pilot.press("g", "enter")
            await pilot.pause()
            assert isinstance(app.screen, InspectorScreen)
            for _ in range(rows):
                await pilot.press("r", "r", "e", "e", "y", "Y", "n")
                await pilot.pause()
            await pilot.press("escape", "e")
            await wait_until(
                pilot,
                lambda: any(n.title == "Exported" for n in app._notifications),
                what="the export's notification",
            )
            assert app._exception is None and app.is_running
    (exported,) = tmp_path.glob("zoomtui-export-*.jsonl")
    assert len(exported.read_bytes().splitlines()) == 6
