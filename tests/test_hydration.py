"""Hydration end to end against the fake Zoom: a monitor (session, tracker, connection and
hydrator, as the front ends wire them) compared with the fake's own truth.

- started mid-scenario, it shows exactly the fake's live meetings and rosters;
- after the link was down while people joined and left, the rosters equal the truth again
  and the changes in the gap are marked inferred, with the gap's span;
- events that arrive while an API answer is on its way are merged, never lost or doubled;
- a missing scope gives one notice and no further calls; a 429 is honoured;
- a meeting whose start was not seen gets its topic and host from its details.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import pytest

from tests.connhelpers import CALM_HB
from tests.waits import until
from zoomtui.fakezoom import FakeZoom, TriggerRequest
from zoomtui.monitor.hydrate import Hydrator
from zoomtui.monitor.meetings import MeetingTracker, Presence
from zoomtui.monitor.meetings.origin import ENDED_IN_GAP, FROM_API, JOINED_IN_GAP, LEFT_IN_GAP
from zoomtui.monitor.rosterlines import RosterMark, roster_brief
from zoomtui.monitor.session import MonitorSession
from zoomtui.zoom.connection import ZoomConnection
from zoomtui.zoom.protocol import ZoomEvent
from zoomtui.zoom.rest import PLAN_HINT, SCOPE_HINT
from zoomtui.zoom.rosters import TRIGGER_GAP, TRIGGER_START, RosterMeeting, RosterSnapshot
from zoomtui.zoom.updates import ConnectionState, Gap, Update

M1, M2, M3 = 85746352410, 91234567890, 87654321098


class Monitor:
    """A session with a tracker, fed by a live connection, hydrated beside it."""

    def __init__(
        self, fake: FakeZoom, backoff: tuple[float, float] = (0.05, 0.2), **changes: object
    ) -> None:
        self.changed = asyncio.Event()
        self.session = MonitorSession(meetings=MeetingTracker())
        self.settings = fake.settings(heartbeat_interval=CALM_HB, **{"hydrate": True, **changes})
        base, cap = backoff
        self.conn = ZoomConnection(self.settings, backoff_base=base, backoff_cap=cap)
        self.updates: list[Update] = []
        self.hydrator = Hydrator.start_for(
            self.session, self.conn, self.settings, self.receive, per_minute=60_000
        )
        self.task = asyncio.create_task(self._pump())

    def receive(self, update: Update) -> None:
        self.updates.append(update)
        self.session.receive(update)
        self.changed.set()

    async def _pump(self) -> None:
        async for update in self.conn.updates():
            self.receive(update)

    async def until(self, predicate, what: str) -> None:
        await until(predicate, self.changed, what)

    @property
    def tracker(self) -> MeetingTracker:
        assert self.session.meetings is not None
        return self.session.meetings

    def roster(self) -> dict[str, set[str]]:
        return {
            m.uuid: {p.display_name for p in m.participants.values() if p.is_in}
            for m in self.tracker.meetings.values()
            if m.is_live
        }

    def snapshots(self):
        return [u for u in self.updates if type(u).__name__ == "RosterSnapshot"]

    async def close(self) -> None:
        await self.conn.close()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        if self.hydrator is not None:
            await self.hydrator.close()


@contextlib.asynccontextmanager
async def monitoring(fake: FakeZoom, **changes: Any):
    mon = Monitor(fake, **changes)
    try:
        yield mon
    finally:
        await mon.close()


async def _trigger(fake: FakeZoom, event: str, meeting_id: int = M1, name: str = "") -> dict:
    fields = {"name": name} if name else {}
    ev, _ = await fake.trigger(TriggerRequest(event, meeting_id=meeting_id, **fields))
    return ev


async def test_started_mid_scenario_it_shows_exactly_the_fakes_live_meetings() -> None:
    async with FakeZoom(scenario="demo", rate="max", events=400) as fake:
        # Another consumer hears the first 400 events; the monitor hears none of them.
        consumer = await fake.start_consumer()
        await fake.wait_until(lambda: fake.scenario_done)
        await consumer.stop()
        truth = fake.truth.roster()
        assert len(truth) >= 2 and sum(map(len, truth.values())) >= 5
        async with monitoring(fake) as mon:
            await mon.until(lambda: mon.snapshots(), "the first hydration")
            assert mon.roster() == truth
            for m in mon.tracker.meetings.values():
                assert m.origin is not None and m.origin.kind == FROM_API
                assert m.topic and not m.start_seen
                for p in m.participants.values():
                    assert p.origin is not None and p.origin.kind == FROM_API
                    assert "from Zoom's API at" in p.origin.text
            (snap,) = mon.snapshots()
            assert snap.kinds == ("meeting", "webinar") and not snap.problem
            rows = [r for r in mon.session.event_log or [] if isinstance(r, RosterMark)]
            assert mon.session.event_log is None or rows


async def test_after_a_gap_rosters_equal_the_truth_and_gap_changes_are_inferred() -> None:
    # retries up to 1 s apart: the link stays down for seconds, over several failed tries
    async with FakeZoom(scenario="quiet") as fake, monitoring(fake, backoff=(0.25, 1.0)) as mon:
        await mon.until(lambda: mon.snapshots(), "the start hydration")
        for name in ("Ana Souza", "Bo Lindqvist", "Chidi Okonkwo"):
            await _trigger(fake, "meeting.participant_joined", M1, name)
        await _trigger(fake, "meeting.participant_joined", M2, "Dev Patel")
        await mon.until(lambda: sum(map(len, mon.roster().values())) == 4, "four people live")
        # The link goes down; meanwhile Bo leaves, Ngozi joins, M2 ends, M3 starts, each
        # after one more failed try to reconnect.
        await fake.stop()
        await mon.until(
            lambda: mon.session.status.state is ConnectionState.RECONNECTING, "the link down"
        )
        down_at = time.monotonic()
        changes = [
            ("meeting.participant_left", M1, "Bo Lindqvist"),
            ("meeting.participant_joined", M1, "Ngozi Adeyemi"),
            ("meeting.ended", M2, ""),
            ("meeting.participant_joined", M3, "Kenji Watanabe"),
        ]
        for event, meeting, name in changes:
            tries = mon.conn.stats.attempts
            await mon.until(lambda t=tries: mon.conn.stats.attempts > t, "a failed try")
            await _trigger(fake, event, meeting, name)
        down_for = time.monotonic() - down_at
        await fake.start()
        await mon.until(lambda: len(mon.snapshots()) == 2, "the hydration after the gap")
        await mon.hydrator.wait_idle()
        assert mon.roster() == fake.truth.roster()
        assert len(mon.snapshots()) == 2  # once after the gap, not once per failed try
        (gap,) = [u for u in mon.updates if isinstance(u, Gap)]
        assert gap.end - gap.start >= down_for  # (the gap spans every try: seconds)
        snap = mon.snapshots()[1]
        assert (snap.trigger, snap.since, snap.until) == (TRIGGER_GAP, gap.start, gap.end)
        by_name = {
            p.display_name: (m, p)
            for m in mon.tracker.meetings.values()
            for p in m.participants.values()
        }
        m1, bo = by_name["Bo Lindqvist"]
        assert bo.status is Presence.LEFT and bo.origin.kind == LEFT_IN_GAP
        assert (bo.origin.since, bo.origin.until) == (gap.start, gap.end)
        assert bo.origin.text.startswith("left during the gap, ")
        assert bo.origin.inferred
        assert by_name["Ngozi Adeyemi"][1].origin.kind == JOINED_IN_GAP
        assert by_name["Kenji Watanabe"][1].origin.kind == JOINED_IN_GAP
        assert by_name["Ana Souza"][1].origin is None  # seen live, confirmed: nothing to say
        m2 = by_name["Dev Patel"][0]
        assert not m2.is_live and m2.origin.kind == ENDED_IN_GAP
        assert m1.flags.get("out of order", 0) == 0  # the API is no late event


async def test_events_during_a_slowed_answer_are_neither_lost_nor_doubled() -> None:
    async with FakeZoom(scenario="quiet") as fake:
        for name in ("Ana Souza", "Bo Lindqvist"):  # before the monitor: never heard
            await _trigger(fake, "meeting.participant_joined", M1, name)
        fake.dashboard.hold("/participants")
        async with monitoring(fake) as mon:
            await fake.wait_until(lambda: fake.dashboard.held_now == 1)
            # The roster (Ana, Bo) is made; these happen while it travels, and arrive first.
            await _trigger(fake, "meeting.participant_joined", M1, "Chidi Okonkwo")
            await _trigger(fake, "meeting.participant_left", M1, "Ana Souza")
            await mon.until(
                lambda: sum(isinstance(u, ZoomEvent) for u in mon.updates) == 2, "live events"
            )
            await mon.until(
                lambda: "Chidi Okonkwo" in set().union(*mon.roster().values()), "Chidi live"
            )
            fake.dashboard.release()
            await mon.until(lambda: mon.snapshots(), "the hydration")
            assert mon.roster() == fake.truth.roster()
            (m,) = mon.tracker.meetings.values()
            names = sorted(p.display_name for p in m.participants.values())
            assert names == ["Ana Souza", "Bo Lindqvist", "Chidi Okonkwo"]  # one record each
            assert (m.current_count, m.peak_count) == (2, 3)  # Chidi came before Ana left
            entries = {p.display_name: p.entries for p in m.participants.values()}
            assert entries == {"Ana Souza": 1, "Bo Lindqvist": 1, "Chidi Okonkwo": 1}
            ana = next(p for p in m.participants.values() if p.display_name == "Ana Souza")
            assert ana.status is Presence.LEFT and ana.origin is None  # her leave was seen
            assert m.flags.get("out of order", 0) == 0 and m.flags.get("duplicate", 0) == 0


async def test_a_missing_scope_is_said_once_and_nothing_more_is_asked() -> None:
    async with FakeZoom(scenario="quiet") as fake:
        fake.dashboard.scope_granted = False
        async with monitoring(fake) as mon:
            await mon.until(lambda: mon.snapshots(), "the notice")
            (snap,) = mon.snapshots()
            assert "scope" in snap.problem and "dashboard_meetings:read:admin" in snap.hint
            assert "hydrate = false" in snap.hint and not snap.meetings
            assert len(fake.dashboard.calls) == 1
            await fake.close(code=1011, reason="maintenance")  # a gap: normally asked again
            await mon.until(
                lambda: sum(isinstance(u, Gap) for u in mon.updates) == 1, "the gap closed"
            )
            await mon.hydrator.wait_idle()
            assert len(fake.dashboard.calls) == 1 and len(mon.snapshots()) == 1
            assert mon.hydrator.stopped
            await _trigger(fake, "meeting.participant_joined", M1, "Ana Souza")
            await mon.until(lambda: mon.roster(), "the live monitor goes on")


async def test_a_429_is_honoured() -> None:
    async with FakeZoom(scenario="quiet") as fake:
        await _trigger(fake, "meeting.participant_joined", M1, "Ana Souza")
        fake.dashboard.fault("429", retry_after=1)
        async with monitoring(fake) as mon:
            await mon.until(lambda: mon.snapshots(), "the hydration")
            assert mon.roster() == fake.truth.roster()
            first, second = fake.dashboard.calls[:2]
            assert (first.status, second.status) == (429, 200)
            assert second.time - first.time >= 1.0  # it waited what Zoom asked
            assert mon.hydrator.rest.rate_limited == 1


async def test_hydrate_false_asks_nothing() -> None:
    async with FakeZoom(scenario="quiet") as fake, monitoring(fake, hydrate=False) as mon:
        assert mon.hydrator is None
        await mon.until(lambda: mon.session.status.state is ConnectionState.CONNECTED, "up")
        await _trigger(fake, "meeting.participant_joined", M1, "Ana Souza")
        await mon.until(lambda: mon.roster(), "the event")
        assert fake.dashboard.calls == []


@pytest.mark.parametrize("allowed", [True, False])
async def test_a_meeting_whose_start_was_not_seen_gets_its_topic_and_host(allowed) -> None:
    async with FakeZoom(scenario="quiet") as fake:
        started = await _trigger(fake, "meeting.started", M1)  # nobody heard it
        fake.dashboard.details_allowed = allowed
        async with monitoring(fake) as mon:
            await mon.until(lambda: mon.snapshots(), "the hydration")
            (m,) = mon.tracker.meetings.values()
            obj = started["payload"]["object"]
            assert m.topic == obj["topic"]  # the Dashboard's list has it
            assert m.host_id == (obj["host_id"] if allowed else None)
            assert len(fake.dashboard.calls_to("/v2/meetings/")) == 1
            await fake.close(code=1011, reason="maintenance")
            await mon.until(lambda: len(mon.snapshots()) == 2, "the hydration after the gap")
            # once known (or not allowed), not asked again
            assert len(fake.dashboard.calls_to("/v2/meetings/")) == 1


async def test_an_api_error_is_said_once_asked_again_after_the_next_gap_only() -> None:
    async with FakeZoom(scenario="quiet") as fake:
        await _trigger(fake, "meeting.participant_joined", M1, "Ana Souza")
        fake.dashboard.fault("500")  # the live meetings' list, once
        async with monitoring(fake) as mon:
            await mon.until(lambda: mon.snapshots(), "the notice")
            await mon.hydrator.wait_idle()
            (snap,) = mon.snapshots()
            assert "500" in snap.problem and "asks again after the next gap" in snap.hint
            said = mon.session.status.roster_problem
            assert said.startswith("no roster from Zoom's API: Zoom's API failed (HTTP 500)")
            assert [c.status for c in fake.dashboard.calls] == [500, 200]  # no retry loop
            await fake.close(code=1011, reason="maintenance")  # a gap: asked again
            await mon.until(lambda: len(mon.snapshots()) == 2, "the hydration after the gap")
            assert not mon.snapshots()[1].problem and mon.session.status.roster_problem == ""
            assert mon.roster() == fake.truth.roster()


@pytest.mark.parametrize(
    ("problem", "hint", "partial", "brief"),
    [
        ("", "", False, ""),
        ("The app's token lacks the scope (HTTP 400).", SCOPE_HINT, False, "(scope missing)"),
        (
            "Not available to this account (HTTP 400).",
            PLAN_HINT,
            False,
            "(no Dashboard on this plan)",
        ),
        ("Zoom's API kept rate limiting us (429).", "asks again", True, "(rate limited)"),
        ("Zoom's API failed (HTTP 503) (code 1: down).", "asks again", False, "(HTTP 503)"),
        ("Zoom's API sent more than 8 MiB in one answer", "", False, "(error)"),
    ],
)
def test_the_roster_problem_in_a_few_words(
    problem: str, hint: str, partial: bool, brief: str
) -> None:
    meetings = (RosterMeeting("meeting", "u1", "1"),) if partial else ()
    snap = RosterSnapshot(1.0, 1.0, TRIGGER_START, None, 1.0, meetings, problem=problem, hint=hint)
    said = roster_brief(snap)
    assert said.endswith(brief) and len(said) <= 60
    if brief:
        lead = "rosters from Zoom's API in part only" if partial else "no roster from Zoom's API"
        assert said.startswith(lead)
