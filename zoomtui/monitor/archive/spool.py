"""The spool: where the monitor hands messages to the writer process, in files the kernel
holds for both of them.

Why not a pipe: a pipe holds 64 KiB.  When the writer (at the lowest CPU priority, its
reading thread sharing a GIL with its parsing) fell behind in a flood, the pipe filled
and the backlog waited in the monitor, where a `kill -9` took it: 12,648 events (355 ms)
in one measured flood.  A spool file never refuses a write, so the monitor hands each
message over the moment it is built, and whatever it has handed over outlives it: the
writer reads the spool to its end after the monitor is gone, and commits.

Two files take turns (`SpoolOut`): the monitor appends to one until it holds
`SWITCH_BYTES` and the writer has moved off the other, then empties the other and
appends there.  Every message carries a sequence number, so the writer (`SpoolIn`) takes
exactly the next one wherever it finds it: at its place in the file it reads, or at the
start of the other file once the monitor has switched.  A file only grows as bytes are
copied into it, so the writer never sees half a message; one cut short by a kill is
left unread.

The files are anonymous memory (``memfd``) on Linux, unlinked temporary files elsewhere:
nothing is left behind when both processes end, however they end.  The writer process
inherits both at start (`pass_fds`); where that is impossible (Windows) opening a spool
raises OSError and the archive falls back to its writer thread.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence

from zoomtui.monitor.archive.messages import HEADER

#: the monitor starts on the other file once the one it appends to holds this much (and the
#: writer has left the other): what the writer has read is given back at most this late
SWITCH_BYTES = 4 << 20
#: buffers per writev call: well under IOV_MAX everywhere
_IOV_MAX = 512


def open_spool_files() -> tuple[int, int]:
    """Two new, empty spool files (file descriptors the writer process can inherit).
    Raises OSError where that cannot be done."""
    if os.name == "nt":  # no fd inheritance for a child process's own use
        raise OSError("no spool files on this system")
    fds: list[int] = []
    try:
        for i in range(2):
            memfd = getattr(os, "memfd_create", None)
            if memfd is not None:
                try:
                    fds.append(memfd(f"zoomtui-archive-spool-{i}"))  # close-on-exec
                    continue
                except OSError:
                    pass  # no memfd (an old kernel, a sandbox): a temporary file instead
            with tempfile.TemporaryFile(prefix="zoomtui-spool-") as f:
                fds.append(os.dup(f.fileno()))
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    return fds[0], fds[1]


def write_all(fd: int, buffers: Sequence[bytes]) -> None:
    """Write every buffer to `fd`, at its current offset (a regular file: never waits for
    a reader). Raises OSError."""
    writev = getattr(os, "writev", None)
    if writev is None:
        data = memoryview(b"".join(buffers))
        while data:
            data = data[os.write(fd, data) :]
        return
    i = 0
    while i < len(buffers):
        group = buffers[i : i + _IOV_MAX]
        done = writev(fd, group)
        total = sum(map(len, group))
        if done < total:  # a short write: finish the rest buffer by buffer
            for buf in group:
                if done >= len(buf):
                    done -= len(buf)
                    continue
                view = memoryview(buf)[done:]
                done = 0
                while view:
                    view = view[os.write(fd, view) :]
        i += _IOV_MAX


class SpoolOut:
    """The monitor's side: appends numbered messages to the spool files.  Not thread-safe:
    the caller serialises `write` (`ProcessWriter` holds its lock)."""

    def __init__(self, fds: tuple[int, int]) -> None:
        self.fds = fds
        self._cur = 0
        self._size = [0, 0]
        self._seq = 0
        #: bytes written in all, and (from the writer's reports) bytes it has read, and the
        #: file it reads
        self.written = 0
        self.consumed = 0
        self.reading = 0

    @property
    def held(self) -> int:
        """Bytes handed over that the writer has not read yet."""
        return max(0, self.written - self.consumed)

    def write(
        self, kind: int, count: int, now: float, payload: list[bytes], length: int = -1
    ) -> int:
        """Append one message (`length`: the payload's, if known); its size in bytes.
        Raises OSError (the spool is then as it was: a message is written whole or not
        at all)."""
        if self._size[self._cur] >= SWITCH_BYTES and self.reading == self._cur:
            self._switch()
        if length < 0:
            length = sum(map(len, payload))
        seq = self._seq + 1
        fd, start = self.fds[self._cur], self._size[self._cur]
        try:
            write_all(fd, [HEADER.pack(kind, count, length, now, seq), *payload])
        except OSError:
            with contextlib.suppress(OSError):  # no half message for the writer to find
                os.ftruncate(fd, start)
                os.lseek(fd, start, os.SEEK_SET)
            raise
        size = HEADER.size + length
        self._seq = seq
        self._size[self._cur] += size
        self.written += size
        return size

    def _switch(self) -> None:
        """Empty the other file (the writer has read all of it) and append there."""
        other = 1 - self._cur
        os.ftruncate(self.fds[other], 0)
        os.lseek(self.fds[other], 0, os.SEEK_SET)
        self._size[other] = 0
        self._cur = other

    def close(self) -> None:
        for fd in self.fds:
            with contextlib.suppress(OSError):
                os.close(fd)


class SpoolIn:
    """The writer's side: reads the messages in order of their numbers."""

    def __init__(self, fds: Sequence[int]) -> None:
        self.fds = tuple(fds)
        #: the file being read, where, the number of the next message, bytes read in all
        self.file = 0
        self.offset = 0
        self.next_seq = 1
        self.consumed = 0

    def read(self) -> tuple[int, int, bytes, float] | None:
        """The next message (type, count, payload, the monitor's clock), or None when it
        has not been written (whole) yet."""
        got = self._read_at(self.file, self.offset)
        if got is None:
            other = 1 - self.file
            got = self._read_at(other, 0)
            if got is None:
                return None
            self.file, self.offset = other, 0
        kind, count, payload, now = got
        size = HEADER.size + len(payload)
        self.offset += size
        self.consumed += size
        self.next_seq += 1
        return kind, count, payload, now

    def _read_at(self, file: int, offset: int) -> tuple[int, int, bytes, float] | None:
        fd = self.fds[file]
        header = os.pread(fd, HEADER.size, offset)
        if len(header) < HEADER.size:
            return None
        kind, count, length, now, seq = HEADER.unpack(header)
        if seq != self.next_seq:  # an older message (read before), or not there yet
            return None
        payload = os.pread(fd, length, offset + HEADER.size) if length else b""
        if len(payload) < length:
            return None  # still being written (or cut short by a kill: never finished)
        return kind, count, payload, now
