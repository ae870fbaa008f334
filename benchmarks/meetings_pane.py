"""What the side panes cost: one rebuild and one full repaint, with a busy tracker.

The panes poll `tracker.version` a few times a second (REFRESH_INTERVAL) and rebuild
when it changed, so under a flood they rebuild at most that often; this prints what one
rebuild and one repaint cost, for a tracker fed N scenario events (many meetings, a
webinar with many people), and the share of one core that costs at the poll rate.

    python benchmarks/meetings_pane.py            # 100,000 events and a 3,000-person webinar
    python benchmarks/meetings_pane.py --events 20000 --crowd 10000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import orjson
from textual.app import App, ComposeResult

from zoomtui.fakezoom import scenario_events
from zoomtui.monitor.meetings import MeetingTracker
from zoomtui.tui.widgets.meetings_pane import REFRESH_INTERVAL, MeetingsPane
from zoomtui.tui.widgets.participants import ParticipantPanel
from zoomtui.zoom.protocol import ZoomEvent, message_frame, parse_frame


def feed(n: int, crowd: int) -> MeetingTracker:
    tracker = MeetingTracker(retain_ended=1e9)  # keep every ended meeting: the worst case
    start = 1_741_960_992.0

    def apply(body: dict, at: float) -> None:
        frame = parse_frame(message_frame(orjson.dumps(body).decode()), received_at=at)
        if isinstance(frame, ZoomEvent):
            tracker.apply(frame)

    for i, body in zip(range(n), scenario_events(3, start, rate=1000.0), strict=False):
        apply(body, start + i / 1000)
    # a big webinar: `crowd` attendees, a tenth of whom left again
    obj = {"uuid": "crowd+/w==", "id": "9100000001", "topic": "All hands webinar", "type": 5}
    apply(
        {
            "event": "webinar.started",
            "event_ts": int(start * 1000),
            "payload": {"object": {**obj, "start_time": "2025-03-14T14:00:00Z"}},
        },
        start,
    )
    for k in range(crowd):
        who = {
            "participant_uuid": f"pu{k}",
            "user_id": str(k),
            "user_name": f"Attendee {k:05d}",
            "email": f"a{k}@example.com",
        }
        apply(
            {
                "event": "webinar.participant_joined",
                "event_ts": int(start * 1000) + k,
                "payload": {
                    "object": {**obj, "participant": {**who, "join_time": "2025-03-14T14:01:00Z"}}
                },
            },
            start,
        )
        if k % 10 == 0:
            apply(
                {
                    "event": "webinar.participant_left",
                    "event_ts": int(start * 1000) + k + 1,
                    "payload": {
                        "object": {
                            **obj,
                            "participant": {**who, "leave_time": "2025-03-14T14:30:00Z"},
                        }
                    },
                },
                start,
            )
    return tracker


class Host(App[None]):
    CSS = "Screen { layout: vertical; } #meetings { height: 16; } #participants { height: 1fr; }"

    def __init__(self, tracker: MeetingTracker) -> None:
        super().__init__()
        self.tracker = tracker

    def compose(self) -> ComposeResult:
        yield MeetingsPane(self.tracker, clock=lambda: 1_741_961_100.0, id="meetings")
        yield ParticipantPanel(self.tracker, clock=lambda: 1_741_961_100.0, id="participants")

    def on_meetings_pane_meeting_selected(self, message: MeetingsPane.MeetingSelected) -> None:
        # (what the main screen does with it)
        self.query_one(ParticipantPanel).show_meeting(message.uuid)


def timed(fn, repeat: int = 30) -> float:
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1000


async def main(events: int, crowd: int) -> None:
    t = time.perf_counter()
    tracker = feed(events, crowd)
    fed = time.perf_counter() - t
    people = max((len(m.participants) for m in tracker.meetings.values()), default=0)
    live = tracker.live_count
    print(
        f"tracker: {events:,} events applied in {fed:.1f} s; {len(tracker.meetings):,} meetings "
        f"({live} live), the largest with {people} people"
    )
    app = Host(tracker)
    async with app.run_test(size=(60, 48)) as pilot:
        pane, panel = app.query_one(MeetingsPane), app.query_one(ParticipantPanel)
        await pilot.pause(0.5)
        # the meeting with the most people, as the worst panel
        biggest = max(tracker.meetings.values(), key=lambda m: len(m.participants))
        pane.select(biggest.uuid)
        await pilot.pause(0.3)
        lines = pane.scrollable_content_region.height
        plines = panel.participant_list.scrollable_content_region.height
        pr = timed(pane.rebuild)
        pp = timed(lambda: [pane.render_line(y) for y in range(lines)])
        qr = timed(panel.rebuild)
        qp = timed(lambda: [panel.participant_list.render_line(y) for y in range(plines)])
    per_s = 1 / REFRESH_INTERVAL
    total = pr + pp + qr + qp
    print(f"meetings pane:     rebuild {pr:6.2f} ms   repaint {lines} lines {pp:6.2f} ms")
    print(
        f"participant panel: rebuild {qr:6.2f} ms   repaint {plines} lines {qp:6.2f} ms "
        f"({len(biggest.participants)} people)"
    )
    print(
        f"at most {per_s:.0f} rebuilds a second while events flow: {total:.1f} ms each, "
        f"{total * per_s / 10:.1f}% of one core"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--crowd", type=int, default=3_000, help="people in one big webinar")
    args = parser.parse_args()
    asyncio.run(main(args.events, args.crowd))
