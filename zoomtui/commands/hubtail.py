"""`tail --hub`: a viewer printing what the team hub holds, as `tail` prints Zoom.

A viewer says two links apart on stderr: `collector: ...` is the collector's link to Zoom as
the collector reported it (its states and gaps, read from the stream), `hub: ...` is this
process's own link to the hub.  A collector's FAILED or DISPLACED state is news for a viewer,
never a reason to stop: another collector may take over.

A viewer keeps no archive unless asked (`--archive`): the collector archives what Zoom
sent, and the hub keeps it for the team.  Asked, it records what it read, as `tail` does.

A filter's `type:` and `family:` terms are asked of the server (`hub.subjectfilter`): it sends
only the events they can match, and the viewer applies the whole filter to those, so what is
printed is the same as from the whole stream.  Stderr says once which it was.  With
`--archive` the whole stream is read all the same: the archive keeps every update read, as
`tail --archive --filter` keeps all Zoom sent.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from zoomtui.commands.common import EXIT_OK
from zoomtui.commands.hubbing import hub_exit_code
from zoomtui.commands.tail import TailOutput, TailRun, gap_text, state_text, stream
from zoomtui.monitor.session import MonitorSession
from zoomtui.zoom.protocol import ZoomEvent
from zoomtui.zoom.updates import Gap, StateChanged

if TYPE_CHECKING:
    from zoomtui.hub import HubSettings
    from zoomtui.monitor.filters import Filter


class HubTailOutput(TailOutput):
    """tail's output for a viewer: the collector's states and gaps marked as the
    collector's, and never an end of the run."""

    def on_state(self, change: StateChanged, live: bool) -> None:
        self.run.note(f"collector: {state_text(change)}")

    def on_gap(self, gap: Gap, live: bool) -> None:
        self.run.note(f"collector: {gap_text(gap)}")


async def run_hub_tail(
    hub: HubSettings,
    *,
    matches: Callable[[ZoomEvent], bool] | None = None,
    as_json: bool = False,
    count: int | None = None,
    duration: float | None = None,
    since: float | None = None,
    out: IO[bytes] | None = None,
    err: IO[str] | None = None,
    handle_signals: bool = True,
    archive: Any = None,
    server_filter: Filter | None = None,
) -> int:
    """Print what the hub holds from `since` (None: from now), then live.  `archive`: an
    `Archive` every update read goes to (closed at the end; None: nothing is kept).
    `server_filter`: the filter whose `type:` terms the server is asked to apply (`matches`
    is applied here all the same)."""
    from zoomtui.hub.source import HubSource
    from zoomtui.hub.subjectfilter import ServerFilter
    from zoomtui.hub.subjectfilter import server_filter as subjects_for

    run = TailRun(err if err is not None else sys.stderr)
    output = HubTailOutput(
        run,
        out if out is not None else sys.stdout.buffer,
        matches=matches,
        as_json=as_json,
        count=count,
    )
    session = MonitorSession(clock=time.time)
    session.subscribe(output)
    narrowed = subjects_for(server_filter)
    if archive is not None and narrowed.narrows:
        narrowed = ServerFilter(why_not="--archive keeps every event read")
    if narrowed.describe():
        run.note(f"hub: {narrowed.describe()}")
    source = HubSource(
        hub,
        since=since,
        filter_subjects=narrowed.subjects,
        on_link=lambda change: run.note(f"hub: {change.detail or change.state}"),
    )
    session.record_to(archive)
    try:
        await stream(source, session, run, duration=duration, handle_signals=handle_signals)
    finally:
        if archive is not None:
            await asyncio.to_thread(archive.close)
    if source.error:
        return hub_exit_code(source.error_kind)
    return EXIT_OK if run.code is None else run.code
