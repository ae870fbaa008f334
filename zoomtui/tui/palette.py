"""The monitor's own commands in the command palette (ctrl+p): the main screen's actions
and the app's, by name, from whichever screen the palette was opened on."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from zoomtui.tui.app import ZoomtuiApp


def shown_as_is(text: str) -> str:
    """`text` as Textual markup that shows it as it is.

    The palette parses a hit's help as markup, and it has no plain way in; a saved filter's
    expression is its help, and that is whatever was typed (a `[/x]` in it raised as the
    palette was drawn).  In Textual's markup every `[` not after a backslash opens a tag and
    `\\[` is a literal `[`: so each `[` is escaped, and nothing else is touched (its own
    `escape` leaves `[$x]` and `[B]` to be parsed away).  A hit's name needs none: saved
    filter names are short words (`zoomtui.filternames.NAME_PATTERN`)."""
    return text.replace("[", "\\[")


#: a palette entry: its name, its help (shown as it is), what choosing it does
Command = tuple[str, str, Callable[[], Any]]


class CommandList(Provider):
    """A provider of a list of named commands (`_commands`): all of them on an empty query,
    those whose name matches as one types, each with its help shown as it is."""

    def _commands(self) -> list[Command]:
        raise NotImplementedError

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=shown_as_is(help_text))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=shown_as_is(help_text))


class ZoomtuiCommands(CommandList):
    """Connect, disconnect, filters, export, theme, meetings, help."""

    def _commands(self) -> list[Command]:
        app: ZoomtuiApp = self.app  # type: ignore[assignment]  # Textual: App[Any]; always ours
        main = app.main
        return [
            ("Connect", "Connect to Zoom (or start again after a failure)", main.action_connect),
            (
                "Disconnect",
                "Close the connection; events sent meanwhile are lost",
                # chosen by name, not a stray key: no question (`c` asks)
                app.sources.disconnect,
            ),
            (
                "Reconnect now",
                "Drop the connection and connect again, skipping any wait",
                main.action_reconnect,
            ),
            (
                "Connection details",
                "The state, since when, and the whole reason and hint (i)",
                main.action_connection_details,
            ),
            ("Clear filter", "Show every event again", main.action_clear_filter),
            ("Follow", "Stick to the newest event", main.action_follow),
            (
                "Pause or follow the list",
                "Hold the event list still; events still arrive (space)",
                main.event_view.toggle_follow,
            ),
            (
                "Export view",
                "Write the events in the current view to a JSON Lines file",
                main.action_export_view,
            ),
            (
                "Search the archive for this filter",
                "Every archived event the filter matches, beyond the newest in the list (A)",
                main.action_search_archive,
            ),
            (
                "Toggle dark mode",
                "Switch between the light and the dark theme",
                app.action_toggle_dark,
            ),
            ("Meetings", "Show or hide the meetings pane", main.action_meetings),
            (
                "Alerts",
                "The alerts of this run; Enter opens an alert's event or gap",
                app.action_alerts,
            ),
            ("Help", "Every key, and the filter language", app.action_help),
        ]


class SavedFilterCommands(CommandList):
    """ "Filter: <name>" for each saved filter (applies it), and "Save filter as…"."""

    def _commands(self) -> list[Command]:
        app: ZoomtuiApp = self.app  # type: ignore[assignment]  # Textual: App[Any]; always ours
        main = app.main
        saved = main.filters.saved.filters
        commands: list[Command] = [
            (
                "Save filter as…",
                "Keep the filter in effect under a name (@name recalls it; ctrl+s in the filter)",
                main.action_save_filter,
            )
        ]
        for name in sorted(saved):
            expression = saved[name]
            commands.append((f"Filter: {name}", expression, partial(main.set_filter, expression)))
        return commands
