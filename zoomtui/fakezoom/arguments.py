"""FakeZoom's arguments: the scenarios it knows, where the samples scenario reads from,
and the checks made before anything listens (kept apart so the server stays one screenful
of wire behaviour)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from zoomtui.settings import is_loopback_host

SCENARIOS = ("demo", "quiet", "samples", "shapes")


def default_samples_dir() -> Path:
    """../shared/zoom-samples/webhooks next to the project root (absent in a user's clone)."""
    return Path(__file__).resolve().parents[2].parent / "shared" / "zoom-samples" / "webhooks"


def check_arguments(
    host: str,
    allow_non_loopback: bool,
    scenario: str | None,
    rate: float | Literal["max"],
    events: int | None,
) -> None:
    """FakeZoom's arguments, checked before anything listens."""
    if not allow_non_loopback and not is_loopback_host(host):
        raise ValueError(
            f"The fake Zoom listens on loopback only; {host!r} is not a loopback address "
            "(pass allow_non_loopback=True if you really mean it)."
        )
    if scenario is not None and scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; expected one of {', '.join(SCENARIOS)}")
    if rate != "max" and not (isinstance(rate, (int, float)) and rate > 0):
        raise ValueError(
            f"rate must be a positive number of events per second or 'max', not {rate!r}"
        )
    if events is not None and events < 0:
        raise ValueError("events must be >= 0")
