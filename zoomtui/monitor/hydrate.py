"""Hydration: who is in each live meeting, asked of Zoom's REST API at the start and after
each gap, because Zoom never replays an event (PROTOCOL.md sections 2 and 4).  No Textual.

A `Hydrator` sits beside a `MonitorSession` (a sink of it: it hears the link come up and
the gaps close) and runs as a task the front end starts (`run()`).  When the link is first
up, and whenever a gap closes while it is up, it lists the live meetings and webinars and
reads every roster (`zoomtui.zoom.rest.ZoomRest`: paced, bounded), then hands the result to
the front end as a `RosterSnapshot` update (`deliver`): the front end passes it through the
same path as the connection's updates, so it is archived, merged into the tracker in order
with the events around it (`MeetingTracker.hydrate`), and shown.

When it cannot: a missing scope, a plan without the Dashboard, an API error.  The snapshot
then carries the `problem` and what to change, once per distinct problem; a problem no retry
can fix (scope, plan, credentials) stops every further call, and a passing one is not retried
in a loop (the next gap asks again).  The live monitor goes on either way.

A meeting whose start was not seen and whose topic or host is unknown gets its details from
`GET /v2/meetings/{id}` (`MAX_DETAILS` per hydration) when the scope allows; when it does
not, details are not asked again.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable

from zoomtui.monitor.session import MonitorSession, SessionSink
from zoomtui.settings import ConnectionSettings
from zoomtui.zoom.auth import TokenProvider
from zoomtui.zoom.rest import KINDS, ApiError, ZoomRest
from zoomtui.zoom.rosters import (
    TRIGGER_GAP,
    TRIGGER_START,
    RosterMeeting,
    RosterSnapshot,
    ms_of,
    text_of,
)
from zoomtui.zoom.updates import ConnectionState, Gap, StateChanged, Update

__all__ = ["MAX_DETAILS", "Hydrator"]

log = logging.getLogger(__name__)

#: meeting details asked at most per hydration (a meeting's details are one call each)
MAX_DETAILS = 50


@dataclasses.dataclass(slots=True)
class _Ask:
    trigger: str
    since: float | None
    until: float


class Hydrator(SessionSink):
    """Hydrates `session`'s tracker from Zoom's API (see the module docstring)."""

    def __init__(
        self,
        session: MonitorSession,
        rest: ZoomRest,
        deliver: Callable[[Update], object],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.session = session
        self.rest = rest
        self.deliver = deliver
        self.clock = clock
        #: snapshots delivered, and whether a problem stopped every further call
        self.delivered = 0
        self.stopped = ""
        self._ask: _Ask | None = None
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._connected_once = False
        self._kinds_off: dict[str, str] = {}
        self._details_off = False
        self._said: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    # -- starting and stopping beside a source ------------------------------------------------
    @classmethod
    def start_for(
        cls,
        session: MonitorSession,
        source: object,
        settings: ConnectionSettings,
        deliver: Callable[[Update], object],
        *,
        clock: Callable[[], float] = time.time,
        **rest_options: object,
    ) -> Hydrator | None:
        """Hydrate `session` while `source` (a live connection) runs, on its token provider
        (None: the `hydrate` setting is off, or the source has no token provider: a replay).
        `deliver` hands each snapshot to the front end's path for updates."""
        tokens = getattr(source, "tokens", None)
        if not settings.hydrate or not isinstance(tokens, TokenProvider):
            return None
        rest = ZoomRest(settings, tokens, **rest_options)  # type: ignore[arg-type]
        hydrator = cls(session, rest, deliver, clock=clock)
        session.subscribe(hydrator)
        hydrator._task = asyncio.get_running_loop().create_task(
            hydrator.run(), name="zoomtui-hydrate"
        )
        return hydrator

    async def close(self) -> None:
        """Stop asking (a call in flight is abandoned) and let go of the session."""
        self.session.unsubscribe(self)
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.rest.aclose()

    # -- what the session says ------------------------------------------------------------
    def on_state(self, change: StateChanged, live: bool) -> None:
        if live and change.state is ConnectionState.CONNECTED and not self._connected_once:
            self._connected_once = True
            self._request(_Ask(TRIGGER_START, None, change.at))

    def on_gap(self, gap: Gap, live: bool) -> None:
        # A gap closes when the link is back (or when it stops: then nothing to ask)
        if live and self._connected_once and self.session.status.state is ConnectionState.CONNECTED:
            self._request(_Ask(TRIGGER_GAP, gap.start, gap.end))

    def _request(self, ask: _Ask) -> None:
        if self.stopped:
            return
        old = self._ask
        if old is not None:  # two gaps before the first was asked about: one span
            since = [s for s in (old.since, ask.since) if s is not None]
            trigger = TRIGGER_GAP if TRIGGER_GAP in (old.trigger, ask.trigger) else TRIGGER_START
            ask = _Ask(trigger, min(since) if since else None, max(old.until, ask.until))
        self._ask = ask
        self._idle.clear()
        self._wake.set()

    # -- the task ---------------------------------------------------------------------------
    async def run(self) -> None:
        """Hydrate whenever asked, one at a time, until cancelled."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            ask, self._ask = self._ask, None
            if ask is not None and not self.stopped:
                snap = await self._hydrate(ask)
                if snap is not None:
                    self.delivered += 1
                    self.deliver(snap)
            if self._ask is None:
                self._idle.set()

    async def hydrate_once(self, since: float | None = None) -> RosterSnapshot | None:
        """Ask now, whatever the link does (benchmarks, tests): the snapshot (not delivered),
        or None when there was nothing new to say."""
        now = self.clock()
        trigger = TRIGGER_START if since is None else TRIGGER_GAP
        return await self._hydrate(_Ask(trigger, since, now))

    async def wait_idle(self) -> None:
        """Until no hydration is asked for or running (tests and benchmarks)."""
        await self._idle.wait()

    async def _hydrate(self, ask: _Ask) -> RosterSnapshot | None:
        asked_at = self.clock()
        calls_before = self.rest.calls
        meetings: list[RosterMeeting] = []
        kinds: list[str] = []
        problems: list[ApiError] = []
        for kind in KINDS:
            if kind in self._kinds_off:
                continue
            try:
                await self._kind(kind, meetings, problems)
            except ApiError as exc:
                problems.append(exc)
                if exc.permanent:
                    self._kinds_off[kind] = str(exc)
                if exc.permanent and kind == "meeting":
                    # no Dashboard for meetings: webinars will not do better
                    self._kinds_off.update(dict.fromkeys(KINDS, str(exc)))
                    break
                continue
            kinds.append(kind)
        if len(self._kinds_off) == len(KINDS):
            self.stopped = "; ".join(self._kinds_off.values())
        if meetings:
            meetings = await self._details(meetings)
        problem, hint = self._news(problems)
        if not meetings and not kinds and not problem:
            return None  # failed as before: said already, nothing new
        return RosterSnapshot(
            at=self.clock(),
            asked_at=asked_at,
            trigger=ask.trigger,
            since=ask.since,
            until=ask.until,
            meetings=tuple(meetings),
            kinds=tuple(kinds),
            problem=problem,
            hint=hint,
            calls=self.rest.calls - calls_before,
        )

    async def _kind(self, kind: str, out: list[RosterMeeting], problems: list[ApiError]) -> None:
        """The live meetings of one kind, each with its roster (as far as it could be read),
        into `out`.  Raises `ApiError` when the list itself could not be read."""
        for rm in await self.rest.live_meetings(kind):
            try:
                people, complete = await self.rest.live_participants(kind, rm.uuid)
            except ApiError as exc:
                if exc.kind == "not found":
                    continue  # it ended between the list and its roster
                if exc.permanent:
                    raise
                problems.append(exc)
                people, complete = [], False
            out.append(
                dataclasses.replace(rm, participants=tuple(people), roster_complete=complete)
            )

    def _news(self, problems: list[ApiError]) -> tuple[str, str]:
        """The problems not said yet, in words, and what to change."""
        fresh = [p for p in problems if f"{p.kind}:{p}" not in self._said]
        self._said.update(f"{p.kind}:{p}" for p in fresh)
        text = " ".join(str(p) for p in fresh)
        hints = " ".join(dict.fromkeys(p.hint for p in fresh if p.hint))
        if fresh and not any(p.permanent for p in fresh):
            hints = (hints + " zoomtui asks again after the next gap.").strip()
        return text, hints

    # -- meeting details ---------------------------------------------------------------------
    def _wants_details(self, rm: RosterMeeting) -> bool:
        tracker = self.session.meetings
        m = tracker.get(rm.uuid) if tracker is not None else None
        if m is None:
            return rm.topic is None or (tracker is not None and rm.host_id is None)
        return not m.start_seen and (m.host_id is None or (m.topic is None and rm.topic is None))

    async def _details(self, meetings: list[RosterMeeting]) -> list[RosterMeeting]:
        """Topic and host for meetings whose start was not seen, when the scope allows."""
        out, asked = [], 0
        for rm in meetings:
            if self._details_off or asked >= MAX_DETAILS or rm.id is None:
                out.append(rm)
                continue
            if not self._wants_details(rm):
                out.append(rm)
                continue
            asked += 1
            try:
                d = await self.rest.meeting_details(rm.kind, rm.id)
            except ApiError as exc:
                if exc.permanent:
                    self._details_off = True  # not allowed: not asked again
                    log.info("meeting details are not available: %s", exc)
                out.append(rm)
                continue
            out.append(
                dataclasses.replace(
                    rm,
                    topic=rm.topic or text_of(d.get("topic")),
                    host_id=text_of(d.get("host_id")) or rm.host_id,
                    start_ms=rm.start_ms or ms_of(d.get("start_time")),
                )
            )
        return out
