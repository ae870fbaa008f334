"""Where archives live: one file per profile under the user's data folder, the demo's apart."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "zoomtui"
DEMO_FILENAME = "demo.sqlite3"
#: real profiles live in a sub-folder so no profile name (not even "demo") can meet the demo file
PROFILES_DIRNAME = "archive"


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
    """`profile` as a file name that never climbs out of its folder."""
    # Profile names are checked by the config, but a file name must never climb
    # out of the folder whatever it is given: anything unusual is %-escaped.
    name = "".join(
        c if (c.isascii() and (c.isalnum() or c in "_-")) or (c == "." and i) else f"%{ord(c):02X}"
        for i, c in enumerate(profile or "default")
    )
    return name[:120]
