"""Typing a filter while events stream in: every keystroke lands, every time.

The filter input once lost the text typed right after the first character: the filter
applied for the first keystroke was written back into the input after later keys had
changed it (`Input.Changed` reaches the bar after the input moved on).  Here the real app
floods (the demo's fake Zoom at 3,000 events/s, in the same event loop), a long filter is
typed key by key (or in one burst, as `tmux send-keys -l` does), with delays injected
where the race lived: between a keystroke and the bar hearing of it, and in applying a
filter (a slow re-filter).  Many times; each must end with the input exactly as typed and
that text applied.
"""

from __future__ import annotations

import asyncio
import random
import time

import pytest
from textual import events
from textual.message import Message
from textual.widgets import Input

from zoomtui.monitor import filters
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.options import AppOptions, DemoOptions
from zoomtui.tui.widgets.filter_bar import FilterBar

TEXTS = ["type:meeting.participant_joined", "user:ana -type:*left family:meeting"]
TRIES = 9
KEY_NAMES = {
    ":": "colon",
    ".": "full_stop",
    "_": "underscore",
    "*": "asterisk",
    " ": "space",
    "-": "minus",
}


def key_event(ch: str) -> events.Key:
    return events.Key(KEY_NAMES.get(ch, ch), ch)


@pytest.fixture
def slow_filters(monkeypatch: pytest.MonkeyPatch) -> random.Random:
    """Each filter takes a while to compile (the loop is blocked, as by a big re-filter)."""
    rng = random.Random(15)
    compile_filter = filters.compile_filter

    def slow(text: str) -> filters.Filter:
        time.sleep(rng.uniform(0, 0.01))
        return compile_filter(text)

    monkeypatch.setattr(filters, "compile_filter", slow)
    return rng


async def test_a_filter_typed_during_a_flood_is_exactly_what_was_typed(
    tui, slow_filters: random.Random
) -> None:
    rng = slow_filters
    flood = DemoOptions(seed=5, rate=3000.0, heartbeat=30.0)
    app = ZoomtuiApp(AppOptions(flood, log_limit=20_000))

    def hook(message: Message) -> None:
        # a keystroke's news reaches the bar late: the input may take more keys meanwhile
        if isinstance(message, (Input.Changed, FilterBar.FilterChanged)):
            time.sleep(rng.uniform(0, 0.004))

    async with app.run_test(size=(160, 40), message_hook=hook) as pilot:
        await tui.wait_until(pilot, lambda: app.status.events > 500, what="the flood")
        bar, view = app.filter_bar, app.event_view
        for attempt in range(TRIES):
            text = TEXTS[attempt % len(TEXTS)]
            app.main.set_filter("")
            app.main.focus_log()
            await pilot.pause()
            app.post_message(events.Key("slash", "/"))
            burst = attempt % 3 == 2  # all keys queued at once, like tmux send-keys -l
            for ch in text:
                app.post_message(key_event(ch))
                if not burst:  # one key at a time, the flood and the bar in between
                    for _ in range(rng.randrange(4)):
                        await asyncio.sleep(0)
            try:
                await tui.wait_until(
                    pilot,
                    lambda text=text: bar.input.value == text and view.applied_filter == text,
                    what=f"{text!r} typed and applied",
                )
            except AssertionError as lost:
                raise AssertionError(
                    f"try {attempt}: typed {text!r}, the input holds {bar.input.value!r}, "
                    f"applied {view.applied_filter!r}"
                ) from lost
            assert bar.error == ""
            assert app.status.events > 0  # (the flood went on throughout)
