"""What the monitor app is started with: one `AppOptions` value.

`zoomtui run`, `demo` and `replay`, the tests, the benchmarks and the screenshot script
each build one and hand it to `ZoomtuiApp`.  Grouped by what they are for:

- `source`: what to show: a live connection (`ConnectionSettings`), the demo's fake Zoom
  (`DemoOptions`), an archive played back (`ReplayChoice`), or None: no usable settings
  yet, so the first-run form (`FirstRunOptions`) opens;
- `clocks`: every time the app shows or stamps, injectable so tests and screenshots show
  stable times;
- `connection`: how a connection is built (backoff and timeouts; a test's subclass);
- `archive`: what is recorded and how much history is shown on start;
- `forward`: where live events are forwarded (`--forward-to`), signed as Zoom signs.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from zoomtui.monitor.eventlog import DEFAULT_LOG_LIMIT
from zoomtui.monitor.recording import ArchivePlan
from zoomtui.monitor.savedfilters import SavedFilters
from zoomtui.settings import ConnectionSettings

if TYPE_CHECKING:
    import httpx

    from zoomtui.alerts.rules import Rule
    from zoomtui.fakezoom import FakeZoom
    from zoomtui.forward import ForwardOptions
    from zoomtui.monitor.recentfilters import RecentFilters
    from zoomtui.monitor.replay import ReplaySource
    from zoomtui.tui.screens.first_run import Saver


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """`zoomtui demo`: a fake Zoom started in-process, in the app's own event loop."""

    seed: int = 1
    rate: float | Literal["max"] = 15.0
    heartbeat: float = 30.0
    scenario: str = "demo"
    events: int | None = None
    token_ttl: float = 3600
    #: the fake's clock (stamps event_ts); None: the app's clock
    fake_clock: Callable[[], float] | None = None
    #: ask the fake's Dashboard who is in each meeting (off: a flood and the answer race)
    hydrate: bool = True
    #: run on the fake once it is up, before the monitor connects: Zoom's state before the
    #: monitor started (meetings nobody heard begin), for a screenshot of a hydrated roster
    before_connect: Callable[[FakeZoom], Awaitable[None]] | None = None


@dataclass(frozen=True, slots=True)
class ReplayChoice:
    """`zoomtui replay`: play an archive instead of connecting."""

    source: ReplaySource
    #: what is played, for the panel and the title ("profile work · 14:02-15:10")
    title: str = ""


@dataclass(frozen=True, slots=True)
class HubChoice:
    """`zoomtui --hub` / `replay --hub`: read the team hub (a `zoomtui.hub.source.HubSource`)
    instead of connecting to Zoom."""

    source: Any
    #: which hub, for the panel and the title
    title: str = ""


@dataclass(frozen=True, slots=True)
class FirstRunOptions:
    """The first-run form, shown when there are no usable settings (`source` None)."""

    #: why there are no settings, said on the form
    reason: str = ""
    config_path: Path | None = None
    #: how the form stores what it verified (None: the keyring and config file)
    saver: Saver | None = None
    #: further `FirstRunScreen` keywords: prefill, oauth_url, ws_url, insecure_transport,
    #: keyring_problem, keyring_state, resolver
    form: Mapping[str, Any] = field(default_factory=dict)
    #: what `d` on the form starts
    demo: DemoOptions = DemoOptions()


@dataclass(frozen=True, slots=True)
class Clocks:
    """Where the app's times come from (tests and screenshots stand them still)."""

    #: wall-clock seconds: receive stamps, the panel's ages; a replay's recorded time when
    #: left at `time.time` for a replay
    wall: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic
    #: the connection's backoff jitter (None: its own)
    rng: random.Random | None = None


@dataclass(frozen=True, slots=True)
class ConnectionOptions:
    """How the live connection is built."""

    #: extra `ZoomConnection` keywords (backoff_base, open_timeout, give_up_after...)
    keywords: Mapping[str, Any] = field(default_factory=dict)
    #: builds the connection: `ZoomConnection` unless a test or benchmark wants a subclass
    factory: Callable[..., Any] | None = None


@dataclass(frozen=True, slots=True)
class FilterOptions:
    """The filters a person keeps: recent ones (up / down in the filter input) and saved
    ones (the palette's "Filter: <name>", `@name` in a filter)."""

    #: the profile's recent filters (None: none kept, as in most tests)
    recent: RecentFilters | None = None
    #: the saved filters (and those left out, each said once when the monitor starts)
    saved: SavedFilters = SavedFilters()
    #: keeps a filter under a name for later runs (None: "Save filter as" keeps it for
    #: this run only); raises with a message for the person when it cannot
    save: Callable[[str, str], None] | None = None


@dataclass(frozen=True, slots=True)
class AppOptions:
    """Everything `ZoomtuiApp` is started with."""

    #: what to show; None: no usable settings, the first-run form opens
    source: ConnectionSettings | DemoOptions | ReplayChoice | HubChoice | None = None
    #: the profile in use (the archive's name, the first-run form's target)
    profile: str = "default"
    first_run: FirstRunOptions = FirstRunOptions()
    connection: ConnectionOptions = ConnectionOptions()
    clocks: Clocks = Clocks()
    #: what to archive and how much history to load (None: no archive, as in most tests)
    archive: ArchivePlan | None = None
    #: rows the event list keeps in memory
    log_limit: int = DEFAULT_LOG_LIMIT
    #: the profile's alert rules (a toast and the bell for each alert, and their actions)
    alerts: tuple[Rule, ...] = ()
    #: the theme to start with (None, or a name Textual does not know: its default)
    theme: str | None = None
    #: keeps a theme the person chose in the monitor for later runs (None: not kept)
    theme_store: Callable[[str], None] | None = None
    #: `--forward-to`: each live event to a webhook handler too (None: not forwarded)
    forward: ForwardOptions | None = None
    #: builds the forwarder's HTTP client (None: its own; the screenshots' handler listens
    #: on a Unix socket, so the URL on screen stays the same from run to run)
    forward_client: Callable[[], httpx.AsyncClient] | None = None
    #: recent and saved filters
    filters: FilterOptions = FilterOptions()

    @property
    def replay(self) -> ReplaySource | None:
        return self.source.source if isinstance(self.source, ReplayChoice) else None

    @property
    def clock(self) -> Callable[[], float]:
        """The app's wall clock: a replay shows its recorded time unless a clock is given."""
        replay = self.replay
        if replay is not None and self.clocks.wall is time.time:
            return replay.now
        return self.clocks.wall
