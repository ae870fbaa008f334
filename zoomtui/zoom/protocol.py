"""Zoom's WebSocket frames, parsed: pure, fast, and never raising on bad input.

A frame is a JSON envelope ``{"module", "success", "content", "header"}``.
For ``module == "message"`` the content is the event, usually as a JSON
*string* (what Zoom sends), sometimes as an object (accepted too).

`parse_frame()` turns one received frame into exactly one of:

- `ZoomEvent`      a ``message`` frame holding a well-formed event;
- `Envelope`       any other well-formed frame (build_connection, heartbeat,
                   unknown modules, invalid-token frames: see `Envelope.kind`);
- `MalformedFrame` anything else, with a one-line reason and the raw bytes.

Events keep the raw frame text and a few derived keys; the full body is
parsed again on demand (`ZoomEvent.body`), so a log of 100,000 events stays
small.  Nothing here imports Textual or does I/O.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

import orjson

from zoomtui.zoom.rawjson import member_text, preview
from zoomtui.zoom.subjects import subject_of

#: Frames larger than this are refused as malformed (a setting in the connection).
DEFAULT_MAX_FRAME_BYTES = 1 << 20

#: How much of a malformed frame is shown on screen (the whole frame is kept).
DISPLAY_LIMIT = 240

UTC = _dt.UTC

# Envelope kinds
KIND_BUILD_CONNECTION = "build_connection"
KIND_HEARTBEAT = "heartbeat"
KIND_INVALID_TOKEN = "invalid_token"  # the text, in any module, whatever "success" says
KIND_ERROR = "error"  # success:false, not about the token
KIND_UNKNOWN = "unknown"  # a module we do not know: kept and shown, never fatal


@dataclass(frozen=True, slots=True, repr=False)
class Envelope:
    """A well-formed non-event frame."""

    module: str
    success: bool | None
    content: Any
    header: dict
    raw: str
    received_at: float
    kind: str

    @property
    def content_text(self) -> str:
        """The content as text: a string as it is, anything else as the frame wrote it.
        Never raises: the content is not written out again (orjson writes only 254 of the
        1,024 levels it reads)."""
        c = self.content
        if isinstance(c, str):
            return c
        text = member_text(self.raw, "content")
        return text if text is not None else _describe(c)

    @property
    def content_preview(self) -> str:
        """`content_text` cut to a length a message can hold (Zoom's text may be any size)."""
        return preview(self.content_text)

    def __repr__(self) -> str:  # never the content: it may be nested past what repr() can walk
        return (
            f"Envelope(module={self.module[:40]!r}, success={self.success!r}, "
            f"kind={self.kind!r}, {len(self.raw):,} characters)"
        )

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Pickled (to the archive's writer process) as its frame's text: the content may nest
        # past what pickle can walk (1,024 levels), and it is read again from that text.
        return (_envelope_again, (self.module, self.success, self.raw, self.received_at, self.kind))


def _envelope_again(
    module: str, success: bool | None, raw: str, received_at: float, kind: str
) -> Envelope:
    """An unpickled `Envelope`: content and header read again from the frame's text."""
    try:
        env = orjson.loads(raw)
        content, header = env.get("content"), env.get("header")
    except (orjson.JSONDecodeError, AttributeError):
        content, header = None, None
    return Envelope(
        module=module,
        success=success,
        content=content,
        header=header if isinstance(header, dict) else {},
        raw=raw,
        received_at=received_at,
        kind=kind,
    )


@dataclass(frozen=True, slots=True)
class MalformedFrame:
    """A frame that could not be understood. Kept whole; shown truncated."""

    raw: bytes
    reason: str
    received_at: float

    @property
    def preview(self) -> str:
        text = self.raw[:DISPLAY_LIMIT].decode("utf-8", errors="replace")
        text = text.replace("\n", "\\n").replace("\r", "\\r")
        return text + ("…" if len(self.raw) > DISPLAY_LIMIT else "")

    @property
    def size(self) -> int:
        return len(self.raw)


def family_of(name: str) -> str:
    """The event family used for colour and grouping: ``meeting.participant_joined`` -> ``meeting``."""
    head, _, _ = name.partition(".")
    return head


class ZoomEvent:
    """One event from a ``message`` frame.

    Derived keys are computed once at parse time; `body` re-parses the raw
    frame when it is not cached, so retained events stay compact (call
    `release()` once the body is no longer needed).  An event off the network
    keeps its frame as the UTF-8 bytes it came in (`parse_text_frame`); one
    made from text keeps the text until `release()`, which keeps a frame that is
    not plain ASCII as UTF-8 too.  `raw` decodes on demand.
    """

    __slots__ = (
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
        "subject",
        "_raw",
        "search_text",
        "_body",
        "duplicate_after",
        "subscription_id",
    )

    def __init__(
        self,
        *,
        name: str,
        event_ts_ms: int | None,
        received_at: float,
        account_id: str | None,
        meeting_uuid: str | None,
        meeting_id: str | None,
        topic: str | None,
        participant_key: str | None,
        participant_name: str | None,
        participant_email: str | None,
        raw: str | bytes,
        body: dict | None = None,
        subject: str | None = None,
    ) -> None:
        self.name = name
        self.event_ts_ms = event_ts_ms
        self.received_at = received_at
        self.account_id = account_id
        self.meeting_uuid = meeting_uuid
        self.meeting_id = meeting_id
        self.topic = topic
        self.participant_key = participant_key
        self.participant_name = participant_name
        self.participant_email = participant_email
        #: who or what an event that is not about a meeting occurrence concerns (user.*,
        #: account.*, team_chat.*, ...): "name <email>", an email or a name (None: none)
        self.subject = subject
        self._raw: str | bytes = raw
        self._body = body
        #: seconds since this frame's first copy, set by the session on a duplicate (None: none)
        self.duplicate_after: float | None = None
        #: the subscription this event came through, set by a hub viewer from the subject
        #: it was published under (None: a direct connection's event, which has only one)
        self.subscription_id: str | None = None
        # One lower-case haystack for free-text filter terms (see monitor.filters).
        # (filter(None, ...) rather than a generator: this runs once per received event.)
        self.search_text = "\x00".join(
            filter(
                None,
                (
                    name,
                    topic,
                    meeting_id,
                    meeting_uuid,
                    participant_name,
                    participant_email,
                    subject,
                ),
            )
        ).lower()

    # -- the event as Zoom sent it -------------------------------------------------
    @property
    def raw(self) -> str:
        """The whole frame, as received, as text."""
        r = self._raw
        # (mypy does not narrow the else of a __class__ test, the cheapest test here)
        return r if r.__class__ is str else r.decode("utf-8", "surrogatepass")  # type: ignore[union-attr]

    @raw.setter
    def raw(self, value: str) -> None:
        self._raw = value

    @property
    def stored_raw(self) -> str | bytes:
        """The whole frame as this event keeps it, not decoded: UTF-8 bytes or text."""
        return self._raw

    @property
    def body(self) -> dict:
        """The whole event object (``event``, ``event_ts``, ``payload``, ...)."""
        b = self._body
        if b is None:
            b = _event_body_from_raw(self._raw)
            self._body = b
        return b

    def release(self) -> None:
        """Drop the cached body (it is parsed again from `raw` when asked for), and keep a
        frame that is not plain ASCII as UTF-8: Python stores such text at 2 or 4 bytes a
        character (one emoji in a topic makes the whole frame 4), and 100,000 retained
        frames with names like "Björn" or "李雷" took 134 MB as text, 75 MB as UTF-8."""
        self._body = None
        r = self._raw
        if r.__class__ is str and not r.isascii():
            self._raw = r.encode("utf-8", "surrogatepass")

    @property
    def payload(self) -> dict:
        p = self.body.get("payload")
        return p if isinstance(p, dict) else {}

    @property
    def object(self) -> dict:
        o = self.payload.get("object")
        return o if isinstance(o, dict) else {}

    @property
    def participant(self) -> dict:
        p = self.object.get("participant")
        return p if isinstance(p, dict) else {}

    # -- time ----------------------------------------------------------------------
    @property
    def event_ts(self) -> _dt.datetime | None:
        """``event_ts`` as an aware UTC datetime (None when the event has none)."""
        if self.event_ts_ms is None:
            return None
        return _dt.datetime.fromtimestamp(self.event_ts_ms / 1000, tz=UTC)

    @property
    def received_dt(self) -> _dt.datetime:
        return _dt.datetime.fromtimestamp(self.received_at, tz=UTC)

    @property
    def lag(self) -> float | None:
        """Seconds between Zoom stamping the event and us receiving it."""
        if self.event_ts_ms is None:
            return None
        return self.received_at - self.event_ts_ms / 1000

    @property
    def family(self) -> str:
        return family_of(self.name)

    def __repr__(self) -> str:
        return (
            f"ZoomEvent(name={self.name!r}, event_ts_ms={self.event_ts_ms!r}, "
            f"meeting_uuid={self.meeting_uuid!r}, participant_key={self.participant_key!r})"
        )


Parsed = ZoomEvent | Envelope | MalformedFrame


# ---------------------------------------------------------------------------------
# parsing


def _is_invalid_token(content: Any) -> bool:
    """Zoom's invalid-token text, in any wording seen ("Invalid Token", "Token is invalid")."""
    if not isinstance(content, str):
        return False
    c = content.lower()
    return "token" in c and ("invalid" in c or "expired" in c)


def _str_or_none(v: Any) -> str | None:
    if v.__class__ is str:  # the common case first: this runs several times per event
        return v or None
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, str):
        return v or None
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return None


def _event_body_from_raw(raw: str | bytes) -> dict:
    env = orjson.loads(raw)
    content = env["content"]
    if isinstance(content, str):
        content = orjson.loads(content)
    return content


def _malformed(data: bytes | str, reason: str, received_at: float) -> MalformedFrame:
    raw = data if isinstance(data, bytes) else data.encode("utf-8", errors="surrogatepass")
    return MalformedFrame(raw=raw, reason=reason, received_at=received_at)


def _describe(v: Any) -> str:
    return {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        type(None): "null",
        int: "a number",
        float: "a number",
    }.get(type(v), type(v).__name__)


def _odd_event_ts(ts: Any) -> int | None | str:
    """An `event_ts` that is not an int, as milliseconds (None: unusable), or why the event
    cannot be read.  Apart from `event_from_body`: almost every event's is an int."""
    if isinstance(ts, bool):
        return "event_ts is a boolean, not milliseconds"
    if isinstance(ts, float):
        return int(ts) if ts == ts and abs(ts) < 1e16 else None
    if isinstance(ts, str):
        return int(ts) if ts.isdigit() else None
    return ts if isinstance(ts, int) else None


def event_from_body(body: Any, raw: str | bytes, received_at: float) -> ZoomEvent | str:
    """Build a `ZoomEvent` from a decoded event object, or return a reason why not."""
    # Hot path (once per received event): exact-type checks first (`type(x) is dict` is
    # what orjson returns), the general isinstance checks only as the fallback.
    if body.__class__ is not dict and not isinstance(body, dict):
        return f"event is {_describe(body)}, not an object"
    get = body.get
    name = get("event")
    if not isinstance(name, str) or not (stripped := name.strip()):
        return 'event has no name ("event" missing or not a string)'
    if stripped is not name:  # (strip() returns the very string when there is nothing to strip)
        name = name.strip(" ")  # one of Zoom's own examples ends its event name with a space
    ts = get("event_ts")
    if ts.__class__ is not int:
        ts = _odd_event_ts(ts)
        if isinstance(ts, str):
            return ts
    if ts is not None and not (0 <= ts < 32503680000000):  # year 3000
        ts = None
    payload = get("payload")
    if payload is None:
        payload = {}
    elif payload.__class__ is not dict and not isinstance(payload, dict):
        return f"payload is {_describe(payload)}, not an object"
    obj = payload.get("object")
    if obj.__class__ is not dict and not isinstance(obj, dict):
        obj = {}  # some families send an array here: valid, no derived keys
    oget = obj.get
    part = oget("participant")
    if part is None:
        pkey = name_ = email = None
    else:
        if part.__class__ is not dict and not isinstance(part, dict):
            part = {}
        pget = part.get
        pkey = (
            _str_or_none(pget("participant_uuid"))
            or _str_or_none(pget("id"))
            or _str_or_none(pget("user_id"))
        )
        name_ = pget("user_name")
        email = pget("email")
    topic = oget("topic")
    if topic.__class__ is not str:
        topic = None
        # Not a meeting occurrence (user.*, account.*, team_chat.*, ...): say who or what
        # it is about.  Only here, so a meeting event pays one comparison for it.
        subject = subject_of(oget) if part is None else None
    else:
        subject = None
    return ZoomEvent(
        name=name,
        event_ts_ms=ts,
        received_at=received_at,
        account_id=_str_or_none(payload.get("account_id")),
        meeting_uuid=_str_or_none(oget("uuid")),
        meeting_id=_str_or_none(oget("id")),
        topic=topic,
        participant_key=pkey,
        participant_name=name_ if isinstance(name_, str) else None,
        participant_email=email if isinstance(email, str) else None,
        raw=raw,
        body=body,
        subject=subject,
    )


def parse_frame(
    data: bytes | str, received_at: float, max_bytes: int = DEFAULT_MAX_FRAME_BYTES
) -> Parsed:
    """Parse one received WebSocket frame: str is a text frame, bytes a binary one.
    Never raises."""
    try:
        return _parse_frame(data, received_at, max_bytes)
    except Exception as exc:  # the contract is "never raises": anything unforeseen is malformed
        return _malformed(
            data if isinstance(data, (bytes, str)) else repr(data).encode(),
            f"unexpected parser error: {type(exc).__name__}",
            received_at,
        )


def parse_text_frame(
    data: bytes, received_at: float, max_bytes: int = DEFAULT_MAX_FRAME_BYTES
) -> Parsed:
    """Parse one received text frame given as the UTF-8 bytes it came in (websockets'
    ``recv(decode=False)``): nothing is decoded to text and encoded again on the way to
    the archive, and an event keeps its frame as these bytes. Never raises."""
    if data.__class__ is not bytes and not isinstance(data, bytes):
        return parse_frame(data, received_at, max_bytes)  # text as str, or not a frame at all
    try:
        return _parse_text(data, received_at, max_bytes)
    except Exception as exc:  # the contract is "never raises": anything unforeseen is malformed
        return _malformed(data, f"unexpected parser error: {type(exc).__name__}", received_at)


def _parse_frame(data: bytes | str, received_at: float, max_bytes: int) -> Parsed:
    # Exact-type checks first on this hot path (once per frame); isinstance as the fallback.
    if data.__class__ is not str:
        if isinstance(data, bytes):
            if len(data) > max_bytes:
                return _malformed(
                    data,
                    f"frame of {len(data):,} bytes is over the {max_bytes:,}-byte limit",
                    received_at,
                )
            # Zoom sends text frames only; a binary frame is shown, never guessed at.
            return _malformed(data, "binary frame (Zoom sends text frames)", received_at)
        if not isinstance(data, str):
            return _malformed(
                repr(data).encode(), f"frame of type {type(data).__name__}", received_at
            )
    if len(data) > max_bytes:  # characters >= bytes/4; cheap check first
        return _malformed(
            data,
            f"frame of {len(data):,} characters is over the {max_bytes:,}-byte limit",
            received_at,
        )
    return _parse_text(data, received_at, max_bytes)


def _not_utf8(data: bytes | str) -> str | None:
    """Why a text frame's bytes are not UTF-8 (None when they are)."""
    if data.__class__ is str:
        return None
    try:
        data.decode("utf-8")  # type: ignore[union-attr]  # bytes: str returned above
    except UnicodeDecodeError as exc:
        return f"text frame is not valid UTF-8 (byte {exc.start:,}: {exc.reason})"
    return None


def _parse_text(data: bytes | str, received_at: float, max_bytes: int) -> Parsed:
    """A text frame's JSON, as str or as its UTF-8 bytes (orjson reads either)."""
    if len(data) > max_bytes and data.__class__ is bytes:
        return _malformed(
            data, f"frame of {len(data):,} bytes is over the {max_bytes:,}-byte limit", received_at
        )
    try:
        env = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return _malformed(
            data, _not_utf8(data) or f"not JSON: {exc.args[0] if exc.args else exc}", received_at
        )
    if env.__class__ is not dict:  # orjson only ever returns a plain dict for an object
        return _malformed(data, f"frame is {_describe(env)}, not a JSON object", received_at)
    get = env.get
    module = get("module")
    if module.__class__ is not str:
        return _malformed(data, 'frame has no "module" string', received_at)
    success = get("success")
    if success is not None and success is not True and success is not False:
        return _malformed(data, f'"success" is {_describe(success)}, not a boolean', received_at)
    header = get("header")
    if header is None:
        header = {}
    elif header.__class__ is not dict:
        return _malformed(data, f'"header" is {_describe(header)}, not an object', received_at)
    content = get("content")

    if module == "message" and success is not False:
        if content.__class__ is str:
            try:
                body = orjson.loads(content)
            except orjson.JSONDecodeError as exc:
                if _is_invalid_token(content):  # (looked for only here: an event may say it)
                    return _envelope(data, module, success, content, header, received_at)
                return _malformed(
                    data,
                    f"message content is not JSON: {exc.args[0] if exc.args else exc}",
                    received_at,
                )
        elif content.__class__ is dict:
            body = content
        else:
            return _malformed(
                data, f"message content is {_describe(content)}, not an event", received_at
            )
        ev = event_from_body(body, data, received_at)
        if ev.__class__ is str:
            if _is_invalid_token(body):  # the text as a JSON string
                return _envelope(data, module, success, content, header, received_at)
            return _malformed(data, ev, received_at)
        return ev  # type: ignore[return-value]  # (a str was returned above)
    return _envelope(data, module, success, content, header, received_at)


def _envelope(
    data: bytes | str,
    module: str,
    success: bool | None,
    content: Any,
    header: dict,
    received_at: float,
) -> Envelope:
    """A frame that is no event, by kind.  The invalid-token text comes first, whatever
    `success` says and in any module (ZoomNet's order): {"module":"heartbeat","content":
    "Invalid Token"} is no healthy heartbeat, and a message frame that says it no event."""
    if _is_invalid_token(content):
        kind = KIND_INVALID_TOKEN
    elif module == "build_connection":
        kind = KIND_BUILD_CONNECTION
    elif module == "heartbeat":
        kind = KIND_HEARTBEAT
    elif success is False:
        kind = KIND_ERROR
    else:
        kind = KIND_UNKNOWN
    if data.__class__ is not str:  # a rare frame: kept as text, like every envelope
        data = data.decode("utf-8", "replace")  # type: ignore[union-attr]  # not str: bytes
    return Envelope(
        module=module,
        success=success,
        content=content,
        header=header,
        raw=data,
        received_at=received_at,
        kind=kind,
    )


# ---------------------------------------------------------------------------------
# frames we send, and frames the fake sends (one place for the wire format)

HEARTBEAT_REQUEST = '{"module":"heartbeat"}'


def message_frame(event: dict | str) -> str:
    """Wrap an event the way Zoom does: a ``message`` envelope whose content is a JSON string."""
    content = event if isinstance(event, str) else orjson.dumps(event).decode()
    return orjson.dumps(
        {"module": "message", "success": True, "content": content, "header": {}}
    ).decode()


def envelope_frame(module: str, success: bool, content: Any, header: dict | None = None) -> str:
    return orjson.dumps(
        {"module": module, "success": success, "content": content, "header": header or {}}
    ).decode()
