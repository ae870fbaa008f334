"""The connection panel, always at the top: is the link healthy, and if not, why.

```
● connected 00:41:07 · server accepted the connection
sub dem…01 · token 52m · hb 38 ms 3s ago · last event 0.2s · events 1,204 · lag p50 0.2s p95 1.4s · dups 0 · ev/s 12.4 ▁▂▅▇▅▂ · reconnects 0 · gaps 0
```

On a narrow panel the lesser figures give way (no duplicates, the lag, ev/s and the
sparkline first, see `link_figures`); the state, reconnects, gaps and malformed frames
always show.  While the link is down after having been up, a gap is open: it is counted
with how long so far and since when (`gaps 1 (open 42s, since 14:02:11)`), not "gaps 0".  A
heartbeat answer older than the connection's dead-link limit while "connected" is said
first on the state line (`stall_words`) and turns the border to a warning.  A line
between them speaks of the archive: why it cannot be written, or how far the search
index it is building has come (`archive_line`).

`LinkStatus` (zoomtui.monitor.linkstatus) is the plain model: the monitor session
keeps it up to date and the panel renders it.  Ages ("3s ago") are recomputed from the
injectable clock by a 1 s timer, which only re-renders two short lines.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from zoomtui.monitor.linkstatus import LinkStatus
from zoomtui.redaction import mask_id
from zoomtui.timefmt import (
    age,
    clock_hms,
    date_clock,
    duration_hms,
    expiry,
    lag_cell,
    milliseconds,
)
from zoomtui.tui.linkwords import displaced_plan
from zoomtui.tui.theme import STATE_GLYPHS, state_style
from zoomtui.tui.widgets.event_rows import LATE_AFTER
from zoomtui.tui.widgets.scrolling import show_text
from zoomtui.zoom.updates import ConnectionState

SEPARATOR = " · "
#: the sparkline of events per second: this wide where there is room, left out below SPARK_MIN
SPARK_WIDTH = 30
SPARK_MIN = 8
#: a heartbeat answer older than the dead-link limit while "connected"
STALL_STYLE = "bold $text-warning"
#: ages and "time in state" move with the clock: the panel is re-rendered this often (seconds)
AGES_INTERVAL = 1.0

# -- formatting (pure, so tests can check it without an app) ----------------------------


def state_line(status: LinkStatus, now: float) -> Content:
    state = status.state
    style = state_style(state)
    parts: list[tuple[str, str] | str] = []
    if status.replay:
        # A replay must never pass for a live link: a badge, and the recorded moment
        # (`now` is the replay's clock) where a live panel has no time of day at all.
        parts += [(" REPLAY ", "reverse $text-accent"), (f" {date_clock(now)} ", "bold")]
    parts.append((f"{STATE_GLYPHS.get(state, '●')} {state.value}", style))
    if status.since is not None:
        parts.append((f" {duration_hms(now - status.since)}", "$text-muted"))
    if status.replay:
        # after the recorded state: at 80 columns the progress pushed the state off the line
        parts.append((f" · {status.replay}", "$text-muted"))
    plan = displaced_plan(status, now)
    if plan:  # before the (long) reason, so a narrow panel still shows it
        parts += [(" · ", "$text-muted"), (plan, "bold")]
    overdue = status.heartbeat_overdue(now)
    if overdue is not None:
        # first after the state: it must show on the narrowest panel too
        parts += [(" · ", "$text-muted"), (stall_words(overdue), STALL_STYLE)]
    if status.reason:
        parts += [(" · ", "$text-muted"), status.reason]
    if (
        state is ConnectionState.RECONNECTING
        and status.retry_in is not None
        and status.since is not None
    ):
        left = status.since + status.retry_in - now
        if left > 0.5:
            parts.append((f" (next try in {int(left + 0.5)}s)", "$text-muted"))
    return Content.assemble(*parts)


def archive_line(status: LinkStatus) -> Content:
    """What is wrong with the archive; else its search index being built, as the writer
    reports it (searches scan what it does not cover yet); else nothing."""
    if status.archive_error:
        return Content.assemble(
            ("⚠ archive: ", "bold $text-error"), (status.archive_error, "$text-error")
        )
    if indexing(status):
        assert status.archive_index is not None
        return Content.assemble(
            ("archive: ", "$text-muted"),
            status.archive_index.words(),
            (" · search scans the rest", "$text-muted"),
        )
    return Content("")


#: after the roster line's few words, where the whole sentence is (where it fits)
ROSTER_MORE = " · what to change: the log (type:roster)"


def roster_line(status: LinkStatus, width: int | None = None) -> Content:
    """Why Zoom's API gave no roster (or only part of one), in one line of `width` cells:
    the few words of `roster_brief`, and where the sentence with what to change is (the
    log's roster row, the line's tooltip, a toast) where that fits.  Kept until a
    hydration works (the hydrator says it once; a log row scrolls away)."""
    if not status.roster_problem:
        return Content("")
    brief = status.roster_brief or status.roster_problem
    line = Content.assemble(("⚠ rosters: ", "bold $text-warning"), brief)
    if width is None or line.cell_length + len(ROSTER_MORE) <= width:
        line = Content.assemble(line, (ROSTER_MORE, "$text-muted"))
    return line


def indexing(status: LinkStatus) -> bool:
    """The archive's writer is building its search index (the panel says how far)."""
    build = status.archive_index
    return build is not None and not build.complete


def hint_line(status: LinkStatus) -> Content:
    if not status.hint:
        return Content("")
    return Content.assemble(("→ ", "$text-error"), (status.hint, "$text-error"))


#: from this rate on, ev/s is a whole number with separators, like the counts beside it
WHOLE_RATE_FROM = 100


def per_second(rate: float) -> str:
    """Events per second as the panel shows them: "12.4" (the decimal tells a slow trickle
    apart, and the rate is a 5 s mean, so it moves in steps of 0.2), "16,102" at high rates
    (a tenth means nothing there, and the separators read like "events 456,733")."""
    tenths = f"{rate:.1f}"
    if float(tenths) < WHOLE_RATE_FROM:
        return tenths
    return f"{round(rate):,}"


def stall_words(overdue: float) -> str:
    """What the state line says beside "connected" when heartbeats stopped being answered."""
    return f"⚠ link looks stalled: no heartbeat answer for {age(overdue)}"


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure of the panel's second line: `label value`.  `gives_way`: how early it
    is left out on a narrow panel (the highest first; 0: never)."""

    label: str
    value: str
    style: str = ""
    gives_way: int = 0


def link_figures(status: LinkStatus, now: float) -> list[Figure]:
    """The link's vital signs, left to right: sub, token, hb, last event, events, lag,
    dups, ev/s.

    On a narrow panel a zero dups goes first, then the lag, ev/s, the last event's age,
    the subscription (the state line names it while connecting), the event count, the
    token (kept while it runs out), duplicates counted and the heartbeat (kept while it
    is overdue)."""
    sub = mask_id(status.subscription_id) if status.subscription_id else "–"
    if status.token_expires_at is None:
        token = Figure("token", "–", gives_way=2)
    else:
        left = status.token_expires_at - now
        low = left < 300
        token = Figure("token", expiry(left), "$text-warning" if low else "", 0 if low else 2)
    if status.heartbeat_rtt is None or status.heartbeat_at is None:
        hb = Figure("hb", "–", gives_way=1)
    else:
        ago = f"{milliseconds(status.heartbeat_rtt)} {age(now - status.heartbeat_at)} ago"
        overdue = status.heartbeat_overdue(now) is not None
        hb = Figure("hb", ago, STALL_STYLE if overdue else "", 0 if overdue else 1)
    last = "–" if status.last_event_at is None else age(now - status.last_event_at)
    return [
        Figure("sub", sub, gives_way=4),
        token,
        hb,
        Figure("last event", last, gives_way=5),
        Figure("events", f"{status.events:,}", gives_way=3),
        *quality_figures(status, now),
        Figure("ev/s", per_second(status.rate.rate(now)), gives_way=6),
    ]


def quality_figures(status: LinkStatus, now: float) -> list[Figure]:
    """Lag p50/p95 over the last minute ($warning when the p95 is late) and duplicates
    (kept longer once there are some).  Both give way before ev/s, no duplicates first."""
    lags = status.lag.percentiles(now, 0.5, 0.95)
    if lags is None:
        lag = Figure("lag", "–", gives_way=7)
    else:
        p50, p95 = (lag_cell(x, 6) for x in lags)
        late = lags[1] >= LATE_AFTER
        lag = Figure("lag", f"p50 {p50} p95 {p95}", "$text-warning" if late else "", 7)
    n = status.duplicates
    dups = Figure("dups", f"{n:,}", "$text-warning" if n else "", 2 if n else 8)
    return [lag, dups]


def counter_figures(status: LinkStatus, now: float | None = None) -> list[Figure]:
    """Reconnects, gaps and malformed frames: never left out (what went wrong, and how often).
    A gap still open (the link down after having been up) counts, with how long so far."""
    open_for = status.gap_open_for(now) if now is not None else None
    if open_for is None or status.gap_open_since is None:
        gaps = Figure("gaps", str(status.gaps), "$text-warning" if status.gaps else "")
    else:
        since = clock_hms(round(status.gap_open_since * 1000))
        gaps = Figure(
            "gaps", f"{status.gaps + 1} (open {age(open_for)}, since {since})", STALL_STYLE
        )
    figures = [Figure("reconnects", str(status.reconnects)), gaps]
    if status.malformed:
        figures.append(Figure("malformed", str(status.malformed), "$text-error"))
    return figures


def figures_width(figures: list[Figure]) -> int:
    """Cells taken by `figures` joined with " · "."""
    cells = sum(len(f.label) + 1 + cell_len(f.value) for f in figures)
    return cells + len(SEPARATOR) * max(0, len(figures) - 1)


def fit_figures(
    figures: list[Figure], counters: list[Figure], width: int | None
) -> tuple[list[Figure], int]:
    """The figures that fit in `width` cells beside the counters (None: no limit), in
    their order, and the width left for the sparkline between them (0: none).

    Those that give way most go first until the line fits; then any that fits again in
    what is left comes back (a short one after a long one went).  The sparkline shows
    only with every figure, in at least SPARK_MIN cells."""
    if width is None:
        return list(figures), SPARK_WIDTH

    def need(shown: list[Figure]) -> int:
        return figures_width(shown) + len(SEPARATOR) + figures_width(counters)

    kept = list(figures)
    dropped: list[Figure] = []
    while need(kept) > width and any(f.gives_way for f in kept):
        dropped.append(max((f for f in kept if f.gives_way), key=lambda f: f.gives_way))
        kept.remove(dropped[-1])
    for figure in reversed(dropped):
        trial = [f for f in figures if f in kept or f is figure]
        if need(trial) <= width:
            kept = trial
    if len(kept) < len(figures):
        return kept, 0
    # the sparkline takes the separator's place, with a cell of margin on each side
    room = width - need(kept) + len(SEPARATOR) - 2
    return kept, min(SPARK_WIDTH, room) if room >= SPARK_MIN else 0


def figures_content(figures: list[Figure], *, lead: bool = False) -> Content:
    """`figures` as one line; `lead`: start with a separator (they follow other figures)."""
    muted = "$text-muted"
    parts: list[tuple[str, str] | str] = []
    for f in figures:
        if parts or lead:
            parts.append((SEPARATOR, muted))
        parts.append((f"{f.label} ", muted))
        parts.append((f.value, f.style) if f.style else f.value)
    return Content.assemble(*parts)


def metrics_line(status: LinkStatus, now: float) -> Content:
    """Every vital sign on one line (as on a wide panel)."""
    return figures_content(link_figures(status, now))


def counters_line(status: LinkStatus, now: float | None = None) -> Content:
    return figures_content(counter_figures(status, now))


class ConnectionPanel(Widget):
    """State, reason and hint, plus the link's vital signs. Always visible at the top."""

    DEFAULT_CSS = """
    ConnectionPanel {
        height: auto;
        border: round $primary 50%;
        border-title-color: $text-primary;
        padding: 0 1;
    }
    ConnectionPanel.-failed { border: round $error; }
    ConnectionPanel.-connected { border: round $success 60%; }
    ConnectionPanel.-connected.-stalled { border: round $warning; }
    ConnectionPanel #state-line { width: 1fr; height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    ConnectionPanel #hint-line { height: auto; display: none; }
    ConnectionPanel.-has-hint #hint-line { display: block; }
    ConnectionPanel #archive-line { height: auto; display: none; }
    ConnectionPanel.-archive-failed #archive-line { display: block; }
    ConnectionPanel.-archive-indexing #archive-line { display: block; }
    ConnectionPanel #roster-line { height: 1; text-wrap: nowrap; text-overflow: ellipsis; display: none; }
    ConnectionPanel.-roster-problem #roster-line { display: block; }
    ConnectionPanel #history-line { height: auto; display: none; color: $text-warning; }
    ConnectionPanel.-history-loading #history-line { display: block; }
    ConnectionPanel #metrics { height: 1; }
    ConnectionPanel #metrics-line { width: auto; height: 1; }
    ConnectionPanel #rate-spark { width: 30; height: 1; margin: 0 1; }
    ConnectionPanel #metrics-line, ConnectionPanel #counters-line { text-wrap: nowrap; }
    ConnectionPanel #counters-line { width: auto; height: 1; }
    """

    def __init__(
        self,
        status: LinkStatus,
        *,
        clock: Callable[[], float] = time.time,
        id: str | None = "connection",
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.status = status
        self._clock = clock
        self._spark_width = SPARK_WIDTH
        self._roster_said = ""  # (the roster problem toasted last)
        self._reason_said = ""  # (the reason in the state line's tooltip)
        self.border_title = "connection"
        #: figures after the link's (forwarding's counts), each giving way as it says
        self.more_figures: Callable[[float], list[Figure]] | None = None
        #: while the history loads: what it has read and what waits behind it
        self.history_note: Callable[[], str] | None = None

    def compose(self) -> ComposeResult:
        # Kept as attributes: refresh_status runs often and must work while the app shuts down.
        self._state_line = Static(id="state-line", markup=False)
        self._hint_line = Static(id="hint-line", markup=False)
        self._metrics_line = Static(id="metrics-line", markup=False)
        self._spark = Sparkline([], id="rate-spark")
        self._counters_line = Static(id="counters-line", markup=False)
        self._archive_line = Static(id="archive-line", markup=False)
        self._roster_line = Static(id="roster-line", markup=False)
        self._history_line = Static(id="history-line", markup=False)
        yield self._state_line
        yield self._hint_line
        yield self._archive_line
        yield self._roster_line
        yield self._history_line
        with Horizontal(id="metrics"):
            yield self._metrics_line
            yield self._spark
            yield self._counters_line

    def on_mount(self) -> None:
        self.refresh_status()
        # Ages and "time in state" move with the clock: one cheap re-render a second.
        self.set_interval(AGES_INTERVAL, self.refresh_status, name="connection-panel-ages")

    def _show(self, line: Static, content: Content) -> None:
        """Update one line only when it changed (see `show_text`): the state and roster
        lines are one row of fixed width; the hint, archive and history lines wrap; the
        others size themselves to their text, so a layout when their width changed."""
        if line is self._state_line or line is self._roster_line:
            size: object = 1
        elif line in (self._hint_line, self._archive_line, self._history_line):
            size = None
        else:
            size = content.cell_length
        show_text(line, content, size)

    def _show_roster(self, st: LinkStatus) -> None:
        """The roster problem in one line; the whole sentence in its tooltip, and a toast
        each time it changes (the panel keeps the short words)."""
        width = self.content_region.width if self.size.width else None
        self._show(self._roster_line, roster_line(st, width))
        said = st.roster_problem
        if said != self._roster_said:
            self._roster_said = said
            # Zoom's API's own words are in it: plain text, never markup
            self._roster_line.tooltip = Content(said) if said else None
            if said:
                self.notify(
                    said,
                    title="Rosters from Zoom's API",
                    severity="warning",
                    timeout=20,
                    markup=False,
                )

    def on_resize(self) -> None:
        self.refresh_status()  # what fits on the second line depends on the width

    def _show_figures(self, st: LinkStatus, now: float) -> None:
        """The second line: the figures that fit the panel's width (lesser ones give way),
        the sparkline where there is room, the counters always."""
        width = self.content_region.width if self.size.width else None  # (None: not laid out)
        figures = link_figures(st, now)
        if self.more_figures is not None:
            figures += self.more_figures(now)
        counted = counter_figures(st, now)
        figures, spark_width = fit_figures(figures, counted, width)
        self._show(self._metrics_line, figures_content(figures))
        counters = figures_content(counted, lead=bool(figures) and not spark_width)
        self._show(self._counters_line, counters)
        spark = self._spark
        if spark_width != self._spark_width:
            self._spark_width = spark_width
            spark.display = bool(spark_width)
            if spark_width:
                spark.styles.width = spark_width
        if spark_width:
            series = st.rate.series(now)
            if series != spark.data:
                spark.data = series

    def refresh_status(self) -> None:
        """Re-render from `status` (call after changing it; the timer calls it every second)."""
        if not self.is_mounted or not self.is_attached:
            return
        now = self._clock()
        st = self.status
        state = state_line(st, now)
        self._show(self._state_line, state)
        self._say_reason(st.reason)
        self._show(self._hint_line, hint_line(st))
        self._show(self._archive_line, archive_line(st))
        self._show_roster(st)
        note = self.history_note() if self.history_note is not None else ""
        self._show(self._history_line, Content(note))
        self.set_class(bool(note), "-history-loading")
        self._show_figures(st, now)
        self.set_class(bool(st.hint), "-has-hint")
        self.set_class(bool(st.archive_error), "-archive-failed")
        self.set_class(indexing(st), "-archive-indexing")
        self.set_class(bool(st.roster_problem), "-roster-problem")
        self.set_class(st.state is ConnectionState.FAILED, "-failed")
        self.set_class(st.state is ConnectionState.CONNECTED, "-connected")
        self.set_class(st.heartbeat_overdue(now) is not None, "-stalled")
        width = self.content_region.width if self.size.width else None
        cut = width is not None and state.cell_length > width
        # the line ends in "…": say where the whole of it is
        self.border_subtitle = Content(keys_words(st) + (DETAILS_KEY if cut else ""))

    def _say_reason(self, reason: str) -> None:
        """The whole reason in the state line's tooltip (the line may cut it), when it changed."""
        if reason != self._reason_said:
            self._reason_said = reason
            # Zoom's, a server's or an error's words: plain text, never markup
            self._state_line.tooltip = Content(reason) if reason else None


#: after the keys in the panel's border while the state line is cut
DETAILS_KEY = " · i details"


def keys_words(st: LinkStatus) -> str:
    """The keys that act on the link, for the panel's border."""
    if st.replay:
        return "replay ended" if "ended" in st.replay else "space pause/resume"
    if st.displaced:
        return "c take the subscription back (asks first)"
    if st.state in (ConnectionState.STOPPED, ConnectionState.FAILED, ConnectionState.IDLE):
        return "c connect"
    return "c disconnect · r reconnect"
