"""One monitor session under every front end (no Textual).

A `MonitorSession` takes what a source yields (an `UpdateSource`: the live connection,
an archive replay, later a hub subscription) and keeps what the front ends show: the
event log, the meeting tracker, the link's status and rate, the archive, the history
loaded on start.  The TUI and `tail` drive the same session; neither dispatches updates
itself.

Two ways in, each in the order the source yielded the updates:

- `observe(update)`: every update as the source yields it, raw: the archive's
  `Recorder` and the sinks' `on_update` see it at once (before a front end batches it,
  and while the history loads).  Nothing else happens here.
- `apply(update)` / `apply_batch(updates)`: the one dispatch of each kind of update to
  the models and to the sinks' typed methods (`on_event`, `on_gap`, ...).  Returns an
  `Applied` saying what changed, for the front end to render.

`receive(update)` is both, for a front end that does not batch (`tail`).

History on start: `begin_history()`, then `apply_history(records)` batch by batch
(oldest first, through the same dispatch: the tracker is rebuilt as live built it), then
`end_history(...)`.  Live updates applied meanwhile wait behind the history, in order;
only the link's status (state, heartbeat, token) follows them at once, so the panel
shows the link as it is.  At most `hold_limit` of them wait: under a flood the one after
that cuts the history short (live first; memory stays bounded whatever the archive's
size and the live rate): what was read stays, a line says where it stopped, then the
live updates that waited follow (`history_cut`).

Sinks (`SessionSink`) hear what the session applies, in order.  A sink must be quick
(a sink with slow work queues it for its own task or process) and can never break the
session: whatever it raises is caught, counted in `sink_errors` and logged once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from zoomtui.monitor.eventlog import EventLog, GapRow, StateRow
from zoomtui.monitor.linkstatus import LinkStatus
from zoomtui.monitor.quality import DUPLICATE_WINDOW, DuplicateWindow
from zoomtui.monitor.recording import (
    Downtime,
    HistoryMark,
    HistoryTracker,
    Recorder,
    history_cut_words,
    new_run_id,
)
from zoomtui.monitor.rosterlines import RosterMark, roster_brief, roster_summary
from zoomtui.redaction import redact
from zoomtui.zoom.protocol import MalformedFrame, ZoomEvent
from zoomtui.zoom.rosters import RosterSnapshot
from zoomtui.zoom.updates import (
    ConnectionState,
    Gap,
    Heartbeat,
    Notice,
    StateChanged,
    TokenInfo,
    Update,
)

if TYPE_CHECKING:
    from zoomtui.monitor.archive import Archive, Record
    from zoomtui.monitor.archive.searchindex import IndexBuild
    from zoomtui.monitor.meetings import MeetingTracker

log = logging.getLogger("zoomtui.monitor.session")

#: states that also appear as a line in the event log (the others are transient)
LOGGED_STATES = frozenset(
    {
        ConnectionState.CONNECTED,
        ConnectionState.RECONNECTING,
        ConnectionState.DISPLACED,
        ConnectionState.STOPPED,
        ConnectionState.FAILED,
    }
)
#: states after which there is no live link left to say "stopped" about
_AT_REST = (ConnectionState.IDLE, ConnectionState.STOPPED, ConnectionState.FAILED)

HistoryState = Literal["none", "loading", "done"]


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying updates changed, for a front end to render."""

    #: rows appended to the event log (0: the log did not change, or there is none)
    rows: int = 0
    #: how many of those rows the log's filter shows
    visible: int = 0
    #: gaps among the updates applied
    gaps: int = 0

    def __add__(self, other: Applied) -> Applied:
        return Applied(self.rows + other.rows, self.visible + other.visible, self.gaps + other.gaps)


NOTHING = Applied()


@dataclass(frozen=True, slots=True)
class ArchiveChange:
    """The archive's health changed.  `error`: why it cannot be written (what to do);
    empty: it is written again."""

    error: str


@dataclass(frozen=True, slots=True)
class IndexChange:
    """The archive's search index build moved: `build` is how far it is now (None: the
    archive is gone, or its writer was started again and has not said yet)."""

    build: IndexBuild | None
    #: a build began (the archive was found to need one)
    started: bool = False
    #: the build ended: the index covers the whole archive
    finished: bool = False


@dataclass(frozen=True, slots=True)
class HistoryEnd:
    """What `end_history` did."""

    #: the event log's `appended` count where the history ended (rows before it are history)
    boundary: int
    #: nothing was received from the end of the record until the history was read
    downtime: Downtime | None
    #: the closing rows (downtime gap, "live from here") and the live updates that waited
    applied: Applied
    #: the history was cut short, too many live updates waiting: the time of the last
    #: record applied (None: it was read to the end; 0.0: none was applied)
    cut_at: float | None = None


class SessionSink:
    """What a sink hears from a `MonitorSession`.  Override the methods you need; the
    others cost nothing (the session only calls methods a sink overrides).

    Typed methods are called as the session applies updates, in order; `live` is False
    for history read from the archive on start, which only sinks with `history = True`
    hear.  `on_update` sees every update raw, as the source yields it (`observe`): the
    place for a sink that keeps or forwards everything (an archive, a publisher).
    """

    #: also hear the history loaded on start (`live=False`)
    history: ClassVar[bool] = False

    def on_update(self, update: Update) -> None:
        """Every update from the source, raw and in order, before anything is applied."""

    def on_event(self, event: ZoomEvent, live: bool) -> None:
        """An event, after the event log and the meeting tracker have it."""

    def on_malformed(self, frame: MalformedFrame, live: bool) -> None:
        """A frame that could not be understood."""

    def on_gap(self, gap: Gap, live: bool) -> None:
        """A closed interval in which events were not received."""

    def on_state(self, change: StateChanged, live: bool) -> None:
        """The connection changed state."""

    def on_heartbeat(self, heartbeat: Heartbeat) -> None:
        """A heartbeat was answered."""

    def on_token(self, info: TokenInfo) -> None:
        """A token was obtained (its expiry and scopes; never the token)."""

    def on_notice(self, notice: Notice) -> None:
        """A well-formed frame that is neither an event nor a heartbeat."""

    def on_roster(self, snapshot: RosterSnapshot, live: bool) -> None:
        """What Zoom's REST API said about live meetings (after the tracker merged it), or
        why it could not be asked (`snapshot.problem`)."""


#: the typed methods of `SessionSink`, in the order `_Fanout` keeps them
_TYPED = (
    "on_event",
    "on_malformed",
    "on_gap",
    "on_state",
    "on_heartbeat",
    "on_token",
    "on_notice",
    "on_roster",
)


def _overrides(sink: object, name: str) -> bool:
    method = getattr(type(sink), name, None)
    return method is not None and method is not getattr(SessionSink, name)


class _Fanout:
    """The bound methods the sinks override, per kind: a kind no sink hears costs one
    empty-list test per update."""

    __slots__ = _TYPED

    def __init__(self, sinks: list[SessionSink]) -> None:
        for name in _TYPED:
            setattr(self, name, [getattr(s, name) for s in sinks if _overrides(s, name)])

    on_event: list[Callable[[ZoomEvent, bool], None]]
    on_malformed: list[Callable[[MalformedFrame, bool], None]]
    on_gap: list[Callable[[Gap, bool], None]]
    on_state: list[Callable[[StateChanged, bool], None]]
    on_heartbeat: list[Callable[[Heartbeat], None]]
    on_token: list[Callable[[TokenInfo], None]]
    on_notice: list[Callable[[Notice], None]]
    on_roster: list[Callable[[RosterSnapshot, bool], None]]


def _owner_name(method: Callable[..., object]) -> str:
    owner = getattr(method, "__self__", method)
    return type(owner).__name__


class MonitorSession:
    """The models a front end shows, fed by one dispatch.  Give it only the models the
    front end needs: `tail` has no event log and no meeting tracker."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        event_log: EventLog | None = None,
        meetings: MeetingTracker | None = None,
        subscription_id: str = "",
    ) -> None:
        self.clock = clock
        #: the rows a list shows (None: not kept)
        self.event_log = event_log
        #: who is in which meeting (None: not tracked)
        self.meetings = meetings
        #: the link's state and vital signs (always kept: cheap)
        self.status = LinkStatus(subscription_id=subscription_id)
        #: live frames received lately: a second copy is marked and counted (`_note_live`)
        self.duplicates = DuplicateWindow(DUPLICATE_WINDOW)
        #: where every update is recorded (None: not recorded)
        self.archive: Archive | None = None
        self._recorder: Recorder | None = None
        self._sinks: list[SessionSink] = []
        self._observers: list[Callable[[Update], None]] = []
        self._live = self._history = _Fanout([])
        #: exceptions raised by each sink (by class name), caught and counted
        self.sink_errors: dict[str, int] = {}
        #: live updates waiting for the history to be in (None: not waiting)
        self._held: list[Update] | None = None
        #: how many may wait before the history is cut short (None: no limit)
        self._hold_limit: int | None = None
        #: when the last history record applied was received (0.0: none yet)
        self._history_last_at = 0.0
        self.history_state: HistoryState = "none"
        #: what cutting the history short did (None: it was not cut)
        self.history_cut: HistoryEnd | None = None
        #: the last hydration applied (None: none yet)
        self.last_roster: RosterSnapshot | None = None
        self._last_logged: tuple[ConnectionState, str] | None = None

    # -- sinks --------------------------------------------------------------------------
    def subscribe(self, sink: SessionSink) -> None:
        """From now on `sink` hears what the session observes and applies."""
        self._sinks.append(sink)
        self._rewire()

    def unsubscribe(self, sink: SessionSink) -> None:
        if sink in self._sinks:
            self._sinks.remove(sink)
            self._rewire()

    def _rewire(self) -> None:
        sinks = self._sinks
        self._live = _Fanout(sinks)
        self._history = _Fanout([s for s in sinks if s.history])
        raw: list[Callable[[Update], None]] = [] if self._recorder is None else [self._recorder]
        self._observers = raw + [s.on_update for s in sinks if _overrides(s, "on_update")]

    def _sink_failed(self, method: Callable[..., object], exc: Exception) -> None:
        name = _owner_name(method)
        count = self.sink_errors.get(name, 0) + 1
        self.sink_errors[name] = count
        if count == 1:  # once per sink: a sink that fails on every event must not flood
            text = redact(f"{type(exc).__name__}: {exc}")
            log.error("sink %s failed (later failures are only counted): %s", name, text)

    def _tell(self, methods: list[Callable[..., None]], *args: object) -> None:
        for method in methods:
            try:
                method(*args)
            except Exception as exc:  # noqa: BLE001 - a sink never breaks the session
                self._sink_failed(method, exc)

    # -- the way in -----------------------------------------------------------------------
    def observe(self, update: Update) -> None:
        """Every update from the source, raw, in order: to the archive and `on_update`."""
        for observer in self._observers:
            try:
                observer(update)
            except Exception as exc:  # noqa: BLE001 - a sink never breaks the session
                self._sink_failed(observer, exc)

    def receive(self, update: Update) -> Applied:
        """`observe` and `apply` in one (a front end that does not batch)."""
        self.observe(update)
        return self.apply(update)

    def apply(self, update: Update) -> Applied:
        """Apply one update (while the history loads it waits, but for the link status)."""
        return self.apply_batch((update,))

    def apply_batch(self, updates: Iterable[Update]) -> Applied:
        """Apply updates in order: the hot path (one log append, one status update)."""
        held = self._held
        if held is None:
            return self._dispatch(updates, live=True, link=True)
        limit = self._hold_limit
        rest = iter(updates)
        for update in rest:
            self._link(update)
            held.append(update)
            if limit is not None and len(held) >= limit:
                # Live first: the history stops here, and what waited goes on, in order.
                return self._cut_history() + self._dispatch(rest, live=True, link=True)
        return NOTHING

    # -- the one dispatch -------------------------------------------------------------------
    def _dispatch(self, updates: Iterable[Update], *, live: bool, link: bool) -> Applied:
        """Each update to the models and the sinks.  `live` False: history (not counted in
        the status, heard only by history sinks); `link` False: the status has it already."""
        rows: list[Any] = []
        keep = rows.append
        meetings = self.meetings
        track = meetings.apply if meetings is not None else None
        fan = self._live if live else self._history
        on_event, on_malformed = fan.on_event, fan.on_malformed
        events = malformed = 0
        gaps: list[Gap] = []
        last_event_at: float | None = None
        now = self.clock() if live else 0.0
        note = self._note_live(now) if live else None
        for u in updates:
            # Events first: they are nearly every update.
            if type(u) is ZoomEvent:
                events += 1
                last_event_at = u.received_at
                if note is not None:
                    note(u)
                keep(u)
                if track is not None:
                    track(u)
                if on_event:
                    self._tell(on_event, u, live)
            elif type(u) is MalformedFrame:
                malformed += 1
                keep(u)
                if on_malformed:
                    self._tell(on_malformed, u, live)
            elif type(u) is Gap:
                gaps.append(u)
                if meetings is not None:
                    meetings.note_gap(u.start, u.end)
                keep(GapRow(u.start, u.end, u.reason))
                if fan.on_gap:
                    self._tell(fan.on_gap, u, live)
            else:
                self._dispatch_rare(u, keep, fan, live=live, link=link)
        if live and (events or malformed or gaps):
            self.status.on_rows(events, malformed, gaps, last_event_at, now)
        return self._log(rows, len(gaps))

    def _note_live(self, now: float) -> Callable[[ZoomEvent], None]:
        """What a live event adds to the link's quality: its lag to the last minute's, and
        a second copy of a frame marked (`ZoomEvent.duplicate_after`) and counted."""
        status = self.status
        lags = status.lag
        lags.roll(now)
        add_lag = lags.add
        first_seen = self.duplicates.first_seen

        def note(event: ZoomEvent) -> None:
            ts = event.event_ts_ms
            if ts is not None:
                add_lag(event.received_at - ts / 1000)
            first_at = first_seen(event)
            if first_at is not None:
                event.duplicate_after = event.received_at - first_at
                status.duplicates += 1

        return note

    def _dispatch_rare(
        self, u: Update, keep: Callable[[Any], None], fan: _Fanout, *, live: bool, link: bool
    ) -> None:
        if link:
            self._link(u)
        if type(u) is StateChanged:
            self._state_row(u, keep)
            if fan.on_state:
                self._tell(fan.on_state, u, live)
        elif type(u) is Heartbeat:
            if fan.on_heartbeat:
                self._tell(fan.on_heartbeat, u)
        elif type(u) is TokenInfo:
            if fan.on_token:
                self._tell(fan.on_token, u)
        elif type(u) is Notice and fan.on_notice:
            self._tell(fan.on_notice, u)
        elif type(u) is RosterSnapshot:
            # Zoom's roster (or why there is none): merged, and shown as a line of its own
            self.last_roster = u
            if self.meetings is not None:
                self.meetings.hydrate(u)
            if u.meetings or u.problem:  # (nothing live, nothing wrong: nothing to show)
                keep(RosterMark(roster_summary(u), u.at))
            if fan.on_roster:
                self._tell(fan.on_roster, u, live)
        # anything else: a newer engine may report more; nothing to apply

    def _link(self, u: Update) -> None:
        """The link's part of an update: the status follows it at once."""
        if type(u) is StateChanged:
            self.status.on_state(u)
        elif type(u) is Heartbeat:
            self.status.on_heartbeat(u)
        elif type(u) is TokenInfo:
            self.status.on_token(u)
        elif type(u) is RosterSnapshot:
            # (only here: an earlier run's problem, read back from the archive, is not today's)
            self.status.roster_problem = roster_summary(u) if u.problem else ""
            self.status.roster_brief = roster_brief(u)

    def _state_row(self, change: StateChanged, keep: Callable[[Any], None]) -> None:
        if change.state not in LOGGED_STATES:
            return
        # Reasons can carry server or exception text: scrubbed before they are shown.
        reason = redact(change.reason)
        key = (change.state, reason)
        # A retry loop says the same thing every attempt: one line per new reason, not per try.
        if key != self._last_logged:
            self._last_logged = key
            keep(StateRow(change.state.value, reason, change.at))

    def _log(self, rows: list[Any], gaps: int) -> Applied:
        log = self.event_log
        if log is None or not rows:
            return Applied(gaps=gaps) if gaps else NOTHING
        return Applied(len(rows), log.extend(rows), gaps)

    # -- history on start --------------------------------------------------------------------
    def begin_history(self, hold_limit: int | None = None) -> None:
        """History is on its way: live updates applied from now on wait behind it, at
        most `hold_limit` of them (None: any number): then the history is cut short."""
        self.history_state = "loading"
        self._hold_limit = None if hold_limit is None else max(1, hold_limit)
        if self._held is None:
            self._held = []

    @property
    def held(self) -> int:
        """How many live updates wait behind the history loading (0: none, or loaded)."""
        return len(self._held) if self._held is not None else 0

    def apply_history(self, records: Sequence[Record]) -> Applied:
        """Archived records, oldest first, through the same dispatch as live updates
        (none once the history was cut short: live went on after it)."""
        if self.history_state != "loading" or not records:
            return NOTHING
        # a cut comes between two batches, never inside one: the last applied is this one's
        self._history_last_at = records[-1].at
        return self._dispatch((r.update for r in records), live=False, link=False)

    def end_history(self, seen: HistoryTracker, until: float) -> HistoryEnd:
        """The history is in (`seen` followed it; `until`: when live began): say what came
        after it, then apply the live updates that waited.  (Cut short before: nothing
        more to do; the end it had then.)"""
        if self.history_cut is not None:
            return self.history_cut
        boundary = self.event_log.appended if self.event_log is not None else 0
        rows: list[Any] = []
        downtime = seen.downtime(until)
        if downtime is not None:
            # Nothing was received from the end of the record until now: a gap like any other.
            if self.meetings is not None:
                self.meetings.note_gap(downtime.start, downtime.end)
            rows.append(GapRow(downtime.start, downtime.end, downtime.reason))
        if seen.count:
            rows.append(HistoryMark("live from here", until))
        return HistoryEnd(boundary, downtime, self._close_history(rows))

    def _cut_history(self) -> Applied:
        """Too many live updates wait: the history stops where it is.  A line says so, the
        meetings are flagged as not seen from there until now (events in between were
        recorded, not applied), then the live updates that waited are applied."""
        boundary = self.event_log.appended if self.event_log is not None else 0
        cut_at = self._history_last_at
        now = self.clock()
        if cut_at and self.meetings is not None:
            self.meetings.note_gap(cut_at, now)
        applied = self._close_history([HistoryMark(history_cut_words(cut_at), now)])
        self.history_cut = HistoryEnd(boundary, None, applied, cut_at)
        return applied

    def _close_history(self, rows: list[Any]) -> Applied:
        """The history is over (read to its end, or cut short): its closing `rows`, then
        the live updates that waited behind it, in order."""
        applied = self._log(rows, 0)
        self._last_logged = None  # live state lines follow live ones, not the history's
        held, self._held = self._held, None
        self.history_state = "done"
        if held:
            applied += self._dispatch(held, live=True, link=False)
        return applied

    # -- the archive ----------------------------------------------------------------------------
    def record_to(self, archive: Archive | None, run: str | None = None) -> Archive | None:
        """Record every observed update in `archive` (None: stop recording), the connection
        ids starting with `run` (default: now and this process).  Returns the archive
        recorded to before, for the caller to close."""
        previous, self.archive = self.archive, archive
        self._recorder = (
            None if archive is None else Recorder(archive, run or new_run_id(self.clock()))
        )
        self._rewire()
        return previous

    def record_stop(self, reason: str) -> None:
        """Say in the record that the monitor stopped (a source cancelled mid-way cannot),
        then record nothing more."""
        recorder = self._recorder
        if recorder is None or self.status.state in _AT_REST:
            return
        recorder(
            StateChanged(
                state=ConnectionState.STOPPED,
                previous=self.status.state,
                reason=reason,
                at=self.clock(),
                attempt=recorder.attempt,
            )
        )
        self._recorder = None
        self._rewire()

    def check_archive(self) -> ArchiveChange | None:
        """Has the archive's health changed since the last look?  A disk or permission
        problem, or its end (the writer thread never calls out: front ends poll this on a
        timer).  The status keeps the current problem for the panel."""
        archive = self.archive
        if archive is None:
            return None
        error = (archive.error or "the archive failed") if archive.status == "failed" else ""
        if error == self.status.archive_error:
            return None
        self.status.archive_error = error
        return ArchiveChange(error)

    def check_index(self) -> IndexChange | None:
        """Has the archive's search index build moved since the last look?  Polled with
        `check_archive` (the writer never calls out); the status keeps the build for the
        panel, as the writer reported it."""
        archive = self.archive
        build = None if archive is None else archive.index_build
        before = self.status.archive_index
        if build == before:
            return None
        self.status.archive_index = build
        running = build is not None and not build.complete
        return IndexChange(
            build,
            started=running and (before is None or before.complete),
            finished=build is not None and build.complete,
        )

    def close_archive(self) -> None:
        """Write what is queued and close the archive (blocking: a few ms, run it off the
        event loop)."""
        if self.archive is not None:
            self.archive.close()

    # -- upkeep ---------------------------------------------------------------------------------
    def prune_meetings(self) -> None:
        """Drop ended meetings past the tracker's retention (a front end's timer calls it)."""
        if self.meetings is not None:
            self.meetings.prune(self.clock())
