"""Counts in words a person reads: `counted(1, "event")` is "1 event", never "1 events".

Outside the layers (like `zoomtui.visible`): the core's messages and every front end use it.
"""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` with thousands separators and the noun agreeing with it: "1 event",
    "1,234 events", "0 events"; `plural` for a noun that does not just take an s."""
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"
