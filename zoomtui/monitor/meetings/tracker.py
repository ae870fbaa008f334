"""The meeting tracker: which meetings are live and who is in them, fed one ZoomEvent at a
time.  Pure: no I/O.

`MeetingTracker.apply` decides what an event means (which occurrence, whether it could be
a repeat, which transition of which person) and tells the `Meeting` (meeting.py), which
keeps its own state and counters consistent.  The tracker keeps the set of meetings, an
index from meeting id to occurrences, and the bounds on both (`prune`, `max_ended`,
tombstones for pruned uuids): see the package docstring.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from zoomtui.monitor.meetings.fold import JOIN, LEAVE, UNWAIT, WAIT, Presence, Transition
from zoomtui.monitor.meetings.meeting import Meeting
from zoomtui.monitor.meetings.participant import Participant
from zoomtui.monitor.meetings.payload import (
    clean_leave_reason,
    event_ts_of,
    iso_ms,
    object_of,
    payload_of,
    zoom_id,
)
from zoomtui.zoom.protocol import ZoomEvent
from zoomtui.zoom.rosters import RosterSnapshot

__all__ = [
    "DEFAULT_FORGET_AFTER_GAP",
    "DEFAULT_MAX_ENDED",
    "DEFAULT_MAX_GAP_STALE",
    "DEFAULT_MAX_TRANSITIONS",
    "DEFAULT_RETAIN_ENDED",
    "MeetingTracker",
]

#: Seconds an ended meeting stays listed (dimmed) after we learned that it ended.
DEFAULT_RETAIN_ENDED = 15 * 60.0
#: Ended (or deleted) meetings kept at most, however recent: a busy account ends a
#: meeting every few seconds, and each one holds its participants' histories.
DEFAULT_MAX_ENDED = 200
#: Transitions kept per person; older ones are summarised (see `Participant.compact`).
#: Far above what anyone does in a meeting, so the summary is for pathological streams.
DEFAULT_MAX_TRANSITIONS = 64
#: Live meetings whose last event came before a connection gap may have ended inside it
#: (Zoom never re-sends a lost `meeting.ended`), so they could stay "live" forever. They
#: keep their place (a quiet meeting is normal) but are bounded: dropped after this long
#: with no event, and at most `DEFAULT_MAX_GAP_STALE` of them, the longest idle going first.
DEFAULT_FORGET_AFTER_GAP = 6 * 3600.0
DEFAULT_MAX_GAP_STALE = 200
#: Pruned uuids remembered so stray late events do not resurrect them (oldest forgotten first).
_TOMBSTONES = 10_000

#: event name suffix (after "meeting." / "webinar.") -> (rank, detail shown in the UI, the
#: participant field holding the transition's own time).
_PRESENCE: dict[str, tuple[int, str, str]] = {
    "participant_joined": (JOIN, "", "join_time"),
    "participant_admitted": (JOIN, "admitted from the waiting room", "date_time"),
    "participant_jbh_joined": (JOIN, "joined before the host", "date_time"),
    "participant_left": (LEAVE, "left", "leave_time"),
    "participant_joined_waiting_room": (WAIT, "waiting room", "date_time"),
    "participant_put_in_waiting_room": (WAIT, "put in the waiting room", "date_time"),
    "participant_jbh_waiting": (WAIT, "waiting for the host", "date_time"),
    "participant_left_waiting_room": (UNWAIT, "left the waiting room", "date_time"),
    "participant_jbh_waiting_left": (UNWAIT, "left while waiting for the host", "date_time"),
}

#: Other events that belong to a live occurrence: they create the meeting when unseen.
#: Events about the scheduled meeting (created, registration_*, summary_*, ...) or sent
#: after it (qos_summary, feedback) do not: they would list meetings that are not running.
_LIVE_OTHER = frozenset(
    {
        "started",
        "ended",
        "participant_role_changed",
        "participant_joined_breakout_room",
        "participant_left_breakout_room",
        "participant_bind",
        "participant_qos",
        "sharing_started",
        "sharing_ended",
        "breakout_room_sharing_started",
        "breakout_room_sharing_ended",
        "live_streaming_started",
        "live_streaming_stopped",
        "alert",
        "chat_message_sent",
    }
)
_KINDS = ("meeting", "webinar")
#: presence events that may name a person by user_name alone (seen in real captures of
#: participant_jbh_joined): they are tracked by that name rather than flagged
_NAME_ONLY_OK = frozenset(
    {"participant_jbh_joined", "participant_jbh_waiting", "participant_jbh_waiting_left"}
)


class MeetingTracker:
    """Live meetings and their participants, fed with `apply(event)`.

    `apply` returns the uuids of meetings whose visible state changed (so a UI refreshes
    only those), an empty set when the event concerned a tracked meeting but changed
    nothing shown, and None when the event is not about a meeting occurrence at all.
    `version` increases with every visible change.
    """

    def __init__(
        self,
        *,
        retain_ended: float = DEFAULT_RETAIN_ENDED,
        forget_idle_after: float | None = None,
        max_ended: int = DEFAULT_MAX_ENDED,
        max_transitions: int = DEFAULT_MAX_TRANSITIONS,
        forget_after_gap: float | None = DEFAULT_FORGET_AFTER_GAP,
        max_gap_stale: int = DEFAULT_MAX_GAP_STALE,
    ) -> None:
        #: seconds an ended (or deleted) meeting stays listed after we learned of it
        self.retain_ended = retain_ended
        #: seconds after which a live meeting with no events is dropped (None: never).  A
        #: meeting whose end fell into a connection gap would otherwise stay live forever.
        self.forget_idle_after = forget_idle_after
        #: seconds with no event after which a live meeting last heard of before a gap is
        #: dropped (None: never), and how many such meetings are kept at most
        self.forget_after_gap = forget_after_gap
        self.max_gap_stale = max(0, max_gap_stale)
        #: ended meetings kept at most: the oldest finished goes as soon as one more ends
        self.max_ended = max(0, max_ended)
        #: transitions kept per person (at least 2); beyond, the oldest half is summarised
        self.max_transitions = max(2, max_transitions)
        self.meetings: dict[str, Meeting] = {}
        self.version = 0
        self._by_id: dict[str, set[str]] = {}
        # (OrderedDicts: dropping the oldest is popitem(last=False), O(1); next(iter(dict))
        # after many deletions at the front walks their empty slots)
        self._tombstones: OrderedDict[str, None] = OrderedDict()
        #: finished meetings, in the order we learned they finished
        self._finished: OrderedDict[str, None] = OrderedDict()
        #: per live meeting, who was in (or waiting) when the last gap closed: whom a
        #: hydration may find gone (roster.py); kept until one has looked
        self.present_at_gap: dict[str, list[Participant]] = {}

    # -- reading -----------------------------------------------------------------------
    def ordered(self) -> list[Meeting]:
        """Live meetings first (most recently started first), then finished ones (most
        recently finished first)."""
        live = [m for m in self.meetings.values() if m.is_live]
        done = [m for m in self.meetings.values() if not m.is_live]
        live.sort(
            key=lambda m: (
                -(m.start_ms if m.start_ms is not None else m.first_seen_at * 1000),
                m.uuid,
            )
        )
        done.sort(key=lambda m: (-(m.finished_seen_at or 0.0), m.uuid))
        return live + done

    def get(self, uuid: str) -> Meeting | None:
        return self.meetings.get(uuid)

    @property
    def live_count(self) -> int:
        return sum(1 for m in self.meetings.values() if m.is_live)

    # -- applying ----------------------------------------------------------------------
    def apply_all(self, events: Iterable[ZoomEvent]) -> set[str]:
        """Apply several events; the union of the meetings they changed."""
        changed: set[str] = set()
        for ev in events:
            c = self.apply(ev)
            if c:
                changed |= c
        return changed

    def apply(self, event: ZoomEvent) -> set[str] | None:
        """Apply one event (any kind; never raises on odd payloads)."""
        family, _, suffix = event.name.partition(".")
        if family not in _KINDS:
            return None
        if suffix == "updated":
            return self._updated(event)
        if suffix == "deleted":
            return self._deleted(event)
        presence = _PRESENCE.get(suffix)
        creates = presence is not None or suffix in _LIVE_OTHER
        m = self._meeting_for(event, family, creates)
        if m is None:
            return None
        changed = self._apply_to(m, event, suffix, presence, creates)
        if changed:
            m.mark_changed()
            self.version += 1
            return {m.uuid}
        return set()

    def hydrate(self, snapshot: RosterSnapshot) -> set[str]:
        """Merge what Zoom's REST API said (see roster.py); the meetings that changed."""
        from zoomtui.monitor.meetings.roster import merge_roster

        return merge_roster(self, snapshot)

    def note_gap(self, start: float, end: float) -> set[str]:
        """The connection was down from `start` to `end`: flag the meetings live in it."""
        changed = set()
        for m in self.meetings.values():
            if m.is_live and m.first_seen_at <= end:
                m.note_gap(end)
                people = m.participants.values()
                self.present_at_gap[m.uuid] = [p for p in people if p.status is not Presence.LEFT]
                m.mark_changed()
                changed.add(m.uuid)
        if changed:
            self.version += 1
        return changed

    def prune(self, now: float) -> set[str]:
        """Drop meetings finished more than `retain_ended` s ago, idle ones (if set), and
        live ones whose end may have been lost in a gap (`forget_after_gap`, `max_gap_stale`).
        (The count limit, `max_ended`, holds at all times: `apply` keeps it.)"""
        gone = set()
        stale: list[Meeting] = []
        for uuid, m in self.meetings.items():
            if m.finished_seen_at is not None:
                if now - m.finished_seen_at >= self.retain_ended:
                    gone.add(uuid)
            elif (
                self.forget_idle_after is not None
                and now - m.last_event_at >= self.forget_idle_after
            ):
                gone.add(uuid)
            elif m.gap_since is not None:
                if (
                    self.forget_after_gap is not None
                    and now - m.last_event_at >= self.forget_after_gap
                ):
                    gone.add(uuid)
                else:
                    stale.append(m)
        if len(stale) > self.max_gap_stale:
            stale.sort(key=lambda m: m.last_event_at)
            gone.update(m.uuid for m in stale[: len(stale) - self.max_gap_stale])
        for uuid in gone:
            self._drop(uuid)
        if gone:
            self.version += 1
        return gone

    def _drop(self, uuid: str) -> None:
        """Forget a meeting, and ignore stray events for it from now on (no zombies)."""
        m = self.meetings.pop(uuid)
        self._finished.pop(uuid, None)
        self.present_at_gap.pop(uuid, None)
        if m.id is not None:
            ids = self._by_id.get(m.id)
            if ids is not None:
                ids.discard(uuid)
                if not ids:
                    del self._by_id[m.id]
        self._tombstones[uuid] = None
        if len(self._tombstones) > _TOMBSTONES:
            self._tombstones.popitem(last=False)

    def _finished_now(self, m: Meeting, at: float) -> None:
        """`m` just ended or was deleted: note when (the first time), and keep at most
        `max_ended` finished meetings."""
        if not m.note_finished(at):
            return
        finished = self._finished
        finished[m.uuid] = None
        while len(finished) > self.max_ended:
            self._drop(finished.popitem(last=False)[0])

    # -- internals ---------------------------------------------------------------------
    def _meeting_for(self, event: ZoomEvent, kind: str, creates: bool) -> Meeting | None:
        uuid = event.meeting_uuid
        if uuid is None:
            # No uuid: attach to the one live occurrence with this id, if there is exactly one.
            uuids = self._by_id.get(event.meeting_id or "", ())
            live = [u for u in uuids if self.meetings[u].is_live]
            if len(live) != 1:
                return None
            uuid = live[0]
        m = self.meetings.get(uuid)
        if m is not None:
            return m
        if not creates or uuid in self._tombstones:
            return None
        m = Meeting(
            uuid=uuid, kind=kind, first_seen_at=event.received_at, last_event_at=event.received_at
        )
        self.meetings[uuid] = m
        return m

    def _apply_to(
        self,
        m: Meeting,
        event: ZoomEvent,
        suffix: str,
        presence: tuple[int, str, str] | None,
        live: bool,
    ) -> bool:
        obj = object_of(event)
        part = obj.get("participant") if presence is not None else None
        if not isinstance(part, dict):
            part = None
        ets = event_ts_of(event)
        # Dedupe the events that drive state (presence, start, end) by the event's name,
        # stamp, participant and own time.  Other kinds (qos every minute per person ...)
        # change nothing a repeat could spoil, and remembering them would grow without end.
        if presence is not None or suffix in ("started", "ended"):
            own_time: Any = None
            if presence is not None and part is not None:
                own_time = part.get(presence[2])
            elif suffix == "ended":
                own_time = obj.get("end_time")
            elif suffix == "started":
                own_time = obj.get("start_time")
            dkey = (
                event.name,
                event.event_ts_ms,
                event.participant_key or event.participant_name,  # (a name alone, for jbh)
                own_time if isinstance(own_time, str) else None,
            )
        else:
            dkey = None
        first = m.note_event(event.received_at, dkey)
        if first is None:  # a duplicate
            if part is not None:  # a resend may still carry an id or a name the first lacked
                m.participant_for(part)
            return True
        changed = first  # (a meeting's first event shows it)
        # (exits are not late: Zoom sends the leaves of a meeting it ends right after
        # meeting.ended)
        if (
            live
            and m.ended
            and suffix != "ended"
            and (presence is None or presence[0] not in (LEAVE, UNWAIT))
        ):
            m.note_problem("late")
            changed = True
        if live:  # scheduling events (created, registration_*) describe the schedule, not this run
            had_id = m.id is not None
            changed |= m.absorb_details(obj, ets, suffix == "started")
            if not had_id and m.id is not None:  # an event without a uuid finds it by id
                self._by_id.setdefault(m.id, set()).add(m.uuid)
        if suffix == "started":
            changed |= m.note_started()
        elif suffix == "ended":
            changed |= self._end(m, event, obj, ets)
        elif presence is not None:
            changed |= self._presence(m, part, presence, ets, suffix in _NAME_ONLY_OK)
        return changed

    def _end(self, m: Meeting, event: ZoomEvent, obj: dict[str, Any], ets: int) -> bool:
        end_ms = iso_ms(obj.get("end_time"))
        if end_ms is None:
            end_ms = ets
        if not m.record_end(end_ms, ets):
            return False  # an earlier end is already known
        self._finished_now(m, event.received_at)
        return True

    def _presence(
        self,
        m: Meeting,
        part: dict[str, Any] | None,
        presence: tuple[int, str, str],
        ets: int,
        by_name: bool = False,
    ) -> bool:
        if part is None:
            m.note_problem("participant without id")
            return True
        p = m.participant_for(part, by_name)
        if p is None:
            m.note_problem("participant without id")
            return True
        rank, detail, time_field = presence
        t = iso_ms(part.get(time_field))
        if t is None:
            # Zoom's own times have 1 s resolution: a fallback to event_ts is cut to the
            # second too, so the two sources compare fairly (event_ts then breaks the tie).
            t = ets - ets % 1000
        if rank == LEAVE:
            detail = clean_leave_reason(part.get("leave_reason"))
        tr: Transition = (t, ets, rank, detail)
        changed = m.record_presence(p, tr, self.max_transitions)
        if p.origin is not None and p.newest_transition == tr:
            p.origin = None  # seen live again: no longer known from the API or inferred
        return changed

    def _updated(self, event: ZoomEvent) -> set[str] | None:
        """meeting.updated: the object holds only the changed fields (and the id)."""
        obj = object_of(event)
        mid = zoom_id(obj.get("id"))
        uuid = event.meeting_uuid
        targets = [uuid] if uuid in self.meetings else sorted(self._by_id.get(mid or "", ()))
        if not targets:
            return None
        topic = obj.get("topic")
        old = payload_of(event).get("old_object")
        old_topic = old.get("topic") if isinstance(old, dict) else None
        previous = old_topic if isinstance(old_topic, str) else None
        ets = event_ts_of(event)
        changed = set()
        for u in targets:
            m = self.meetings[u]
            m.heard_from(event.received_at)
            if isinstance(topic, str) and m.retitle(topic, ets, previous):
                m.mark_changed()
                changed.add(u)
        if changed:
            self.version += 1
        return changed

    def _deleted(self, event: ZoomEvent) -> set[str] | None:
        uuid = event.meeting_uuid
        targets = (
            [uuid] if uuid in self.meetings else sorted(self._by_id.get(event.meeting_id or "", ()))
        )
        if not targets:
            return None
        changed = set()
        for u in targets:
            m = self.meetings.get(u)
            if m is None:  # (dropped just now: more meetings finished than are kept)
                continue
            if m.mark_deleted():
                self._finished_now(m, event.received_at)
                m.mark_changed()
                changed.add(u)
        if changed:
            self.version += 1
        return changed
