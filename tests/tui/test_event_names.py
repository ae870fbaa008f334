"""Event names shortened to their column: the part that tells events apart stays.

Checked over every event name zoomtui knows (the tracker's meeting and webinar events,
`zoomtui trigger`'s list) and every name in Zoom's published samples, at every width.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from _eventlog_support import LogHost, make_event
from _zoom_events import SAMPLES, SAMPLES_MISSING
from rich.cells import cell_len

from tests.tui.conftest import wait_until
from zoomtui.fakezoom.triggers import TRIGGER_EVENTS
from zoomtui.monitor.eventlog import EventLog
from zoomtui.monitor.meetings.tracker import _LIVE_OTHER, _PRESENCE
from zoomtui.tui.widgets.event_names import name_forms, short_name
from zoomtui.tui.widgets.event_rows import Columns

KNOWN = sorted(
    set(TRIGGER_EVENTS)
    | {
        f"{kind}.{action}"
        for kind in ("meeting", "webinar")
        for action in (*_PRESENCE, *_LIVE_OTHER)
    }
)
WIDTHS = range(1, 72)


def sample_names() -> list[str]:
    if not SAMPLES.is_dir():
        pytest.skip(SAMPLES_MISSING)
    return sorted(p.stem for p in SAMPLES.glob("*.json"))


def end_cut(name: str, width: int) -> str:
    """What the column did before: cut the end."""
    return name if len(name) <= width else name[: width - 1] + "…"


def distinct(names: Iterable[str], shorten) -> int:
    return len({shorten(n) for n in names})


def test_the_samples_are_there_and_hold_the_known_families() -> None:
    names = sample_names()
    assert len(names) > 500
    assert {"meeting.participant_joined", "webinar.participant_left"} <= set(names)


@pytest.mark.parametrize("source", ["known", "samples"])
def test_every_name_fits_its_width_and_is_whole_when_it_can_be(source: str) -> None:
    names = KNOWN if source == "known" else sample_names()
    for name in names:
        for width in WIDTHS:
            short = short_name(name, width)
            assert cell_len(short) <= width, (name, width, short)
            if len(name) <= width:
                assert short == name
            else:
                assert short != name
                assert short_name(name, width) == short  # the same every time


def test_joined_and_left_never_look_the_same() -> None:
    """The case of the issue: at 80 columns `meeting.partici…` was both."""
    for family in ("meeting", "webinar"):
        for a, b in [
            ("participant_joined", "participant_left"),
            ("participant_joined_waiting_room", "participant_left_waiting_room"),
            ("started", "ended"),
            ("sharing_started", "sharing_ended"),
        ]:
            for width in range(2, 40):
                assert short_name(f"{family}.{a}", width) != short_name(f"{family}.{b}", width), (
                    family,
                    a,
                    b,
                    width,
                )
        # a word in the middle tells these apart: it goes last, so they part from 12 cells
        for width in range(12, 40):
            joined, early = f"{family}.participant_joined", f"{family}.participant_jbh_joined"
            assert short_name(joined, width) != short_name(early, width)


def test_the_family_and_the_action_stay_before_the_middle_goes() -> None:
    assert short_name("meeting.participant_joined", 26) == "meeting.participant_joined"
    assert short_name("meeting.participant_joined", 20) == "m.participant_joined"
    assert short_name("meeting.participant_joined", 18) == "mtg.ptcp_joined"
    assert short_name("webinar.participant_left", 12) == "w.ptcp_left"
    assert short_name("meeting.participant_joined", 10) == "m.p_joined"
    assert short_name("meeting.participant_joined", 7) == "…joined"
    assert short_name("meeting.participant_joined", 4) == "…joi"
    assert short_name("phone.caller_ringing", 18) == "p.caller_ringing"  # not callee
    assert name_forms("meeting.started")[-1] == "…started"
    assert short_name("meeting.participant_left_waiting_room", 11) == "…left_w_r"
    assert short_name("user.signed_in", 9) == "…signed_i"


def test_known_names_stay_distinct_once_the_column_has_16_cells() -> None:
    for width in range(16, 72):
        assert distinct(KNOWN, lambda n, w=width: short_name(n, w)) == len(KNOWN), width


def test_names_stay_apart_where_a_plain_cut_merges_them() -> None:
    """At every width the shortening tells at least as many names apart as cutting the end;
    from 12 cells on, at least half of those a cut merges, from 16 nine in ten (what an
    80-column terminal gives the column), and every one from 28."""
    names = sample_names() + KNOWN
    unique = len(set(names))
    for width in WIDTHS:
        short = distinct(names, lambda n, w=width: short_name(n, w))
        cut = distinct(names, lambda n, w=width: end_cut(n, w))
        assert short >= cut, width
        merged_by_cut = unique - cut
        if width >= 12:
            assert short - cut >= merged_by_cut / 2, (width, short, cut)
        if width >= 16:
            assert short - cut >= merged_by_cut * 9 / 10, (width, short, cut)
        if width >= 28:
            assert short == unique, width


def test_hostile_names_are_cut_not_taken_apart() -> None:
    for name in [
        "x" * 5000,
        "a.b.c.d_e_f",
        "._._",
        "....",
        "_",
        ".",
        "日本語.参加者_参加",
        "a\x1bb.c",
    ]:
        for width in WIDTHS:
            assert cell_len(short_name(name, width)) <= width


def test_the_event_column_fits_the_widest_name_when_there_is_room() -> None:
    """At 150 columns (the side pane open) `webinar.participant_joined` was cut."""
    widest = len("webinar.participant_joined")
    at_150 = Columns(94, widest)  # the list's content width at 150 columns, side pane open
    assert at_150.name == widest and at_150.meeting and at_150.participant
    at_80 = Columns(76, widest)  # 80 columns, side pane collapsed
    assert at_80.name == widest
    assert at_80.meeting >= 12 and at_80.participant >= 12
    narrow = Columns(56, widest)  # 60 columns: no room for meeting and participant
    assert narrow.meeting == narrow.participant == 0 and narrow.name >= widest
    wide = Columns(200, 58)  # a contact_center name: the column grows to half the room
    assert wide.name == 58


async def test_the_list_widens_the_event_column_for_a_new_wider_name() -> None:
    log = EventLog()
    log.extend(make_event(i, "meeting.started", meeting=1) for i in range(3))
    app = LogHost(log)
    async with app.run_test(size=(100, 20)) as pilot:
        view = app.view
        await wait_until(pilot, lambda: view.widest_name == len("meeting.started"))
        header = view.render_line(0).text
        assert header.index("meeting") - header.index("event") <= len("meeting.started") + 1
        log.extend([make_event(9, "webinar.participant_joined", meeting=2)])
        view.rows_added()
        await wait_until(pilot, lambda: view.widest_name == len("webinar.participant_joined"))
        await wait_until(
            pilot,
            lambda: any(
                "webinar.participant_joined " in view.render_line(y).text for y in range(6)
            ),
        )


def test_without_the_lag_column_the_name_has_its_cells() -> None:
    """A 30-column log (the side pane open at 60 columns): no lag, the name gets the room."""
    narrow = Columns(26)
    assert not narrow.show_lag and narrow.name == 26 - Columns.TIME - 2
    assert short_name("meeting.participant_joined", narrow.name) == "mtg.p_joined"
