"""How the front ends use the archive: what to open, how updates reach it, history on start.

Zoom never replays an event, so every command that connects keeps what it received
(`zoomtui`/`run` and `tail` in the profile's archive, `demo` in its own file so made-up
meetings never mix with real ones), unless told `--no-archive` or ``archive = false``
in the profile.  No Textual here: `tail` and the TUI share all of it.

- `ArchivePlan`: whether to archive, the retention limits, how much history to load.
  `plan_from_profile()` builds it from a profile's settings and the command line.
- `Recorder`: what the monitor session (`zoomtui.monitor.session`) hands every update
  from its source to; it picks the connection id (``<run>:<attempt>``) so a replay can
  tell connections apart.
- `read_history()`: recent updates from the archive, in batches, for a thread to hand
  to the UI (or to `tail --since`), and `Downtime`: the interval after the history in
  which nothing was received because zoomtui was not running.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import AsyncIterator, Callable, Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from zoomtui.monitor.archive import Archive, ArchiveError, ArchiveReader, Record, Retention
from zoomtui.monitor.source import UpdateSource
from zoomtui.timefmt import clock_hm
from zoomtui.zoom.protocol import ZoomEvent
from zoomtui.zoom.updates import ConnectionState, Gap, StateChanged, Update

#: the TUI loads this much history on start unless told otherwise (a profile setting)
DEFAULT_HISTORY_SECONDS = 3600.0
#: updates per batch handed from the reading thread to the UI
HISTORY_BATCH = 1000

#: profile keys this module reads (declared in `zoomtui.config.PROFILE_KEYS`)
KEY_ARCHIVE = "archive"
KEY_MAX_AGE = "archive_max_age_days"
KEY_MAX_SIZE = "archive_max_size_mb"
KEY_HISTORY = "history_minutes"


@dataclass(frozen=True, slots=True)
class ArchivePlan:
    """What a front end does with the archive. `enabled=False`: nothing is written."""

    enabled: bool = True
    retention: Retention = field(default_factory=Retention)
    #: seconds of history to load on start (None or 0: none)
    history: float | None = DEFAULT_HISTORY_SECONDS
    #: the data folder (tests); None: the per-user data folder
    base: Path | None = None
    #: Archive keywords (flush_interval... for tests)
    options: Mapping[str, Any] = field(default_factory=dict)

    def open(self, profile: str = "default", *, demo: bool = False) -> Archive | None:
        """The archive to write (never raises: a disk problem is `archive.status == "failed"`),
        or None when archiving is off."""
        if not self.enabled:
            return None
        return Archive.open(
            profile, demo=demo, base=self.base, retention=self.retention, **dict(self.options)
        )


def plan_from_profile(
    values: Mapping[str, object] | None,
    *,
    archive: bool | None = None,
    history: float | None | bool = True,
    default_history: float | None = DEFAULT_HISTORY_SECONDS,
) -> ArchivePlan:
    """The plan for a profile's settings and the command line.

    `archive`: `--archive/--no-archive` (None: the profile's ``archive``, default on).
    `history`: seconds from `--history`, False for `--no-history`, True for the
    profile's ``history_minutes`` (else `default_history`).
    """
    values = values or {}
    enabled = archive if archive is not None else bool(values.get(KEY_ARCHIVE, True))
    base = Retention()
    age, size = (
        values.get(KEY_MAX_AGE, base.max_age_days),
        values.get(KEY_MAX_SIZE, base.max_size_mb),
    )
    # 0 (or less) in the file means "no limit of that kind"
    retention = Retention(
        max_age_days=float(age) if isinstance(age, int | float) and age > 0 else None,
        max_size_mb=float(size) if isinstance(size, int | float) and size > 0 else None,
    )
    if history is True:
        minutes = values.get(KEY_HISTORY)
        seconds = float(minutes) * 60 if isinstance(minutes, int | float) else default_history
    elif history is False or history is None:
        seconds = None
    else:
        seconds = float(history)
    return ArchivePlan(
        enabled=enabled,
        retention=retention,
        history=seconds if seconds and seconds > 0 and enabled else None,
    )


def new_run_id(now: float) -> str:
    """This process's part of a connection id: when it started, and its pid (two zoomtuis
    writing one archive stay apart)."""
    stamp = _dt.datetime.fromtimestamp(now, tz=_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{os.getpid()}"


class Recorder:
    """Hands every update from a source to the archive with its connection id.

    Call it with each update, in the order the source reported them: the archive keeps
    that order.  The connection id is ``<run>:<attempt>``, the attempt taken from the
    state changes, so the events of one WebSocket share an id.
    """

    __slots__ = ("_add", "archive", "attempt", "cid", "run")

    def __init__(self, archive: Archive, run: str) -> None:
        self.archive = archive
        self.run = run
        self.attempt = 0
        self.cid = f"{run}:0"
        self._add = archive.add

    def __call__(self, update: Update) -> None:
        if update.__class__ is StateChanged:
            attempt = update.attempt
            if attempt != self.attempt:
                self.attempt = attempt
                self.cid = f"{self.run}:{attempt}"
        self._add(update, self.cid)


# ---------------------------------------------------------------------------------
# history


@dataclass(frozen=True, slots=True)
class Downtime:
    """From the last thing recorded to now: nothing was received (zoomtui was not running,
    or it was and nothing arrived before it stopped)."""

    start: float
    end: float
    #: the recorded run ended with a stop or failure (else it was killed, or is still running)
    ended_cleanly: bool

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)

    @property
    def reason(self) -> str:
        if self.ended_cleanly:
            return "zoomtui was not running"
        return "nothing recorded: zoomtui was not running, or stopped without saying so"


class HistoryTracker:
    """Follows the history as it is read, to say what came after it (`downtime`)."""

    def __init__(self) -> None:
        self.count = 0
        self.events = 0
        self.first_at: float | None = None
        self.last_at: float | None = None
        self.last_state: ConnectionState | None = None

    def see(self, record: Record) -> None:
        self.count += 1
        if self.first_at is None:
            self.first_at = record.at
        self.last_at = record.at if self.last_at is None else max(self.last_at, record.at)
        u = record.update
        if isinstance(u, StateChanged):
            self.last_state = u.state
        elif u.__class__ is ZoomEvent:
            self.events += 1

    def downtime(self, now: float) -> Downtime | None:
        if self.last_at is None or now <= self.last_at:
            return None
        clean = self.last_state is not None and self.last_state.is_final
        return Downtime(self.last_at, now, clean)


#: a new run starting this long after the last record is taken as a restart (not a second
#: zoomtui writing the same archive at the same time)
RESTART_AFTER = 1.0


class RunGaps:
    """Finds where one zoomtui run ended and the next began, in records in time order.

    The archive records gaps within a run (reconnects); between two runs nothing was
    received and nothing says so.  The first record of a new run (the part of the
    connection id before the last ``:``) after a run that stopped, or after a silence of
    `RESTART_AFTER` seconds, gets a `Gap` record put before it.
    """

    def __init__(self) -> None:
        self.run: str | None = None
        self.runs: set[str] = set()
        self.last_at: float | None = None
        self.last_state: ConnectionState | None = None

    def gap_before(self, record: Record) -> Record | None:
        cid = record.connection_id
        run = cid.rpartition(":")[0] if cid and ":" in cid else None
        gap = None
        if run and run != self.run:
            last = self.last_at
            stopped = self.last_state is not None and self.last_state.is_final
            if (
                self.run is not None
                and run not in self.runs
                and last is not None
                and record.at > last
                and (stopped or record.at - last >= RESTART_AFTER)
            ):
                down = Downtime(last, record.at, stopped)
                gap = Record(
                    seq=-1,
                    at=record.at,
                    connection_id=None,
                    update=Gap(start=down.start, end=down.end, reason=down.reason),
                )
            self.run = run
            self.runs.add(run)
        self.last_at = record.at if self.last_at is None else max(self.last_at, record.at)
        u = record.update
        if isinstance(u, StateChanged):
            self.last_state = u.state
        return gap


def read_history(
    reader: ArchiveReader,
    since: float | None,
    until: float | None,
    *,
    batch: int = HISTORY_BATCH,
    seen: HistoryTracker | None = None,
    kinds: tuple[str, ...] | None = None,
    run_gaps: bool = True,
) -> Generator[list[Record], None, None]:
    """Stored records with `since <= at < until`, in time order, `batch` at a time, with
    a gap put in between two runs of zoomtui (`RunGaps`).  Blocking (SQLite and parsing):
    run it in a thread.  An archive that does not exist yet is an empty history; other
    problems raise `ArchiveError`."""
    if not reader.path.exists():
        return
    chunk: list[Record] = []
    runs = RunGaps() if run_gaps else None
    try:
        for record in reader.iter_records(since, until, kinds=kinds):
            if runs is not None:
                gap = runs.gap_before(record)
                if gap is not None:
                    if seen is not None:
                        seen.see(gap)
                    chunk.append(gap)
            if seen is not None:
                seen.see(record)
            chunk.append(record)
            if len(chunk) >= batch:
                yield chunk
                chunk = []
    except ArchiveError as exc:
        if "is empty (never written)" in str(exc):  # opened once, nothing kept yet
            return
        raise
    if chunk:
        yield chunk


def describe_span(
    start: float, end: float, clock_format: Callable[[float], str] | None = None
) -> str:
    """``14:03–15:03`` (with the date when the span is not today)."""
    fmt = clock_format or (lambda t: clock_hm(int(t * 1000)))
    day = _dt.datetime.fromtimestamp(start).date()
    prefix = "" if day == _dt.date.today() else f"{day.isoformat()} "
    return f"{prefix}{fmt(start)}–{fmt(end)}"


class Recorded:
    """A source whose every update goes through `record` first, in order, before whoever
    iterates it sees it (an `UpdateSource` around another one)."""

    def __init__(self, source: UpdateSource, record: Callable[[Update], None]) -> None:
        self.source = source
        self.record = record

    async def updates(self) -> AsyncIterator[Update]:
        record = self.record
        async for update in self.source.updates():
            record(update)
            yield update

    def request_connect(self) -> None:
        self.source.request_connect()

    def request_disconnect(self) -> None:
        self.source.request_disconnect()

    def request_reconnect(self) -> None:
        self.source.request_reconnect()

    async def close(self) -> None:
        await self.source.close()

    def __getattr__(self, name: str) -> Any:  # state, stats, failure ... of the source
        return getattr(self.source, name)


@dataclass(frozen=True, slots=True)
class HistoryMark:
    """The line between history loaded from the archive and what arrives live."""

    text: str
    at: float
    #: how the filter language sees it (``type:history``)
    filter_name: ClassVar[str] = "history"

    @property
    def received_at(self) -> float:
        return self.at

    @property
    def filter_text(self) -> str:
        return self.text


def history_cut_words(cut_at: float) -> str:
    """The line where the history on start was cut short, live first (`cut_at`: the time
    of the last record applied; 0.0: none was)."""
    where = f"history stopped at {clock_hm(int(cut_at * 1000))}" if cut_at else "history not loaded"
    return f"{where}: the live stream came first; A searches the rest of the archive"
