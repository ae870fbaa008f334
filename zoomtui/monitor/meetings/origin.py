"""Where the tracker knows a meeting or a person from, when it is not from an event seen live.

`None` (the usual case) means "seen live": the state shown follows events that arrived.
An `Origin` says the state came from Zoom's REST API (a hydration, `roster.py`), or was
inferred by comparing Zoom's roster with the tracker after a gap in the connection.
"""

from __future__ import annotations

from dataclasses import dataclass

from zoomtui.timefmt import clock_hm

#: known from Zoom's API (the Dashboard's roster)
FROM_API = "api"
#: in Zoom's roster after a gap, with a join time inside the gap
JOINED_IN_GAP = "joined in gap"
#: in the tracker before a gap, missing from Zoom's roster after it
LEFT_IN_GAP = "left in gap"
#: live before a gap, not among Zoom's live meetings after it
ENDED_IN_GAP = "ended in gap"


@dataclass(frozen=True, slots=True)
class Origin:
    """How a state was learned: `kind`, from the API answer of `at`, about the interval
    from `since` (None: from before the monitor connected) to `until`."""

    kind: str
    at: float
    since: float | None = None
    until: float | None = None

    @property
    def inferred(self) -> bool:
        """Deduced from a roster compared with the tracker, not seen by anyone."""
        return self.kind != FROM_API

    @property
    def span(self) -> str:
        """The interval in words: '14:01 to 14:03', or 'before 14:02'."""
        until = self.until if self.until is not None else self.at
        if self.since is None:
            return f"before {clock_hm(round(until * 1000))}"
        return f"{clock_hm(round(self.since * 1000))} to {clock_hm(round(until * 1000))}"

    @property
    def text(self) -> str:
        """ "from Zoom's API at 14:02", "left during the gap, 14:01 to 14:03" ..."""
        if self.kind == FROM_API:
            return f"from Zoom's API at {clock_hm(round(self.at * 1000))}"
        verb = {JOINED_IN_GAP: "joined", LEFT_IN_GAP: "left", ENDED_IN_GAP: "ended"}.get(
            self.kind, self.kind
        )
        if self.since is None:
            return f"{verb} {self.span} (from Zoom's API at {clock_hm(round(self.at * 1000))})"
        return f"{verb} during the gap, {self.span} (inferred)"

    @property
    def mark(self) -> str:
        """A few characters for a row: 'api 14:02', '≈ left in gap'."""
        if self.kind == FROM_API:
            return f"api {clock_hm(round(self.at * 1000))}"
        return f"≈ {self.kind}"
