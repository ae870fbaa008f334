"""Who is in which meeting right now: a live tracker fed one ZoomEvent at a time. Pure: no I/O.

Zoom's delivery is neither ordered nor complete (PROTOCOL.md section 3), so the tracker
keeps, per participant, the *set* of presence transitions it has seen (join, leave,
waiting room in/out), each stamped with its own time (``join_time`` / ``leave_time`` /
``date_time``, else ``event_ts``), and derives the participant's state by folding them in
time order.  Consequences, by construction:

- order-tolerant: a ``participant_left`` older than the person's latest join does not
  remove them, wherever it arrives;
- idempotent: the same event applied twice changes nothing but a "duplicate" counter
  (dedupe key: event name, event_ts, participant key, the event's own time);
- the end state depends only on which events arrived, not on their order.

Meetings are keyed by uuid (one occurrence; ``id`` is reused across occurrences).  A
meeting is created on first sight from any event of a live occurrence, flagged "start
not seen" until ``meeting.started`` arrives.  ``meeting.ended`` marks everyone left at
``end_time``; later events are kept, and flagged "late" unless they are exits (Zoom sends
the leaves of a meeting it ends right after ``meeting.ended``).  Ended meetings stay for
``retain_ended`` seconds after we learned of the end, then `prune()` drops them (and
ignores stray events for them afterwards, so they do not come back as zombies); at most
``max_ended`` are kept whatever their age (a busy account ends a meeting every few
seconds), the oldest finished going first.

Bounded per person too: the newest ``max_transitions`` transitions are kept; beyond, the
oldest half is folded into a summary (`Participant.compact`).  Reordering is local (a
late event is seconds or minutes late, not dozens of a person's transitions late), so
everything shown stays exact; a transition older than the summary is counted "out of
order" and not applied, and the meeting's peak keeps the exact value it had when the
summarised stays went (it can be off by those people if late events then change the
past).  Only people who come and go dozens of times ever reach this.  Dedupe keys are
kept for the last two generations of ``_SEEN_GENERATION`` events per meeting (more in a
big webinar: twice its participants); an older resend still changes nothing (its
transition is already there), it is just not counted.

In time order (the usual case) a transition costs one step of the fold, not a fold of
the person's whole history, and a meeting's end only closes the stays still open.

Identity (PROTOCOL.md): a participant is keyed by ``participant_uuid``, else ``id``,
else ``user_id``, through an alias index of every id seen (see meeting.py).  An empty
``id`` (a guest's) is no id.  The join-before-host events may name a person by
``user_name`` alone: they are tracked by that name until an event with ids and the same
name claims the record.

Data problems are counted per meeting (`Meeting.flags`, `Meeting.problems()`) instead of
silently giving a wrong count: duplicate, late, out of order, left without join, join
after end, start not seen, participant without id, gap.  A leave without join is one only
in a meeting watched from its start with no gap (`Meeting.joins_unseen`): otherwise it is
someone who was in before we listened, and `Meeting.problem_flags()` leaves it out.

Peak count is exact: kept incrementally while transitions arrive in time order, and
recomputed by a sweep over every participant's in-meeting intervals (lazily, on read)
when one arrives out of order.

Waiting room: ``participant_joined_waiting_room`` / ``participant_put_in_waiting_room`` /
``participant_jbh_waiting`` put a person in the waiting state; ``participant_left_waiting_room``
/ ``participant_jbh_waiting_left`` take them out of it; ``participant_admitted`` and
``participant_jbh_joined`` count as entering the meeting (a ``participant_joined`` that
follows is then a no-op, not a rejoin).  Breakout rooms are not tracked: Zoom reports the
move as a ``participant_left`` from the main meeting, and that is what is shown.

Where each part lives:

- payload.py: reading Zoom's fields (ids, times, the leave-reason cleaner);
- fold.py: `Presence`, transitions, and `PresenceFold`, one person's state as a fold;
- participant.py: `Participant`, one person's transitions, fold and ids;
- meeting.py: `Meeting`, one occurrence, its people, counters, peak, aliases and dedupe
  memory; every change of its state is one of its methods;
- tracker.py: `MeetingTracker`, which decides what each event means and keeps the set
  of meetings bounded.
"""

from zoomtui.monitor.meetings.fold import Presence
from zoomtui.monitor.meetings.meeting import FLAG_LABELS, Meeting
from zoomtui.monitor.meetings.participant import Participant
from zoomtui.monitor.meetings.tracker import (
    DEFAULT_FORGET_AFTER_GAP,
    DEFAULT_MAX_ENDED,
    DEFAULT_MAX_GAP_STALE,
    DEFAULT_MAX_TRANSITIONS,
    DEFAULT_RETAIN_ENDED,
    MeetingTracker,
)

__all__ = [
    "DEFAULT_FORGET_AFTER_GAP",
    "DEFAULT_MAX_ENDED",
    "DEFAULT_MAX_GAP_STALE",
    "DEFAULT_MAX_TRANSITIONS",
    "DEFAULT_RETAIN_ENDED",
    "FLAG_LABELS",
    "Meeting",
    "MeetingTracker",
    "Participant",
    "Presence",
]
