"""The one shape every source of updates has: what a front end drives.

A source is anything that yields `Update`s from `updates()` and can be asked to
connect, disconnect, reconnect and close: the live `ZoomConnection`
(`zoomtui.zoom.connection`), an archive played back (`zoomtui.monitor.replay.ReplaySource`),
a source whose updates are recorded as they pass (`zoomtui.monitor.recording.Recorded`),
and later ones (a hub subscription).  Front ends take an `UpdateSource`, never a
concrete class, and hand what it yields to a `MonitorSession`
(`zoomtui.monitor.session`).

For a source that cannot connect or disconnect (a file, a hub), the `request_*` calls
mean what they can: a replay pauses and resumes; others may do nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

from zoomtui.zoom.updates import Update


@runtime_checkable
class UpdateSource(Protocol):
    """Updates, in order, until the source ends or is closed."""

    def updates(self) -> AsyncIterator[Update]:
        """The one loop: iterate it once.  It ends when the source is closed or done."""
        ...

    def request_connect(self) -> None:
        """Connect (or resume); returns at once, the loop reports what follows."""
        ...

    def request_disconnect(self) -> None:
        """Disconnect (or pause); returns at once."""
        ...

    def request_reconnect(self) -> None:
        """Drop the link and connect again, skipping any wait; returns at once."""
        ...

    async def close(self) -> None:
        """Stop for good: `updates()` ends.  Safe to call more than once."""
        ...
