"""The filters a person applied lately, kept between runs: up and down in the monitor's
filter input walk them, most recent first, as a shell walks its history.

One file per profile (and one for the demo) under the user's state folder, not the config
file (a history is no setting): ``<state dir>/zoomtui/recent-filters/<profile>.json``,
``{"version": 1, "filters": [newest, ..., oldest]}``.  At most `MAX_RECENT` filters, each
at most the filter language's `MAX_FILTER_CHARS`, no two alike.

Written whole, atomically (a temporary file in the same folder, then `os.replace`), mode
0600 in a 0700 folder: other users do not read what someone searched for.  Read as hostile:
a file that is not a regular file (a FIFO would block, a symlink may point anywhere), larger
than `MAX_FILE_BYTES`, not UTF-8 JSON of that shape, is ignored with a one-line `warning`
(the next filter applied replaces it); entries that are not filter-like text are dropped.
Nothing here raises on reading; writing raises `OSError` for its caller to say.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from zoomtui import profilestate
from zoomtui.monitor.filters import MAX_FILTER_CHARS

#: how many filters are kept (the oldest goes)
MAX_RECENT = 50
#: a file larger than this is not one zoomtui wrote (50 filters of 2,000 characters, each
#: escaped as JSON at worst 6 bytes a character, fit)
MAX_FILE_BYTES = 640 * 1024
RECENT_DIRNAME = "recent-filters"
DEMO_FILENAME = "recent-filters-demo.json"
FORMAT_VERSION = 1


def recent_filters_path(profile: str | None) -> Path:
    """The file of `profile` (None: the demo's, which plays made-up meetings)."""
    base = profilestate.state_dir()
    if profile is None:
        return base / DEMO_FILENAME
    return base / RECENT_DIRNAME / f"{profilestate.profile_file_name(profile)}.json"


def usable_entry(text: object) -> str | None:
    """`text` as a history entry (stripped), or None when it is none: not text, blank,
    longer than a filter may be, or holding a control character."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not text or len(text) > MAX_FILTER_CHARS:
        return None
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in text):
        return None
    return text


def newest_first(entries: Iterable[str], limit: int = MAX_RECENT) -> tuple[str, ...]:
    """`entries` (newest first) without repeats, at most `limit`."""
    out: dict[str, None] = {}
    for entry in entries:
        if entry not in out:
            out[entry] = None
            if len(out) >= limit:
                break
    return tuple(out)


class RecentFilters:
    """The recent filters of one profile: read once, added to as filters are applied,
    written back by whoever owns the thread for it (`snapshot` then `write_recent`)."""

    def __init__(
        self, path: Path | None, entries: Iterable[str] = (), warning: str | None = None
    ) -> None:
        #: where they are kept (None: not kept, as in tests)
        self.path = path
        self._entries = newest_first(entries)
        #: why the file was ignored or trimmed, once, for the person (None: it was fine)
        self.warning = warning

    @classmethod
    def load(cls, path: Path) -> RecentFilters:
        entries, warning = read_recent(path)
        return cls(path, entries, warning)

    @property
    def entries(self) -> tuple[str, ...]:
        """Newest first."""
        return self._entries

    def add(self, text: str) -> bool:
        """Note `text` as the newest applied filter; False when nothing changed (it was the
        newest already, or it is not a usable entry)."""
        entry = usable_entry(text)
        if entry is None or (self._entries and self._entries[0] == entry):
            return False
        self._entries = newest_first((entry, *self._entries))
        return True


def read_recent(path: Path) -> tuple[tuple[str, ...], str | None]:
    """The entries in `path`, newest first, and a one-line warning when the file was
    ignored or trimmed (a missing file is no warning)."""
    try:
        raw = _read_bounded(path)
    except FileNotFoundError:
        return (), None
    except (OSError, ValueError) as exc:
        return (), _ignored(path, str(exc) if isinstance(exc, ValueError) else exc.strerror)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return (), _ignored(path, "it is not JSON")
    filters = data.get("filters") if isinstance(data, dict) else None
    if not isinstance(filters, list):
        return (), _ignored(path, 'it is not {"filters": [...]}')
    usable = [entry for entry in map(usable_entry, filters) if entry is not None]
    entries = newest_first(usable)
    if len(usable) == len(filters) and len(filters) <= MAX_RECENT:
        return entries, None
    dropped = len(filters) - len(entries)
    return entries, f"{path}: {dropped} recent filter(s) that are not filters were left out."


def _read_bounded(path: Path) -> bytes:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("it is not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise ValueError(f"it is larger than {MAX_FILE_BYTES // 1024} KiB")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"it is larger than {MAX_FILE_BYTES // 1024} KiB")
    return data


def _ignored(path: Path, why: object) -> str:
    return f"{path}: the recent filters were ignored ({why or 'unreadable'})."


def write_recent(path: Path, entries: Iterable[str]) -> None:
    """Write `entries` (newest first) to `path` atomically, owner-only; `OSError` if not."""
    body = json.dumps({"version": FORMAT_VERSION, "filters": list(newest_first(entries))})
    folder = path.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
