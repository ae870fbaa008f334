"""Merging what Zoom's REST API says (a `RosterSnapshot`) into the tracker.  Pure: no I/O.

A roster row is one session of one person: a join at its ``join_time`` (a waiting-room
entry for someone waiting), and a leave at its ``leave_time`` when it has one.  They become
transitions like an event's, found by the same ids (`Meeting.participant_for`), so:

- nothing is doubled: a person the tracker saw join live is the same record, and a join
  already folded changes nothing (a second join while in is no transition of state);
- nothing is lost: events that arrived while the calls ran are in the tracker already,
  and the fold puts each transition in its time order whichever came first.  API
  transitions are stamped with their own time as their ``event_ts`` (the earliest a
  transition of that time can have), so a live event of the same second sorts after them;
- nothing is marked "out of order": the API describes the past, it is not a late event.

Then the comparison.  Only after the link was down (or at the start, against the history
loaded from the archive) can the tracker hold what Zoom no longer does:

- a person in the tracker but not in a roster read in full, whose latest transition came
  before the link came back (`until`): they left while nobody listened.  A leave at
  `until` is inferred (someone who joined since is not touched: their join is later);
- a meeting live in the tracker, not heard of since `until`, and not in Zoom's live list
  of its kind (read in full): it ended meanwhile;
- a person in Zoom's roster with a join time inside the gap joined during it.

Each such state carries an `Origin` saying so; a later live event about the person
replaces it ("seen live" again).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zoomtui.monitor.meetings.fold import JOIN, LEAVE, WAIT, Presence, Transition
from zoomtui.monitor.meetings.meeting import Meeting
from zoomtui.monitor.meetings.origin import (
    ENDED_IN_GAP,
    FROM_API,
    JOINED_IN_GAP,
    LEFT_IN_GAP,
    Origin,
)
from zoomtui.monitor.meetings.participant import Participant
from zoomtui.zoom.rosters import IN_WAITING_ROOM, TRIGGER_GAP, RosterMeeting, RosterSnapshot

if TYPE_CHECKING:
    from zoomtui.monitor.meetings.tracker import MeetingTracker

__all__ = ["merge_roster"]

#: Zoom's join times have 1 s resolution, and its clock is not ours: this much slack
#: around a gap still counts a join as inside it
_SLACK_MS = 2000


def merge_roster(tracker: MeetingTracker, snap: RosterSnapshot) -> set[str]:
    """Merge `snap` into `tracker`; the uuids of the meetings whose visible state changed."""
    changed: set[str] = set()
    listed: set[str] = set()
    for rm in snap.meetings:
        m = _meeting(tracker, rm, snap)
        if m is None:
            continue
        if rm.listed:
            listed.add(m.uuid)
            m.heard_from(snap.at)  # Zoom says it is live: its end was not lost in a gap
            m.roster_at = snap.at
        fresh = m.event_count == 0 and not m.participants
        if _details(tracker, m, rm) | _roster(tracker, m, rm, snap) or fresh:
            m.mark_changed()
            changed.add(m.uuid)
    changed |= _ended(tracker, snap, listed)
    if changed:
        tracker.version += 1
    return changed


def _meeting(tracker: MeetingTracker, rm: RosterMeeting, snap: RosterSnapshot) -> Meeting | None:
    m = tracker.meetings.get(rm.uuid)
    if m is None:
        if not rm.listed or rm.uuid in tracker._tombstones:
            return None  # (a pruned meeting stays gone, as for stray events)
        m = Meeting(
            uuid=rm.uuid,
            kind=rm.kind,
            first_seen_at=snap.at,
            last_event_at=snap.at,
            origin=Origin(FROM_API, snap.at),
        )
        tracker.meetings[rm.uuid] = m
        return m
    return m if m.is_live else None  # we saw it end: the Dashboard lags behind events


def _details(tracker: MeetingTracker, m: Meeting, rm: RosterMeeting) -> bool:
    """What the API says about the meeting fills what no event said (events win)."""
    obj: dict[str, object] = {}
    if rm.id is not None:
        obj["id"] = rm.id
    if rm.topic is not None and m.topic is None:
        obj["topic"] = rm.topic
    if rm.host_id is not None:
        obj["host_id"] = rm.host_id
    if rm.type is not None:
        obj["type"] = rm.type
    had_id = m.id is not None
    # (a stamp older than any event's: a topic from an event always wins over this one)
    changed = m.absorb_details(obj, -(2**61), False)
    if rm.start_ms is not None and m.start_ms is None:
        m.start_ms = rm.start_ms
        changed = True
    if not had_id and m.id is not None:
        tracker._by_id.setdefault(m.id, set()).add(m.uuid)
    return changed


def _roster(tracker: MeetingTracker, m: Meeting, rm: RosterMeeting, snap: RosterSnapshot) -> bool:
    changed = False
    seen: set[int] = set()
    asked_ms = int(snap.asked_at * 1000)
    cap = tracker.max_transitions
    for rp in rm.participants:
        p = m.participant_for(rp.as_participant(), by_name=True)
        if p is None:
            continue
        seen.add(id(p))
        before, new_record = p.status, p.newest_transition is None
        join = rp.join_ms if rp.join_ms is not None else asked_ms
        waiting = rp.status == IN_WAITING_ROOM
        tr: Transition = (join, join, WAIT if waiting else JOIN, "waiting room" if waiting else "")
        changed |= m.record_presence(p, tr, cap, from_event=False)
        if rp.leave_ms is not None and rp.leave_ms >= join:
            out: Transition = (rp.leave_ms, rp.leave_ms, LEAVE, "left")
            changed |= m.record_presence(p, out, cap, from_event=False)
        if p.status is not before or new_record:
            p.origin = _arrival(snap, join)
            changed = True
    present = tracker.present_at_gap.pop(m.uuid, [])
    if rm.roster_complete:
        changed |= _left_meanwhile(tracker, m, [p for p in present if id(p) not in seen], snap)
    return changed


def _arrival(snap: RosterSnapshot, join_ms: int) -> Origin:
    since = snap.since
    if (
        snap.trigger == TRIGGER_GAP
        and since is not None
        and since * 1000 - _SLACK_MS <= join_ms <= snap.until * 1000 + _SLACK_MS
    ):
        return Origin(JOINED_IN_GAP, snap.at, since, snap.until)
    return Origin(FROM_API, snap.at)


def _left_meanwhile(
    tracker: MeetingTracker, m: Meeting, missing: list[Participant], snap: RosterSnapshot
) -> bool:
    """People who were in (or waiting) when the link came back, are still, and whom Zoom's
    full roster does not list: they left while nobody listened.  (Only those: whoever an
    event showed joining since is not Zoom's roster's to judge, whatever the clocks say.)"""
    until_ms = int(snap.until * 1000)
    detail = "left during the gap" if snap.trigger == TRIGGER_GAP else "not in Zoom's roster"
    changed = False
    for p in missing:
        if p.status is Presence.LEFT or m.participants.get(p.key) is not p:
            continue  # left live since, or merged into another record
        newest = p.newest_transition
        at = until_ms if newest is None else max(until_ms, newest[0])
        tr: Transition = (at, at, LEAVE, detail)
        if m.record_presence(p, tr, tracker.max_transitions, from_event=False):
            p.origin = Origin(LEFT_IN_GAP, snap.at, snap.since, snap.until)
            changed = True
    return changed


def _ended(tracker: MeetingTracker, snap: RosterSnapshot, listed: set[str]) -> set[str]:
    """Live meetings Zoom no longer lists (of a kind whose list was read in full)."""
    until_ms = int(snap.until * 1000)
    gone = [
        m
        for m in tracker.meetings.values()
        if m.is_live
        and m.kind in snap.kinds
        and m.uuid not in listed
        and m.last_event_at <= snap.until
    ]
    for m in gone:
        if m.record_end(until_ms, until_ms):
            tracker._finished_now(m, snap.at)
        m.origin = Origin(ENDED_IN_GAP, snap.at, snap.since, snap.until)
        m.mark_changed()
    return {m.uuid for m in gone}
