"""A hydration (`RosterSnapshot`) in words and as a record: the event log's line, `tail`'s
stderr line and its `--json` record.  Never an event: the record's ``_record`` says what it
is, and it has no ``event`` member, so a script reading events skips it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

import orjson

from zoomtui.monitor.lines import iso_utc_ms
from zoomtui.monitor.recording import HistoryMark
from zoomtui.timefmt import clock_hms
from zoomtui.words import counted
from zoomtui.zoom.rest import PLAN_HINT, SCOPE_HINT
from zoomtui.zoom.rosters import TRIGGER_GAP, RosterSnapshot

#: the `_record` member of a hydration's JSON line
RECORD_KIND = "roster"


def roster_summary(snap: RosterSnapshot) -> str:
    """One line: what was learned from Zoom's API, or why nothing could be."""
    if snap.problem and not snap.meetings:
        text = f"no roster from Zoom's API: {snap.problem}"
        return f"{text} {snap.hint}".strip()
    live = sum(1 for m in snap.meetings if m.listed)
    after = ""
    if snap.trigger == TRIGGER_GAP and snap.since is not None:
        after = f" after the gap {clock_hms(round(snap.since * 1000))}–{clock_hms(round(snap.until * 1000))}"
    text = (
        f"roster from Zoom's API at {clock_hms(round(snap.at * 1000))}{after}: "
        f"{counted(live, 'live meeting')}, {counted(snap.people, 'person', 'people')} "
        f"({counted(snap.calls, 'call')})"
    )
    if snap.trigger == TRIGGER_GAP:
        text += "; changes while the link was down are marked ≈ (inferred)"
    if snap.problem:
        text += f"; in part only: {snap.problem} {snap.hint}".rstrip()
    return text


def roster_brief(snap: RosterSnapshot) -> str:
    """Why there is no roster (or only part of one) in a few words, for a line that must
    stay one line (the connection panel); `roster_summary` has the sentence and what to
    change.  "" when nothing went wrong."""
    if not snap.problem:
        return ""
    if SCOPE_HINT in snap.hint:
        why = "scope missing"
    elif PLAN_HINT in snap.hint:
        why = "no Dashboard on this plan"
    elif "(429)" in snap.problem:
        why = "rate limited"
    else:
        status = re.search(r"HTTP \d{3}", snap.problem)
        why = status.group(0) if status else "error"
    what = "rosters from Zoom's API in part only" if snap.meetings else "no roster from Zoom's API"
    return f"{what} ({why})"


def roster_json_line(snap: RosterSnapshot) -> bytes:
    """`tail --json`'s record of a hydration (one line)."""
    body = {"_record": RECORD_KIND, "_received_at": iso_utc_ms(snap.at), **snap.as_dict()}
    return orjson.dumps(body) + b"\n"


@dataclass(frozen=True, slots=True)
class RosterMark(HistoryMark):
    """The event log's line for a hydration (drawn as a rule with its text, like the line
    between history and live; ``type:roster`` in the filter language)."""

    filter_name: ClassVar[str] = "roster"
