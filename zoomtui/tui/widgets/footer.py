"""A footer that keeps the keys a new user needs on a narrow terminal.

Textual's `Footer` lays the keys out left to right, the focused widget's first and the
app's last, and cuts what does not fit: at 80 columns the main screen lost `? Help` and
`q Quit` (and half of `r Reconnect`), so nobody at a standard terminal could find help.

`FittingFooter` shows every key where they fit (a wide screen is as before).  Where they
do not, keys give way whole until the rest fits beside the palette key: those ranked
highest first (the screen says which: keys said elsewhere too, e.g. in a border), then
the right-most of the rest; with the compact spacing where that keeps more of the others.  The
keys in `keep` (help, quit) never give way.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from rich.cells import cell_len
from textual.widgets import Footer
from textual.widgets._footer import FooterKey  # (Textual exports no name for its keys)

#: how early a key gives way when no rank is given (ranks above it go first)
DEFAULT_RANK = 1
#: cells a key takes less in the compact footer (Textual 8.2's CSS: no padding around the
#: key, one cell of margin after the key and its description, instead of two of padding);
#: the palette key, docked, takes as many either way
COMPACT_SAVES = 1


class FittingFooter(Footer):
    """A `Footer` whose keys give way whole, lesser first, and never the ones in `keep`."""

    def __init__(
        self,
        *,
        keep: Collection[str],
        gives_way: Mapping[str, int] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        #: actions whose keys always show (they lead to every other key)
        self.keep = frozenset(keep)
        #: action -> how early its key gives way (higher first; unnamed: DEFAULT_RANK)
        self.gives_way = dict(gives_way or {})

    async def recompose(self) -> None:
        # (Footer recomposes whenever the bindings change: the focus moved, a state changed)
        await super().recompose()
        self.fit_keys()

    def on_resize(self) -> None:
        self.fit_keys()

    def keys(self) -> list[FooterKey]:
        """The binding keys, left to right (not the palette key, docked on the right)."""
        return [
            key
            for key in self.query(FooterKey)
            if not key.has_class("-command-palette") and not key.has_class("-grouped")
        ]

    def fit_keys(self) -> None:
        """Show the keys that fit the footer's width; the others give way whole.  Where not
        all fit, the compact spacing is used if it keeps more of those that are said
        nowhere else (not ranked above DEFAULT_RANK): it reads less easily."""
        width = self.size.width
        keys = self.keys()
        if not width or not keys or not self.is_attached:
            return
        room = width - sum(
            _cells(key) for key in self.query(FooterKey) if key.has_class("-command-palette")
        )
        spaced = {key: _cells(key) for key in keys}
        shown = self._fitting(keys, spaced, room)
        tight = self._fitting(keys, {k: w - COMPACT_SAVES for k, w in spaced.items()}, room)
        compact = self._plain_count(tight) > self._plain_count(shown)
        self.compact = compact
        for key in keys:
            key.display = key in (tight if compact else shown)

    def _fitting(
        self, keys: list[FooterKey], cells: dict[FooterKey, int], room: int
    ) -> list[FooterKey]:
        """`keys` less those that give way until the rest take at most `room` cells."""
        shown = list(keys)
        used = sum(cells.values())
        lesser_first = sorted(
            (k for k in keys if k.action not in self.keep),
            key=lambda k: (self.gives_way.get(k.action, DEFAULT_RANK), keys.index(k)),
            reverse=True,
        )
        for key in lesser_first:
            if used <= room:
                break
            shown.remove(key)
            used -= cells[key]
        return shown

    def _plain_count(self, keys: list[FooterKey]) -> int:
        """How many of `keys` are said nowhere else (ranked DEFAULT_RANK or below)."""
        return sum(self.gives_way.get(k.action, DEFAULT_RANK) <= DEFAULT_RANK for k in keys)

    def shown_actions(self) -> list[str]:
        """The actions whose keys show, left to right (for tests and the curious)."""
        return [key.action for key in self.keys() if key.display]


def _cells(key: FooterKey) -> int:
    """The cells `key` takes in the spaced footer (Textual 8.2's CSS: a cell of padding each
    side of the key and after the description; the palette key: its border, one cell
    between its key and description, one after)."""
    return cell_len(key.key_display) + cell_len(key.description) + 3
