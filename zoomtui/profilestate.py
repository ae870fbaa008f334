"""What zoomtui remembers about a profile between runs that is neither a setting nor a secret.

One fact so far: whether zoomtui has said, on a first connection of the profile, that
connecting may disconnect a consumer already using the subscription (Zoom allows one
connection per subscription).  It is said once per profile, so it is kept as an empty
marker file under the user's state folder:
``<state dir>/zoomtui/connected-before/<profile>``.

Nothing here may stop a connection: a folder that cannot be written only means the
notice is said again next time.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import platformdirs

APP_NAME = "zoomtui"
CONNECTED_BEFORE_DIRNAME = "connected-before"

log = logging.getLogger(__name__)

#: what the first connection of a profile adds to its reason (zoomtui.zoom.connection);
#: a front end that cuts a long reason looks for it to say it whole elsewhere
FIRST_CONNECTION_NOTICE = (
    "said once for this profile: Zoom allows one connection per subscription, so connecting "
    "may disconnect a consumer already using it"
)


def state_dir() -> Path:
    # Called through the module so tests (and platforms) can redirect it.
    return Path(platformdirs.user_state_dir(APP_NAME))


def profile_file_name(profile: str) -> str:
    """`profile` as a file name that never leaves its folder (anything unusual %-escaped)."""
    name = "".join(
        c if (c.isascii() and (c.isalnum() or c in "_-")) or (c == "." and i) else f"%{ord(c):02X}"
        for i, c in enumerate(profile or "default")
    )
    return name[:120]


def first_connection_of(profile: str) -> bool:
    """True the first time it is asked about `profile` (for this user, on this machine), and
    from then on False: the answer is remembered as it is given.  True also when it cannot be
    remembered (better said twice than never)."""
    folder = state_dir() / CONNECTED_BEFORE_DIRNAME
    marker = folder / profile_file_name(profile)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    except OSError as exc:
        log.debug("cannot remember the first connection of %r: %s", profile, exc)
        return True
    os.close(fd)
    return True
