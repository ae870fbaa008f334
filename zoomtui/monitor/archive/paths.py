"""Where archives live: one file per profile under the user's data folder, the demo's apart."""

from __future__ import annotations

import hashlib
from pathlib import Path

import platformdirs

APP_NAME = "zoomtui"
DEMO_FILENAME = "demo.sqlite3"
#: real profiles live in a sub-folder so no profile name (not even "demo") can meet the demo file
PROFILES_DIRNAME = "archive"
#: the longest file name (before ".sqlite3") a profile gets: far below any file system's limit
NAME_MAX = 120


def data_dir() -> Path:
    # Called through the module so tests and platforms can redirect it.
    return Path(platformdirs.user_data_dir(APP_NAME))


def archive_path(profile: str = "default", *, demo: bool = False, base: Path | None = None) -> Path:
    """The archive file of a profile (``<data>/archive/<profile>.sqlite3``) or of the
    demo (``<data>/demo.sqlite3``, so demo data never mixes with real data)."""
    root = Path(base) if base is not None else data_dir()
    if demo:
        return root / DEMO_FILENAME
    return root / PROFILES_DIRNAME / f"{safe_name(profile)}.sqlite3"


def safe_name(profile: str) -> str:
    """`profile` as a file name that never climbs out of its folder, and that no other
    profile name shares."""
    # Profile names are checked by the config, but a file name must never climb
    # out of the folder whatever it is given: anything unusual is %-escaped (and "%"
    # is escaped itself, so two names never escape alike).
    name = "".join(
        c if (c.isascii() and (c.isalnum() or c in "_-")) or (c == "." and i) else f"%{ord(c):02X}"
        for i, c in enumerate(profile or "default")
    )
    if len(name) <= NAME_MAX:
        return name
    # Cut, and ended by a hash of the whole name: "~" is never kept by the escaping, so a
    # cut name cannot be mistaken for one short enough to be kept whole.
    digest = hashlib.sha256(profile.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{name[: NAME_MAX - len(digest) - 1]}~{digest}"
