"""The messages from the monitor to the writer process, built and read back.

Every message is a header (`HEADER`: type, count, payload length, the monitor's clock,
sequence number) and a payload:

    MSG_EVENTS  count event frames of one connection and subscription: u32 length of the
                connection id (0xFFFFFFFF: none) and its UTF-8, the same of the events'
                hub subscription, count f64 receive times, count u32 frame lengths, the
                frames one after the other, as received (UTF-8; native byte order)
    MSG_ITEMS   count (update, connection id) pairs, pickled: what is not an event
    MSG_FLUSH   answer marker `count` once everything before it is committed
    MSG_PRUNE   the same, after applying the retention limits
    MSG_TICK    nothing: the monitor's clock, sent when it has been idle for a second

`ProcessWriter` (in the monitor) builds the payloads and hands them over through the
spool (`zoomtui.monitor.archive.spool`), which numbers them; the writer process
(`zoomtui.monitor.archive.child`) reads them back in that order and unpacks them.  The
writer reports on its stdout, one JSON object per line: status, error, warning, written,
dropped, taken, cpu, done (marker numbers answered), spool (the file it reads, and the
bytes it has read), index (the search index being built: records indexed and in all;
null before any build).
"""

from __future__ import annotations

import pickle
import struct
from array import array
from typing import Any

from zoomtui.monitor.archive.records import event_row
from zoomtui.zoom.protocol import ZoomEvent, parse_text_frame

MSG_EVENTS, MSG_ITEMS, MSG_FLUSH, MSG_PRUNE, MSG_TICK = 1, 2, 3, 4, 5
#: an idle monitor sends its clock this often (seconds)
TICK_INTERVAL = 1.0
#: type, count, payload length, the monitor's clock, sequence number (the spool's: 1, 2, ...)
HEADER = struct.Struct("<BIIdQ")
_U32 = struct.Struct("<I")
#: events per MSG_EVENTS message: few enough that the frames the monitor holds (and copies
#: into the message) stay in its CPU cache, enough that packing them is a few C calls per
#: 64 events
PACK_ROWS = 64
#: the connection id length that says "no connection id"
_NO_CID = 0xFFFFFFFF


# ---------------------------------------------------------------------------------
# the monitor's side


def _text(value: str | None) -> list[bytes]:
    if value is None:
        return [_U32.pack(_NO_CID)]
    data = value.encode("utf-8", "surrogatepass")
    return [_U32.pack(len(data)), data]


def _read_text(p: bytes, at: int) -> tuple[str | None, int]:
    (size,) = _U32.unpack_from(p, at)
    at += 4
    if size == _NO_CID:
        return None, at
    return p[at : at + size].decode("utf-8", "surrogatepass"), at + size


def frames_payload(
    cid: str | None, frames: list[bytes], times: array, subscription: str | None = None
) -> list[bytes]:
    """The MSG_EVENTS payload, as one buffer: the frames' UTF-8 as received, side by side
    (both processes run on this machine: native byte order).

    Joined here, in the monitor, on purpose: measured (add()'s CPU time per event), one
    joined buffer written to the spool cost 750-760 ns, the 65 buffers written as they are
    (one `writev`) 805-845 ns: the kernel's work per buffer outweighs the copy (~1.6 us per
    64 frames), which also frees the frames at once, still in the cache."""
    lengths = array("I", map(len, frames))
    head = [*_text(cid), *_text(subscription)]
    return [b"".join([*head, times.tobytes(), lengths.tobytes(), *frames])]


def items_payload(items: list[Any]) -> list[bytes]:
    """The MSG_ITEMS payload: (update, connection id) pairs."""
    return [pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL)]


# ---------------------------------------------------------------------------------
# the writer process's side


def unpack(kind: int, count: int, payload: bytes) -> list[Any]:
    """What a message carries, as `WriterCore` items (the writer process's side)."""
    if kind == MSG_EVENTS:
        return [EventFrames(count, payload)]
    if kind == MSG_ITEMS:
        return pickle.loads(payload)  # noqa: S301 - our own spool, from the process that started us
    return []


class EventFrames:
    """Event frames as the monitor handed them over (a MSG_EVENTS payload).  The writer
    makes rows of them a message at a time, as it inserts them, so a backlog waits here as
    compact bytes.  Each frame is parsed again, exactly as it was live (`parse_text_frame`
    of the same bytes and receive time), for the parsed columns."""

    __slots__ = ("count", "payload")

    def __init__(self, count: int, payload: bytes) -> None:
        self.count = count
        self.payload = payload

    def rows(self) -> list[tuple]:
        p, n = self.payload, self.count
        cid, at = _read_text(p, 0)
        sub, at = _read_text(p, at)
        times = array("d")
        times.frombytes(p[at : at + 8 * n])
        at += 8 * n
        lengths = array("I")
        lengths.frombytes(p[at : at + 4 * n])
        at += 4 * n
        data = memoryview(p)
        rows = []
        head = (cid,)
        for received, length in zip(times, lengths, strict=True):
            frame = data[at : at + length].tobytes()
            at += length
            ev = parse_text_frame(frame, received)
            if ev.__class__ is ZoomEvent:
                if sub is not None:  # (not in the frame: the hub's subject said it)
                    ev.subscription_id = sub
                rows.append(head + event_row(ev))
            else:  # a hand-made event whose frame is not a valid one: kept, unindexed
                text = frame.decode("utf-8", "surrogatepass")
                rows.append((cid, received, *[None] * 8, text, sub))
        return rows
