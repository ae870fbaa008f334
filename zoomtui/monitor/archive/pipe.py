"""The pipe from the monitor to the writer process: its messages, packed and unpacked.

Every message is a header (`HEADER`: type, count, payload length, the monitor's clock)
and a payload:

    MSG_EVENTS  count event frames of one connection: u32 length of the connection id
                (0xFFFFFFFF: none) and its UTF-8, count f64 receive times, count u32 frame
                lengths, the frames one after the other, as received (UTF-8; native
                byte order)
    MSG_ITEMS   count (update, connection id) pairs, pickled: what is not an event
    MSG_FLUSH   answer marker `count` once everything before it is committed
    MSG_PRUNE   the same, after applying the retention limits
    MSG_TICK    nothing: the monitor's clock, sent when it has been idle for a second

`ProcessWriter` (in the monitor) packs and writes them; the writer process
(`zoomtui.monitor.archive.child`) reads and unpacks them.  The writer reports on its
stdout, one JSON object per line: status, error, written, dropped, taken, cpu, done
(marker numbers answered).
"""

from __future__ import annotations

import os
import pickle
import struct
from array import array
from typing import IO, Any

from zoomtui.monitor.archive.records import event_row
from zoomtui.zoom.protocol import ZoomEvent, parse_text_frame

MSG_EVENTS, MSG_ITEMS, MSG_FLUSH, MSG_PRUNE, MSG_TICK = 1, 2, 3, 4, 5
#: an idle monitor sends its clock this often (seconds)
TICK_INTERVAL = 1.0
HEADER = struct.Struct("<BIId")
_U32 = struct.Struct("<I")
#: events per MSG_EVENTS message: few enough that the frames the monitor holds (and copies
#: into the message) stay in its CPU cache, enough that packing them is a few C calls per
#: 64 events
PACK_ROWS = 64
#: the connection id length that says "no connection id"
_NO_CID = 0xFFFFFFFF


# ---------------------------------------------------------------------------------
# the monitor's side


def pack_frames(cid: str | None, frames: list[bytes], times: array, now: float) -> list[bytes]:
    """The MSG_EVENTS message, as one buffer: the frames' UTF-8 as received, side by side
    (both processes run on this machine: native byte order).

    Joined here, in the monitor, on purpose: copying 64 frames (~45 KB) costs less than
    what it saves. Measured on the ingest benchmark, handing the frames over one buffer
    each cost live ingest 11-12 %, joined 7-9 %: the frames are freed at once, while
    they are still in the cache, and the feeder thread takes the GIL to hand over and
    free one object per 64 events rather than one per event."""
    n = len(frames)
    lengths = array("I", map(len, frames))
    name = b"" if cid is None else cid.encode("utf-8", "surrogatepass")
    size = _NO_CID if cid is None else len(name)
    payload = 4 + len(name) + 12 * n + sum(lengths)
    return [
        b"".join(
            [
                HEADER.pack(MSG_EVENTS, n, payload, now),
                _U32.pack(size),
                name,
                times.tobytes(),
                lengths.tobytes(),
                *frames,
            ]
        )
    ]


def pack_items(items: list[Any], now: float) -> list[bytes]:
    data = pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL)
    return [HEADER.pack(MSG_ITEMS, len(items), len(data), now), data]


def pack_control(kind: int, count: int, now: float) -> list[bytes]:
    """A message with no payload: MSG_FLUSH or MSG_PRUNE (`count`: the marker), MSG_TICK."""
    return [HEADER.pack(kind, count, 0, now)]


def write_all(fd: int, buffers: list[bytes]) -> None:
    """Write every buffer to `fd` (blocking; the GIL is released while the kernel copies)."""
    writev = getattr(os, "writev", None)
    if writev is None:  # Windows
        data = memoryview(b"".join(buffers))
        while data:
            data = data[os.write(fd, data) :]
        return
    i = 0
    limit = 512  # well under IOV_MAX everywhere
    while i < len(buffers):
        group = buffers[i : i + limit]
        done = writev(fd, group)
        total = sum(map(len, group))
        if done < total:  # a partial write: finish the rest buffer by buffer
            for buf in group:
                if done >= len(buf):
                    done -= len(buf)
                    continue
                view = memoryview(buf)[done:]
                done = 0
                while view:
                    view = view[os.write(fd, view) :]
        i += limit


# ---------------------------------------------------------------------------------
# the writer process's side


def read_message(stream: IO[bytes]) -> tuple[int, int, bytes, float] | None:
    """The next message on `stream`: (type, count, payload, the monitor's clock), or None
    when the pipe has ended (the monitor closed the archive, exited or was killed)."""
    size = HEADER.size
    header = stream.read(size)
    if len(header) < size:
        return None
    kind, count, length, now = HEADER.unpack(header)
    payload = stream.read(length) if length else b""
    if len(payload) < length:
        return None
    return kind, count, payload, now


def unpack(kind: int, count: int, payload: bytes) -> list[Any]:
    """What a message carries, as `WriterCore` items (the writer process's side)."""
    if kind == MSG_EVENTS:
        return [EventFrames(count, payload)]
    if kind == MSG_ITEMS:
        return pickle.loads(payload)  # noqa: S301 - our own pipe, from the process that started us
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
        (size,) = _U32.unpack_from(p, 0)
        at = 4
        cid = None if size == _NO_CID else p[at : at + size].decode("utf-8", "surrogatepass")
        at += 0 if size == _NO_CID else size
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
                rows.append(head + event_row(ev))
            else:  # a hand-made event whose frame is not a valid one: kept, unindexed
                text = frame.decode("utf-8", "surrogatepass")
                rows.append((cid, received, None, None, None, None, None, None, None, None, text))
        return rows
