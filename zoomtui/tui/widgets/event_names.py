"""Event names shortened to fit a column, keeping the part that tells them apart.

A Zoom event name is `family.action`, the action's words joined by `_`.  Cutting the
end (`meeting.partici…`) makes `participant_joined` and `participant_left` look the
same, so a name too wide for its column is shortened from the middle instead, in
steps, taking the first that fits (`name_forms` has the order):

    meeting.participant_joined      the name, when it fits
    m.participant_joined            the family down to its initials
    mtg.ptcp_joined                 the action's inner words abbreviated
    m.ptcp_joined
    mtg.p_joined                    the inner words down to their initials
    m.p_joined
    …joined                         what happened alone (joined, left, started, ended)
    …joi                            that cut: it still differs from …lef

The family is also told by the name's colour (`event_style`), so it goes before the
action's last word does.  The shortening is a function of the name and the width alone:
the same event is drawn the same way on every row, whatever else the log holds.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from rich.cells import cell_len, set_cell_size

from zoomtui.visible import visible_text
from zoomtui.zoom.protocol import ZoomEvent

if TYPE_CHECKING:
    from zoomtui.monitor.eventlog import EventLog

#: names longer than this (never Zoom's own) are cut at the end, not taken apart
LONGEST_SHORTENED = 120

#: event names remembered for the column width (Zoom has a few hundred; a hostile stream
#: of endless made-up names stops widening it there)
MAX_NAMES_SEEN = 2048
#: the event column never asks for more than this, however long a name
MAX_NAME_COLUMN = 64
#: subscriptions noted at most (a hub carries a handful), and the widest their column gets:
#: the ids' first cells tell them apart; a cut one ends in "…"
MAX_SUBSCRIPTIONS_SEEN = 256
MAX_SUB_COLUMN = 10
SUB_TITLE_CELLS = len("sub")

#: inner words of actions, and families, as people abbreviate them; other inner words
#: longer than WORD_WHOLE letters are cut to WORD_KEEP (caller and callee, server and
#: service stay apart), families of several words go to their initials
WORD_SHORT: dict[str, str] = {
    "participant": "ptcp",
    "participants": "ptcps",
    "recording": "rec",
    "registration": "reg",
    "registrant": "regt",
    "message": "msg",
    "meeting": "mtg",
    "webinar": "web",
    "conversation": "conv",
    "transcript": "tscr",
    "engagement": "engm",
    "breakout": "bo",
    "streaming": "strm",
    "waiting": "wait",
    "sharing": "share",
    "settings": "sets",
}
FAMILY_SHORT: dict[str, str] = {
    "meeting": "mtg",
    "webinar": "web",
    "recording": "rec",
    "session": "sess",
    "workspace": "wksp",
    "calendar": "cal",
    "zoomroom": "zr",
    "whiteboard": "wb",
    "account": "acct",
    "team_chat": "chat",
}
WORD_WHOLE = 6
#: words that say what happened without ending in "ed"
DONE_WORDS = frozenset({"left", "sent", "lost", "begin", "end", "start", "stop"})
WORD_KEEP = 4
ELLIPSIS = "…"


def _split(name: str) -> tuple[str, list[str]]:
    """(family, action words): `meeting.participant_joined` -> ("meeting", ["participant",
    "joined"]); a name without a dot (`bot_installed`) has no family."""
    family, dot, action = name.partition(".")
    if not dot:
        family, action = "", name
    words = [w for w in action.split("_") if w] or [action]
    return family, words


def _family_short(family: str) -> str:
    known = FAMILY_SHORT.get(family)
    if known is not None:
        return known
    parts = [p for p in family.split("_") if p]
    if len(parts) > 1:
        return "".join(p[0] for p in parts)  # contact_center -> cc
    return family if len(family) <= 5 else family[:WORD_KEEP]


def _initials(family: str) -> str:
    return "".join(p[0] for p in family.split("_") if p)


def _word_short(word: str) -> str:
    known = WORD_SHORT.get(word)
    if known is not None:
        return known
    return word if len(word) <= WORD_WHOLE else word[:WORD_KEEP]


def _key_word(words: list[str]) -> int:
    """Where the word that says what happened is: the last that reads as a verb done
    (joined, left, sent...), which may have words after it (`participant_left_waiting_room`,
    `signed_in`); else the last word (`server_cpu_alert`)."""
    for i in range(len(words) - 1, -1, -1):
        word = words[i]
        if word.endswith("ed") or word in DONE_WORDS:
            return i
    return len(words) - 1


def _join(family: str, words: list[str]) -> str:
    action = "_".join(words)
    return f"{family}.{action}" if family else action


def name_forms(name: str) -> list[str]:
    """The shortenings of `name` in order of preference, the name itself first.

    The word that says what happened (joined, left: `_key_word`) stays whole; the other
    words of the action give way before the family does (the colour tells the family
    too): all of them whole with the family whole, abbreviated, then down to its
    initials; then the other words abbreviated, with the family in its three forms;
    then the other words as initials; then what happened alone, with the initials of
    any words after it (`…joined_w_r`: the waiting room, not the meeting)."""
    family, words = _split(name)
    key = _key_word(words)
    families = [family, _family_short(family), _initials(family)]
    abbreviated = [w if i == key else _word_short(w) for i, w in enumerate(words)]
    initials = [w if i == key else w[0] for i, w in enumerate(words)]
    forms: list[str] = []
    for action in (words, abbreviated, initials):
        for family_form in families:
            form = _join(family_form, action)
            if form not in forms:
                forms.append(form)
    forms.append(ELLIPSIS + "_".join(initials[key:]))
    return forms


@lru_cache(maxsize=4096)
def short_name(name: str, width: int) -> str:
    """`name` in at most `width` cells: the longest step of the shortening that fits,
    else the last word cut (an ellipsis in front says something was taken out)."""
    if width <= 0:
        return ""
    if cell_len(name) <= width:
        return name
    if len(name) > LONGEST_SHORTENED:
        return set_cell_size(name, width - 1) + ELLIPSIS
    forms = name_forms(name)
    for form in forms[1:]:
        if cell_len(form) <= width:
            return form
    if width == 1:
        return ELLIPSIS
    return set_cell_size(forms[-1], width)  # "…joi": still not "…lef"


class WidestName:
    """The widest event name a log has held (in cells, at most MAX_NAME_COLUMN): the
    event column fits it when there is room.  Each row is looked at once, as it arrives.

    It also notes the subscriptions events came through (a hub's viewer reads several):
    `sub_cells` is the subscription column's width, 0 until a second one is seen."""

    __slots__ = ("_seen", "_seen_to", "_subs", "cells", "sub_cells")

    def __init__(self) -> None:
        self.cells = 0
        self.sub_cells = 0
        self._seen: set[str] = set()
        self._subs: set[str] = set()
        self._seen_to = 0  # rows before this seq were looked at

    def note(self, log: EventLog) -> bool:
        """Look at the rows added since the last call; True when a column's width changed."""
        end = log.appended
        start = self._seen_to if self._seen_to <= end else 0  # (0: the log was cleared)
        self._seen_to = end
        seen, subs, widest = self._seen, self._subs, self.cells
        known = len(subs)
        for seq in range(max(start, log.dropped), end):
            row = log.row_by_seq(seq)
            if type(row) is not ZoomEvent:
                continue
            if row.name not in seen and len(seen) < MAX_NAMES_SEEN:
                seen.add(row.name)
                widest = max(widest, min(MAX_NAME_COLUMN, cell_len(visible_text(row.name))))
            sub = row.subscription_id
            if sub is not None and sub not in subs and len(subs) < MAX_SUBSCRIPTIONS_SEEN:
                subs.add(sub)
        sub_cells = self.sub_cells
        if len(subs) > 1 and len(subs) != known:  # (a new one: worked out again)
            widest_sub = max(cell_len(visible_text(s)) for s in subs)
            sub_cells = max(SUB_TITLE_CELLS, min(MAX_SUB_COLUMN, widest_sub))
        grew = widest != self.cells or sub_cells != self.sub_cells
        self.cells, self.sub_cells = widest, sub_cells
        return grew
