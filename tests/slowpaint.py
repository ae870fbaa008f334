"""Slow painters: find the tests that read the screen before it was painted.

    python -m pytest -p tests.slowpaint -n 2 tests/tui
    python -m pytest -p tests.slowpaint --slow-paint=5 tests/tui/test_app.py   # slower still

The monitor paints on schedules of its own: the event log coalesces its follow repaints,
the side panes poll the tracker, the panel is throttled and re-rendered for its ages.  A test
that waits on a model condition (a counter, a state) and then reads the screen passes while
the painter happens to be quicker than the test's next turn, and fails on a loaded machine.
This plugin makes every such painter slow (N seconds, default 2), so that race is lost every
time instead of once in a while; and it lowers the suite's hang guard (`tests.waits`) to 25 s,
so a wait that will never end fails in about 30 s instead of 300.

A test that fails under it but passes without it reads the screen early: wait for one screen
that shows everything the test then asserts (`tui.screen_shows`, tests/tui/conftest.py), never
sleep.  Every test passes under it today; a test that needs a painter's pace by design moves
the clock the painter reads by hand (`tests.waits.StillMonotonic`) rather than relying on it.

Nothing is made faster (a painter already slower than N keeps its pace), and nothing that is
painted at once is delayed: the first follow repaint, the first keystroke's filter, the
panel's refresh for a gap and every pane's first build stay immediate, as they are for a user.

The painters (every `set_interval`, `set_timer` and `call_later` in zoomtui/tui), and what
each paints; each is patched where the code reads it at run time:

- `EventLogView.FOLLOW_INTERVAL` (widgets/event_log.py, a class attribute read as `self.`):
  the event log's rows while following; repaints after the first are coalesced to one per
  interval (`set_timer`, "follow-repaint").
- `REFRESH_INTERVAL` in widgets/meetings_pane.py and, imported by name, widgets/participants.py:
  the meetings pane and the participants pane look at the tracker's version this often and
  rebuild ("meetings-poll", "participants-poll").
- `TICK_INTERVAL` in the same two modules: the panes' durations re-drawn for the clock.
- `AGES_INTERVAL` (widgets/connection_panel.py): the panel's ages and time in state
  ("connection-panel-ages"), which is also what paints its counters after a throttled batch.
- `PANEL_REFRESH_INTERVAL` (screens/main.py): the panel's counters re-rendered at most this
  often as batches arrive (a throttle; a gap is shown at once).
- `REPAINT_INTERVAL` (forwarding.py): the forwarding marks on the log's rows ("forward-marks").
- `REPLAY_TICK` (sources.py): the replay badge's progress ("replay-badge").
- `TICK_SECONDS` (tui/alerting.py, imported by name from zoomtui.alerts.engine): the alert
  engine's time-based conditions, whose alerts become toasts and the alerts list ("alerts-tick").
- `ARCHIVE_CHECK_INTERVAL` (app.py): the archive line of the panel ("archive-status").
- `PRUNE_INTERVAL` (app.py): ended meetings dropped by age, then gone from the meetings pane
  ("meetings-prune"; 5 s, so unchanged unless N is more).
- `REFRESH_INTERVAL` (screens/connection_details.py): the open connection-details screen's
  rows re-read from the link ("connection-details").
- `THROTTLE` (widgets/filter_bar.py): the filter typed so far applied to the log; the first
  keystroke at once, the rest of a burst after the throttle (`set_timer`).

Not slowed (`NOT_SLOWED`, with why): the connection bridge's batching (worker.py
`call_later`), the full collection (app.py "gc-full") and the first-run form's `call_later`.
tests/test_slowpaint.py keeps this list whole: a timer added to zoomtui/tui, or a constant
renamed, fails it until it is named here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import pytest

from tests import waits

#: how slow each painter gets (seconds) unless `--slow-paint` says otherwise
DEFAULT_SECONDS = 2.0
#: the hang guard under the plugin: a wait that never ends fails in about 30 s
HANG_GUARD = 25.0


@dataclass(frozen=True, slots=True)
class Painter:
    """A number the app reads to schedule painting: `attribute` of the module `module`,
    dotted for a class attribute ("EventLogView.FOLLOW_INTERVAL")."""

    module: str
    attribute: str
    paints: str

    @property
    def name(self) -> str:
        """The name the code reads (the last part of `attribute`)."""
        return self.attribute.rpartition(".")[2]

    def owner(self) -> object:
        """The module or class that holds the number."""
        owner: object = importlib.import_module(self.module)
        for part in self.attribute.split(".")[:-1]:
            owner = getattr(owner, part)
        return owner


PAINTERS: tuple[Painter, ...] = (
    Painter("zoomtui.tui.widgets.event_log", "EventLogView.FOLLOW_INTERVAL", "the log's rows"),
    Painter("zoomtui.tui.widgets.meetings_pane", "REFRESH_INTERVAL", "the meetings pane"),
    Painter("zoomtui.tui.widgets.meetings_pane", "TICK_INTERVAL", "the meetings' durations"),
    Painter("zoomtui.tui.widgets.participants", "REFRESH_INTERVAL", "the participants pane"),
    Painter("zoomtui.tui.widgets.participants", "TICK_INTERVAL", "the participants' durations"),
    Painter("zoomtui.tui.widgets.connection_panel", "AGES_INTERVAL", "the panel's ages"),
    Painter("zoomtui.tui.screens.main", "PANEL_REFRESH_INTERVAL", "the panel's counters"),
    Painter("zoomtui.tui.forwarding", "REPAINT_INTERVAL", "the forwarding marks"),
    Painter("zoomtui.tui.sources", "REPLAY_TICK", "the replay badge"),
    Painter("zoomtui.tui.alerting", "TICK_SECONDS", "time-based alerts"),
    Painter("zoomtui.tui.app", "ARCHIVE_CHECK_INTERVAL", "the panel's archive line"),
    Painter("zoomtui.tui.app", "PRUNE_INTERVAL", "ended meetings dropped by age"),
    Painter("zoomtui.tui.widgets.filter_bar", "THROTTLE", "the typed filter applied"),
    Painter("zoomtui.tui.screens.connection_details", "REFRESH_INTERVAL", "connection details"),
)

#: timer calls in zoomtui/tui left at their pace: (module, function holding the call) -> why
NOT_SLOWED: dict[tuple[str, str], str] = {
    ("zoomtui.tui.worker", "_add"): (
        "the connection bridge's batching delivers rows to the model and the screen alike: "
        "nothing a test waits on can be ahead of it, and it would delay the first rows too"
    ),
    ("zoomtui.tui.app", "_install_gc_policy"): "a full collection every 60 s paints nothing",
    ("zoomtui.tui.screens.first_run", "action_enter"): (
        "Textual's call_later: after the field's queued keys are handled, not after a delay"
    ),
}


def slow_down(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Make every painter at least `seconds` slow and lower the hang guard (undone with
    `monkeypatch.undo()`)."""
    for painter in PAINTERS:
        owner = painter.owner()
        normal = getattr(owner, painter.name)
        monkeypatch.setattr(owner, painter.name, max(normal, seconds))
    # Read at call time by every wait in tests/waits.py (and the tui fixture's wait_until);
    # the copies other test modules import by name bound subprocess and thread joins.
    monkeypatch.setattr(waits, "HANG_GUARD", min(waits.HANG_GUARD, HANG_GUARD))


_patched = pytest.MonkeyPatch()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow-paint",
        type=float,
        default=DEFAULT_SECONDS,
        metavar="SECONDS",
        help="with -p tests.slowpaint: how slow every painter gets (default %(default)s)",
    )


def pytest_configure(config: pytest.Config) -> None:
    slow_down(_patched, config.getoption("--slow-paint"))


def pytest_unconfigure(config: pytest.Config) -> None:
    _patched.undo()


def pytest_report_header(config: pytest.Config) -> str:
    return (
        f"slowpaint: {len(PAINTERS)} painters at least {config.getoption('--slow-paint'):g} s, "
        f"hang guard {waits.HANG_GUARD:g} s"
    )
