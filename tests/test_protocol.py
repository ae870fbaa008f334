"""The protocol parser: every frame becomes an event, an envelope, or a malformed value. Never raises."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zoomtui.zoom.protocol import (
    KIND_BUILD_CONNECTION,
    KIND_ERROR,
    KIND_HEARTBEAT,
    KIND_INVALID_TOKEN,
    KIND_UNKNOWN,
    Envelope,
    MalformedFrame,
    ZoomEvent,
    envelope_frame,
    message_frame,
    parse_frame,
    parse_text_frame,
)

NOW = 1_706_123_460.0
SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "zoom-samples" / "webhooks"

JOINED = {
    "event": "meeting.participant_joined",
    "event_ts": 1706123456789,
    "payload": {
        "account_id": "AcCt1",
        "object": {
            "id": 85746352415,
            "uuid": "gm8s9L+PTEC+FG3sFbd1Cw==",
            "host_id": "h1",
            "topic": "Weekly [sync]",
            "type": 2,
            "participant": {
                "user_id": "16778240",
                "user_name": "Ana Lima",
                "id": "pid-1",
                "participant_uuid": "PU-1",
                "join_time": "2024-01-24T19:10:56Z",
                "email": "ana@example.com",
            },
        },
    },
}


def test_message_with_content_as_json_string() -> None:
    ev = parse_frame(message_frame(JOINED), NOW)
    assert isinstance(ev, ZoomEvent)
    assert ev.name == "meeting.participant_joined"
    assert ev.event_ts == dt.datetime(2024, 1, 24, 19, 10, 56, 789000, tzinfo=dt.UTC)
    assert ev.event_ts.tzinfo is not None
    assert ev.account_id == "AcCt1"
    assert ev.meeting_uuid == "gm8s9L+PTEC+FG3sFbd1Cw=="
    assert ev.meeting_id == "85746352415"  # a number on the wire, a str here
    assert ev.topic == "Weekly [sync]"
    assert ev.participant_key == "PU-1"
    assert ev.participant_name == "Ana Lima"
    assert ev.object["host_id"] == "h1"
    assert ev.body == JOINED
    assert ev.lag == pytest.approx(NOW - 1706123456.789)
    assert ev.family == "meeting"


def test_message_with_content_as_object() -> None:
    frame = orjson.dumps({"module": "message", "success": True, "content": JOINED}).decode()
    ev = parse_frame(frame, NOW)
    assert isinstance(ev, ZoomEvent)
    assert ev.participant_key == "PU-1"


def test_bytes_frames_are_malformed_not_guessed() -> None:
    r = parse_frame(message_frame(JOINED).encode(), NOW)
    assert isinstance(r, MalformedFrame)
    assert "binary" in r.reason


@pytest.mark.parametrize(
    ("participant", "expected"),
    [
        ({"participant_uuid": "U", "id": "I", "user_id": "X"}, "U"),
        ({"id": "I", "user_id": "X"}, "I"),
        ({"user_id": 16778240}, "16778240"),
        ({}, None),
    ],
)
def test_participant_key_prefers_uuid_then_id_then_user_id(
    participant: dict, expected: str | None
) -> None:
    body = {
        "event": "meeting.participant_left",
        "event_ts": 1,
        "payload": {"object": {"uuid": "u", "participant": participant}},
    }
    ev = parse_frame(message_frame(body), NOW)
    assert isinstance(ev, ZoomEvent)
    assert ev.participant_key == expected


def test_meeting_id_string_or_number_normalised() -> None:
    for raw_id in ("85746352415", 85746352415, 85746352415.0):
        body = {
            "event": "meeting.started",
            "event_ts": 1,
            "payload": {"object": {"id": raw_id, "uuid": "u"}},
        }
        ev = parse_frame(message_frame(body), NOW)
        assert isinstance(ev, ZoomEvent)
        assert ev.meeting_id == "85746352415"


def test_release_drops_body_and_reparses_the_same() -> None:
    ev = parse_frame(message_frame(JOINED), NOW)
    assert isinstance(ev, ZoomEvent)
    ev.release()
    assert ev._body is None
    assert ev.body == JOINED


def test_missing_event_ts_is_kept_as_event_without_time() -> None:
    body = {"event": "user.created", "payload": {"object": {"id": "u1"}}}
    ev = parse_frame(message_frame(body), NOW)
    assert isinstance(ev, ZoomEvent)
    assert ev.event_ts is None and ev.lag is None


@pytest.mark.parametrize(
    ("frame", "kind", "success"),
    [
        (envelope_frame("build_connection", True, "connected"), KIND_BUILD_CONNECTION, True),
        (
            envelope_frame("build_connection", False, "subscription not found"),
            KIND_BUILD_CONNECTION,
            False,
        ),
        (envelope_frame("other", False, "something failed"), KIND_ERROR, False),
        (envelope_frame("heartbeat", True, "live"), KIND_HEARTBEAT, True),
        (envelope_frame("build_connection", False, "Invalid Token"), KIND_INVALID_TOKEN, False),
        (envelope_frame("message", False, "Token is invalid"), KIND_INVALID_TOKEN, False),
        (envelope_frame("heartbeat", False, "TOKEN IS INVALID"), KIND_INVALID_TOKEN, False),
        (envelope_frame("build_connection", False, "token has expired"), KIND_INVALID_TOKEN, False),
        (envelope_frame("something_new", True, {"x": 1}), KIND_UNKNOWN, True),
        ('{"module":"heartbeat"}', KIND_HEARTBEAT, None),
    ],
)
def test_envelopes(frame: str, kind: str, success: bool | None) -> None:
    r = parse_frame(frame, NOW)
    assert isinstance(r, Envelope), r
    assert r.kind == kind
    assert r.success is success


# --- shapes seen in real captures (PROTOCOL.md sections 2-3, "new") -------------------------


@pytest.mark.parametrize(
    "frame",
    [
        # success left out: ZoomNet takes it as true, and this is no healthy heartbeat
        '{"module":"heartbeat","content":"Invalid Token"}',
        envelope_frame("heartbeat", True, "Invalid Token"),
        # "success":true in a message frame: the text, not a malformed event
        envelope_frame("message", True, "Token is invalid"),
        '{"module":"message","content":"token is INVALID"}',
        envelope_frame("message", True, '"Invalid Token"'),  # the text as a JSON string
        envelope_frame("build_connection", True, "Invalid Token"),
        envelope_frame("something_new", True, "your token is invalid"),
    ],
)
def test_the_invalid_token_text_wherever_it_appears_whatever_success_says(frame: str) -> None:
    for r in (parse_frame(frame, NOW), parse_text_frame(frame.encode(), NOW)):
        assert isinstance(r, Envelope), r
        assert r.kind == KIND_INVALID_TOKEN


def test_an_event_that_mentions_an_invalid_token_is_still_an_event() -> None:
    body = json.loads(json.dumps(JOINED))
    body["payload"]["object"]["topic"] = "Postmortem: Invalid Token errors"
    ev = parse_frame(message_frame(body), NOW)
    assert isinstance(ev, ZoomEvent) and ev.topic == "Postmortem: Invalid Token errors"
    hb = parse_frame(envelope_frame("heartbeat", True, "live"), NOW)
    assert isinstance(hb, Envelope) and hb.kind == KIND_HEARTBEAT
    other = parse_frame('{"module":"message","success":true,"content":"not an event"}', NOW)
    assert isinstance(other, MalformedFrame) and "not JSON" in other.reason


def test_a_trailing_space_in_the_event_name_is_trimmed() -> None:
    body = {"event": "user.updated ", "event_ts": 1, "payload": {"object": {"id": "u1"}}}
    ev = parse_frame(message_frame(body), NOW)
    assert isinstance(ev, ZoomEvent)
    assert ev.name == "user.updated" and ev.family == "user"
    assert ev.body["event"] == "user.updated "  # the event as Zoom sent it is kept as sent


def _object_event(name: str, obj: object) -> ZoomEvent:
    body = {"event": name, "event_ts": 1, "payload": {"account_id": "A1", "object": obj}}
    ev = parse_frame(message_frame(body), NOW)
    assert isinstance(ev, ZoomEvent)
    return ev


def test_events_not_about_a_meeting_carry_their_subject() -> None:
    user = _object_event(
        "user.created",
        {
            "id": "KdYKjnimT4KPd8FFgQt9FQ",
            "first_name": "Jill",
            "last_name": "Chill",
            "display_name": "Jill Chill",
            "email": "jchill@example.com",
            "type": 1,
        },
    )
    assert user.subject == "Jill Chill <jchill@example.com>"
    assert "jchill@example.com" in user.search_text and "jill chill" in user.search_text
    assert user.meeting_id == "KdYKjnimT4KPd8FFgQt9FQ"  # the object id, as before
    # an email alone, a name alone, first and last names, none at all
    assert _object_event("user.updated", {"id": "u", "email": "d@x.io"}).subject == "d@x.io"
    chat = _object_event("team_chat.channel_archived", {"id": "c1", "name": "eng-oncall"})
    assert chat.subject == "eng-oncall"
    names = _object_event("user.deleted", {"id": "u", "first_name": "Pat", "last_name": "Lee"})
    assert names.subject == "Pat Lee"
    assert _object_event("account.settings_updated", {"id": "a", "settings": {}}).subject is None
    # hostile: any type where a text is expected is no subject; blank text neither
    odd = _object_event("user.updated", {"email": {"x": 1}, "name": 7, "display_name": "  "})
    assert odd.subject is None
    assert _object_event("user.updated", ["not", "an", "object"]).subject is None


def test_meeting_events_have_no_subject() -> None:
    ev = parse_frame(message_frame(JOINED), NOW)
    assert isinstance(ev, ZoomEvent) and ev.subject is None
    started = _object_event("meeting.started", {"id": "1", "uuid": "u==", "topic": "Sync"})
    assert started.subject is None


def test_a_guest_with_an_empty_id_is_known_by_participant_uuid() -> None:
    body = json.loads(json.dumps(JOINED))
    body["payload"]["object"]["participant"] = {
        "user_id": "16778301",
        "user_name": "Guest 4821",
        "id": "",
        "participant_uuid": "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
        "join_time": "2024-01-24T19:10:56Z",
        "email": "",
    }
    ev = parse_frame(message_frame(body), NOW)
    assert isinstance(ev, ZoomEvent)
    assert ev.participant_key == "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"


def test_an_event_two_hours_late_has_its_lag() -> None:
    body = {"event": "user.deactivated", "event_ts": int((NOW - 7200) * 1000), "payload": {}}
    ev = parse_frame(message_frame(body), NOW)
    assert isinstance(ev, ZoomEvent) and ev.lag == pytest.approx(7200)


@pytest.mark.parametrize(
    ("frame", "reason_part"),
    [
        (b"\x00\x01binary", "binary frame"),
        ("not json at all", "not JSON"),
        ("", "not JSON"),
        ("[1, 2]", "an array, not a JSON object"),
        ('"just a string"', "not a JSON object"),
        ('{"success": true, "content": "x"}', 'no "module"'),
        ('{"module": 7, "content": "x"}', 'no "module"'),
        ('{"module": "heartbeat", "success": "yes"}', '"success" is a string'),
        ('{"module": "heartbeat", "header": [1]}', '"header" is an array'),
        (
            '{"module": "message", "success": true, "content": "{not json"}',
            "message content is not JSON",
        ),
        ('{"module": "message", "success": true, "content": 42}', "message content is a number"),
        ('{"module": "message", "success": true, "content": null}', "message content is null"),
        ('{"module": "message", "success": true, "content": "[1,2]"}', "event is an array"),
        (
            '{"module": "message", "success": true, "content": "{\\"payload\\": {}}"}',
            "event has no name",
        ),
        (
            '{"module": "message", "success": true, "content": "{\\"event\\": 5}"}',
            "event has no name",
        ),
        (
            '{"module": "message", "success": true, "content": "{\\"event\\": \\"a.b\\", \\"payload\\": 3}"}',
            "payload is a number",
        ),
        (
            '{"module": "message", "success": true, "content": "{\\"event\\": \\"a.b\\", \\"event_ts\\": true}"}',
            "event_ts is a boolean",
        ),
    ],
)
def test_malformed_frames_have_a_reason_and_keep_raw(frame: str | bytes, reason_part: str) -> None:
    r = parse_frame(frame, NOW)
    assert isinstance(r, MalformedFrame), r
    assert reason_part in r.reason
    assert "\n" not in r.reason
    raw = frame if isinstance(frame, bytes) else frame.encode()
    assert r.raw == raw
    assert r.received_at == NOW


def test_oversize_frame_is_malformed_and_kept_whole() -> None:
    big = message_frame({"event": "x.y", "payload": {"object": {"pad": "a" * 5000}}})
    r = parse_frame(big, NOW, max_bytes=1000)
    assert isinstance(r, MalformedFrame)
    assert "over the 1,000-byte limit" in r.reason
    assert len(r.raw) == len(big)
    assert len(r.preview) <= 241  # display is truncated, the frame is not


def test_preview_is_one_line() -> None:
    r = parse_frame("line one\nline two", NOW)
    assert isinstance(r, MalformedFrame)
    assert "\n" not in r.preview


def test_every_zoom_sample(request: pytest.FixtureRequest) -> None:
    if not SAMPLES.is_dir():
        pytest.skip(
            f"{SAMPLES} not present (it is in the team's shared folder, not in a user's clone)"
        )
    files = sorted(SAMPLES.glob("*.json"))
    assert len(files) >= 500
    events = malformed = 0
    no_ts = []
    trimmed = []
    emails = []
    for f in files:
        text = f.read_text(encoding="utf-8")
        r = parse_frame(message_frame(text), NOW)
        try:
            json.loads(text)
        except ValueError:
            assert isinstance(r, MalformedFrame), f.name
            assert "not JSON" in r.reason
            malformed += 1
            continue
        assert isinstance(r, ZoomEvent), (f.name, getattr(r, "reason", r))
        assert (
            r.name == f.stem or r.name.replace("_", "") == f.stem.replace("_", "") or "." in r.name
        )
        if r.event_ts is None:
            no_ts.append(f.name)
        if r.body["event"] != r.name:
            trimmed.append(r.name)
        email = r.object.get("email")
        if isinstance(email, str) and r.topic is None and r.participant_key is None:
            emails.append((email, r.subject or ""))
        events += 1
    assert malformed == 16
    assert events == len(files) - 16
    assert len(no_ts) == 2
    assert trimmed == ["revenue_accelerator.conversation_analysis_completed"]
    # every event with an object.email and no meeting shows and finds it (29 of them)
    assert len(emails) == 29 and all(e in subject for e, subject in emails), emails


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    r = parse_frame(data, NOW)
    assert isinstance(r, MalformedFrame)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(data: str) -> None:
    assert isinstance(parse_frame(data, NOW), ZoomEvent | Envelope | MalformedFrame)


@settings(max_examples=400, deadline=None)
@given(
    module=st.sampled_from(["message", "heartbeat", "build_connection", "other"])
    | st.text(max_size=5)
    | json_values,
    success=st.booleans() | json_values,
    content=json_values | json_values.map(lambda v: json.dumps(v)),
    header=json_values,
)
def test_arbitrary_envelopes_never_raise(module, success, content, header) -> None:
    frame = json.dumps({"module": module, "success": success, "content": content, "header": header})
    r = parse_frame(frame, NOW)
    assert isinstance(r, ZoomEvent | Envelope | MalformedFrame)
    if isinstance(r, ZoomEvent):
        # whatever was derived is text, and the body round-trips
        for v in (r.meeting_id, r.meeting_uuid, r.participant_key, r.topic):
            assert v is None or isinstance(v, str)
        assert isinstance(r.body, dict)


@settings(max_examples=300, deadline=None)
@given(
    event=st.fixed_dictionaries(
        {"event": st.text(min_size=1, max_size=20)},
        optional={
            "event_ts": json_values,
            "payload": st.fixed_dictionaries(
                {},
                optional={
                    "account_id": json_values,
                    "object": json_values
                    | st.fixed_dictionaries(
                        {},
                        optional={
                            "id": json_values,
                            "uuid": json_values,
                            "topic": json_values,
                            "participant": json_values,
                        },
                    ),
                },
            ),
        },
    )
)
def test_near_valid_events_never_raise(event: dict) -> None:
    r = parse_frame(message_frame(json.dumps(event)), NOW)
    assert isinstance(r, ZoomEvent | MalformedFrame)
    if isinstance(r, ZoomEvent):
        r.event_ts  # noqa: B018 - must not raise either
        r.lag  # noqa: B018


# -- text frames taken as the UTF-8 they came in (the connection's receive path) ----------

_DERIVED = (
    "name",
    "event_ts_ms",
    "received_at",
    "account_id",
    "meeting_uuid",
    "meeting_id",
    "topic",
    "participant_key",
    "participant_name",
    "participant_email",
    "search_text",
)


def assert_same_outcome(from_text, from_bytes) -> None:
    """A frame parsed from its text and from its UTF-8 bytes means the same thing."""
    assert type(from_text) is type(from_bytes), (from_text, from_bytes)
    if isinstance(from_text, ZoomEvent):
        for attr in _DERIVED:
            assert getattr(from_text, attr) == getattr(from_bytes, attr), attr
        assert from_text.raw == from_bytes.raw and from_text.body == from_bytes.body
    elif isinstance(from_text, Envelope):
        assert from_text == from_bytes  # an envelope keeps its frame as text either way
    else:
        assert from_text.raw == from_bytes.raw
        assert from_text.reason.split(":")[0] == from_bytes.reason.split(":")[0]


@pytest.mark.parametrize("topic", ["Weekly [sync]", "Björn's 1:1 ☕", "李雷 & 韩梅梅 🎉"])
def test_a_text_frame_as_utf8_bytes_is_the_same_event_and_keeps_its_bytes(topic: str) -> None:
    frame = message_frame(
        {
            **JOINED,
            "payload": {
                **JOINED["payload"],
                "object": {**JOINED["payload"]["object"], "topic": topic},
            },
        }
    )
    data = frame.encode()
    ev = parse_text_frame(data, NOW)
    assert isinstance(ev, ZoomEvent) and ev.topic == topic
    assert_same_outcome(parse_frame(frame, NOW), ev)
    assert ev._raw is data  # kept as it came: nothing decoded, nothing copied
    ev.release()
    assert ev._raw is data and ev.raw == frame and ev.body["payload"]["object"]["topic"] == topic


def test_a_text_frame_that_is_not_utf8_is_malformed_and_kept_exactly() -> None:
    data = message_frame(JOINED).encode().replace(b"Weekly", b"W\xe9ekly")  # Latin-1 e-acute
    r = parse_text_frame(data, NOW)
    assert isinstance(r, MalformedFrame) and r.raw == data
    at = data.index(b"\xe9")
    assert r.reason == f"text frame is not valid UTF-8 (byte {at:,}: invalid continuation byte)"
    assert "not valid UTF-8" in parse_text_frame(b"\xff{}", NOW).reason


def test_text_frame_bytes_over_the_limit_and_envelopes_as_text() -> None:
    big = message_frame(JOINED).encode()
    r = parse_text_frame(big, NOW, max_bytes=len(big) - 1)
    assert isinstance(r, MalformedFrame) and f"{len(big):,} bytes is over the" in r.reason
    assert isinstance(parse_text_frame(big, NOW, max_bytes=len(big)), ZoomEvent)
    env = parse_text_frame(envelope_frame("heartbeat", True, "live").encode(), NOW)
    assert isinstance(env, Envelope) and env.kind == KIND_HEARTBEAT and isinstance(env.raw, str)
    # text given as str is parsed as text; anything else is shown, never raised
    assert isinstance(parse_text_frame(message_frame(JOINED), NOW), ZoomEvent)
    odd = parse_text_frame(12, NOW)  # type: ignore[arg-type]
    assert isinstance(odd, MalformedFrame) and "frame of type int" in odd.reason


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_means_the_same_as_its_utf8(data: str) -> None:
    assert_same_outcome(parse_frame(data, NOW), parse_text_frame(data.encode(), NOW))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_as_a_text_frame_never_raise(data: bytes) -> None:
    assert isinstance(parse_text_frame(data, NOW), ZoomEvent | Envelope | MalformedFrame)


@settings(max_examples=200, deadline=None)
@given(
    module=st.sampled_from(["message", "heartbeat", "build_connection"]) | json_values,
    content=json_values | json_values.map(lambda v: json.dumps(v, ensure_ascii=False)),
)
def test_arbitrary_envelopes_mean_the_same_as_their_utf8(module, content) -> None:
    frame = json.dumps({"module": module, "success": True, "content": content}, ensure_ascii=False)
    try:
        data = frame.encode()
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 to receive
        return
    assert_same_outcome(parse_frame(frame, NOW), parse_text_frame(data, NOW))
