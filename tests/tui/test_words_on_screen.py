"""Words on screen that misled (issue 15 section 5): counts that disagree with their
noun, a placeholder that looked like a filter in effect, a pattern that can never match
shown as "0 of N", the event time said twice in UTC, and the first-run form's lines
about a file keyring."""

from __future__ import annotations

import time
from pathlib import Path

import keyring
import pytest
from keyrings_alt_fake import PlaintextKeyring
from textual.widgets import Input, Static

from tests.tui._eventlog_support import LogHost, make_event, make_malformed
from zoomtui.commands.run import _first_run_options
from zoomtui.fakezoom import DEMO_CREDENTIALS, FakeZoom
from zoomtui.monitor.archive.core import not_kept
from zoomtui.monitor.eventlog import EventLog
from zoomtui.monitor.rosterlines import roster_summary
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.options import AppOptions, FirstRunOptions
from zoomtui.tui.screens.first_run import FirstRunScreen
from zoomtui.tui.screens.inspector import InspectorScreen
from zoomtui.tui.widgets.filter_bar import PLACEHOLDER
from zoomtui.words import counted
from zoomtui.zoom.rosters import RosterMeeting, RosterPerson, RosterSnapshot

SIZE = (140, 40)


def test_counts_agree_with_their_noun() -> None:
    assert counted(1, "event") == "1 event"
    assert counted(0, "event") == "0 events"
    assert counted(1234, "row") == "1,234 rows"
    assert counted(2, "person", "people") == "2 people"
    assert not_kept(1) == "1 update was not kept"
    assert not_kept(3) == "3 updates were not kept"


def _roster(people: int, calls: int) -> RosterSnapshot:
    here = tuple(
        RosterPerson(f"p{i}", None, str(i), f"P{i}", None, None, None, "in_meeting")
        for i in range(people)
    )
    meeting = RosterMeeting("meeting", "u==", "81", "All hands", participants=here)
    return RosterSnapshot(1.0, 0.5, "start", None, 0.0, (meeting,), ("meeting",), calls=calls)


def test_the_roster_line_counts_agree_with_their_nouns() -> None:
    """The hydration's row in the event list (and tail's line)."""
    one = roster_summary(_roster(people=1, calls=1))
    assert "1 live meeting, 1 person (1 call)" in one
    assert "people" not in one and "calls" not in one
    assert "1 live meeting, 3 people (2 calls)" in roster_summary(_roster(people=3, calls=2))


def _count(app: LogHost) -> str:
    return str(app.bar.query_one("#filter-count", Static).render())


async def test_one_row_is_one_row_and_the_placeholder_reads_as_a_hint(tui) -> None:
    log = EventLog()
    app = LogHost(log)
    async with app.run_test(size=SIZE) as pilot:
        app.add([make_event(1)])
        await tui.wait_until(pilot, lambda: _count(app) != "0 rows", what="the count")
        assert _count(app) == "1 row"
        app.add([make_event(2)])
        await tui.wait_until(pilot, lambda: _count(app) != "1 row", what="the count")
        assert _count(app) == "2 rows"
        # nothing typed: the hint names the key and says "e.g.", in dim italics
        assert app.bar.input.value == "" and app.bar.input.placeholder == PLACEHOLDER
        assert PLACEHOLDER.startswith("/ to filter — e.g. ")
        style = app.bar.input.get_component_rich_style("input--placeholder")
        assert style.italic


@pytest.mark.parametrize("typed", ["type:(", "type:meeting.(joined)", "family:web{inar}"])
async def test_a_pattern_no_event_name_can_match_says_why(typed: str, tui) -> None:
    log = EventLog()
    log.extend(make_event(i) for i in range(5))
    app = LogHost(log)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *typed, "enter")

        def error() -> str:
            return str(app.bar.query_one("#filter-error", Static).render())

        await tui.wait_until(pilot, lambda: "is in no event name" in error(), what="the hint")
        assert "e.g." in error() and app.bar.has_class("-error")


def _event_time_line(screen: InspectorScreen) -> str:
    summary = str(screen.query_one("#inspector-summary", Static).render())
    return next(line for line in summary.splitlines() if "event time" in line)


@pytest.mark.parametrize(("zone", "utc_times"), [("UTC", 1), ("Europe/Berlin", 2)])
async def test_the_event_time_is_said_once_in_utc(
    monkeypatch: pytest.MonkeyPatch, zone: str, utc_times: int
) -> None:
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        log = EventLog()
        log.extend([make_event(1)])
        app = LogHost(log)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, InspectorScreen)
            line = _event_time_line(app.screen)
            assert line.count(":56.") + line.count(":10:") >= 1
            # UTC: one time, said to be UTC; elsewhere the local time and the UTC one
            assert line.count("UTC") == 1
            assert line.count(" · ") == utc_times - 1
    finally:
        monkeypatch.undo()
        time.tzset()


async def test_a_one_byte_malformed_frame_is_one_byte() -> None:
    log = EventLog()
    log.extend([make_malformed(1, "x")])
    app = LogHost(log)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        summary = str(app.screen.query_one("#inspector-summary", Static).render())
        assert "1 byte" in summary and "1 bytes" not in summary


async def test_first_run_with_a_file_keyring_says_one_thing(
    fake: FakeZoom, tui, config_file: Path, tmp_path: Path
) -> None:
    keyring.set_keyring(PlaintextKeyring(tmp_path / "kr.json"))
    form = _first_run_options("default", config_file, {})
    reason = form.pop("reason")
    form.update(oauth_url=fake.oauth_url, ws_url=fake.ws_url)
    app = ZoomtuiApp(
        AppOptions(first_run=FirstRunOptions(reason, config_path=config_file, form=form))
    )
    c = DEMO_CREDENTIALS
    async with app.run_test(size=(120, 60)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, FirstRunScreen)
        text = " ".join(tui.screen_text(app).split())
        assert "Not used to" not in text
        assert "Without that confirmation it is not used to read the secret." in text
        assert text.count("default") == 1 and "'default'" in text  # named once, one style
        assert "session only" not in text  # a file keyring is not "no keyring"
        assert "only keyring here, a plain file" in text
        for field, value in (
            ("account_id", c.account_id),
            ("client_id", c.client_id),
            ("client_secret", c.client_secret),
            ("subscription_id", c.subscription_id),
        ):
            app.screen.query_one(f"#{field}", Input).value = value
        await pilot.press("ctrl+s")
        status = app.screen.query_one("#status")
        await tui.wait_until(pilot, lambda: status.has_class("-error"), what="the question")
        text = " ".join(tui.screen_text(app).split())
        assert "Nothing was saved. To store the secret in that file, press ctrl+s again" in text
        assert "session only" not in text
        assert not (tmp_path / "kr.json").exists()
