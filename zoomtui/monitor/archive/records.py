"""What an archive holds: the rows of its `log` table, how an update becomes one and
how one becomes a `Record` again, and the words an archive uses about itself.

Every kind of update is a row of the one `log` table (see `schema`); `kind` says which
columns it fills.  Events are rebuilt with `parse_frame(raw, received_at)`, so a
replayed event is exactly a live one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from zoomtui.zoom.protocol import Envelope, MalformedFrame, ZoomEvent, parse_frame
from zoomtui.zoom.rosters import RosterSnapshot
from zoomtui.zoom.updates import ConnectionState, Gap, Notice, StateChanged, Update

STATUS_OPEN = "open"
STATUS_FAILED = "failed"
STATUS_CLOSED = "closed"
STATUS_READ_ONLY = "read-only"

KIND_EVENT = "event"
KIND_MALFORMED = "malformed"
KIND_STATE = "state"
KIND_GAP = "gap"
KIND_NOTICE = "notice"
#: a hydration: what Zoom's REST API said about live meetings (raw: its JSON), never an event
KIND_ROSTER = "roster"

#: the connection id of gaps the archive records about itself (it could not write)
ARCHIVE_CONNECTION_ID = "archive"


class ArchiveError(Exception):
    """Reading an archive failed (missing, damaged, newer). Writes never raise."""


@dataclass(frozen=True, slots=True)
class Record:
    """One stored update with its bookkeeping."""

    seq: int
    at: float  # receive time (events, malformed, notices), change time (states), end (gaps)
    connection_id: str | None
    update: Update


# ---------------------------------------------------------------------------------
# writing rows

EVENT_COLUMNS = (
    "connection_id",
    "at",
    "event",
    "event_ts",
    "meeting_uuid",
    "meeting_id",
    "participant_key",
    "topic",
    "participant_name",
    "participant_email",
    "raw",
    "subscription_id",
)
#: builds the row of an event in C: same order as EVENT_COLUMNS after connection_id (`raw`
#: is the frame as text: events off the network keep it as the UTF-8 they came in; the
#: subscription is the hub's, None for an event straight from Zoom)
event_row = attrgetter(
    "received_at",
    "name",
    "event_ts_ms",
    "meeting_uuid",
    "meeting_id",
    "participant_key",
    "topic",
    "participant_name",
    "participant_email",
    "raw",
    "subscription_id",
)
EVENT_ROW_LEN = len(EVENT_COLUMNS)
#: most rows per multi-row INSERT (a power of two), if SQLite allows that many parameters.
#: Measured: 128 costs the least CPU per row (1024-row statements cost 50 % more, single
#: rows 20 % more) while handing the GIL over only once per 128 rows.
ROWS_PER_STATEMENT = 128


@functools.cache
def insert_events_sql(n: int) -> str:
    """An INSERT of `n` event rows as the writers queue them."""
    one = f"('event', {', '.join('?' * len(EVENT_COLUMNS))})"
    return f"INSERT INTO log (kind, {', '.join(EVENT_COLUMNS)}) VALUES " + ", ".join([one] * n)


INSERT_MALFORMED = (
    "INSERT INTO log (kind, connection_id, at, reason, raw) VALUES ('malformed', ?, ?, ?, ?)"
)
INSERT_STATE = (
    "INSERT INTO log (kind, connection_id, at, state, previous, reason, hint, "
    "retry_in, attempt, gap_start) VALUES ('state', ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_GAP = (
    "INSERT INTO log (kind, connection_id, at, gap_start, reason) VALUES ('gap', ?, ?, ?, ?)"
)
INSERT_NOTICE = (
    "INSERT INTO log (kind, connection_id, at, reason, raw) VALUES ('notice', ?, ?, ?, ?)"
)
INSERT_ROSTER = (
    "INSERT INTO log (kind, connection_id, at, gap_start, reason, raw) "
    "VALUES ('roster', ?, ?, ?, ?, ?)"
)


def scrub(value: Any) -> Any:
    """`value`, with text made storable."""
    # SQLite text must be UTF-8: a lone surrogate (only a hand-made event can hold one;
    # parse_frame refuses them) becomes "?" rather than failing the whole batch.
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    return value


# ---------------------------------------------------------------------------------
# reading rows


def select_records(subscription: str = "NULL") -> str:
    """The SELECT of every stored update's columns; `subscription` the SQL of an event's
    subscription (`schema.subscription_column`: NULL in a file before the column)."""
    return (
        "SELECT seq, kind, at, connection_id, raw, reason, state, previous, hint, retry_in, "
        f"attempt, gap_start, {subscription} FROM log"
    )


SELECT_RECORDS = select_records()


def record_from_row(row: tuple) -> Record | None:
    """The record of a `select_records` row (None: a kind or state this zoomtui does not
    know).  A row without the subscription (12 columns, as before schema 3) is read too."""
    seq, kind, at, cid, raw, reason, state, previous, hint, retry_in, attempt, gap_start = row[:12]
    sub = row[12] if len(row) > 12 else None
    update: Any
    if kind == KIND_EVENT:
        update = parse_frame(raw, at)
        if sub is not None and update.__class__ is ZoomEvent:
            update.subscription_id = sub
    elif kind == KIND_MALFORMED:
        data = raw if isinstance(raw, bytes) else str(raw or "").encode("utf-8", "surrogatepass")
        update = MalformedFrame(raw=data, reason=reason or "", received_at=at)
    elif kind == KIND_STATE:
        try:
            update = StateChanged(
                state=ConnectionState(state),
                previous=ConnectionState(previous),
                reason=reason or "",
                at=at,
                hint=hint or "",
                retry_in=retry_in,
                attempt=attempt or 0,
                gap_since=gap_start,  # (a state row's gap_start: the gap open then)
            )
        except ValueError:  # a state a newer zoomtui knows: skip rather than fail a replay
            return None
    elif kind == KIND_GAP:
        update = Gap(start=gap_start if gap_start is not None else at, end=at, reason=reason or "")
    elif kind == KIND_NOTICE:
        env = parse_frame(raw, at)
        if not isinstance(env, Envelope):
            return None
        update = Notice(envelope=env, text=reason or "")
    elif kind == KIND_ROSTER:
        update = RosterSnapshot.from_json(raw) if isinstance(raw, bytes | str) else None
        if update is None:
            return None
    else:
        return None
    return Record(seq=seq, at=at, connection_id=cid, update=update)
