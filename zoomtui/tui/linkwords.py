"""What the monitor says to a person about acting on the link: the questions asked before
disconnecting or taking the subscription back, and the words for being displaced (the
panel's countdown, the toast).

Displaced means another consumer connected to the subscription and Zoom closed ours;
that consumer is usually the production integration, so taking the subscription back
knocks production off.  zoomtui never does that on a single key: `c` and `r` ask first
(`RETAKE`), and the panel says whether (and when) the profile's `on_displaced` policy
will take it back by itself.
"""

from __future__ import annotations

from typing import Literal

from zoomtui.monitor.linkstatus import RETAKE_QUESTION, LinkStatus
from zoomtui.profilestate import FIRST_CONNECTION_NOTICE
from zoomtui.redaction import mask_id
from zoomtui.tui.screens.confirm import Question

#: `c` or `r` while displaced (the default answer keeps zoomtui off)
RETAKE = Question(
    title="Take the subscription back?",
    text=RETAKE_QUESTION,
    act="Take it back",
    keep="No, stay off",
)

#: `c` while connected: a stray key must not take the monitor offline
DISCONNECT = Question(
    title="Disconnect from Zoom?",
    text=(
        "zoomtui stops receiving events for this subscription. Zoom does not send again "
        "what it sent meanwhile: those events are lost, and the record shows a gap. "
        "c connects again."
    ),
    act="Disconnect",
    keep="Stay connected",
)

#: the toast's title when Zoom closed the link because another consumer connected
DISPLACED_TITLE = "Displaced by another consumer"


def countdown_words(seconds: float) -> str:
    """A countdown a person reads each second: `4 min 12 s`, `42 s`, `1 h 05 min`."""
    whole = max(0, int(seconds + 0.5))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def displaced_plan(status: LinkStatus, now: float) -> str:
    """While displaced: what zoomtui will do next, for the panel (empty: not displaced)."""
    if not status.displaced:
        return ""
    left = status.next_try_in(now)
    if left is None:
        return "stays off until you press c"
    return f"takes it back in {countdown_words(left)}"


def displaced_toast(status: LinkStatus, now: float) -> str:
    """The toast's text when the link was displaced."""
    left = status.next_try_in(now)
    if left is None:
        then = (
            "zoomtui stays off so as not to knock it off in turn; c takes the subscription "
            "back after asking."
        )
    else:
        then = (
            f"The profile's on_displaced policy takes the subscription back in "
            f"{countdown_words(left)}, which will knock that consumer off; c does it now "
            "after asking."
        )
    return (
        "Another consumer (probably your production integration) connected to this "
        f"subscription and Zoom closed zoomtui's connection. {then}"
    )


def connected_toast(status: LinkStatus) -> tuple[str, Literal["information", "warning"], float]:
    """The toast on connecting: its text, severity and seconds on screen.  The first
    connection of a profile also says, whole, that it may have displaced another consumer:
    the state line cuts that sentence at any width, and it is said only this once."""
    said = f"Receiving events for subscription {mask_id(status.subscription_id)}."
    if FIRST_CONNECTION_NOTICE not in status.reason:
        return said, "information", 3
    return (
        f"{said} Zoom allows one connection per subscription, so connecting may have "
        "disconnected a consumer already using it (probably your production integration). "
        "Use a separate subscription for monitoring where you can. (Said once for this "
        "profile.)",
        "warning",
        20,
    )
