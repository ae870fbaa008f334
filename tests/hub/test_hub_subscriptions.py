"""Several subscriptions in one hub: each event a viewer reads carries the subscription it
was published under, and a viewer filtering `sub:` prints only that subscription's.  A
viewer keeps an archive of what it read only when asked (`--archive`)."""

from __future__ import annotations

import asyncio
import io

import orjson
import pytest
from click.testing import CliRunner

from tests.connhelpers import meeting_event
from tests.hub.natsserver import RunningServer
from tests.tui.conftest import wait_until
from tests.waits import HANG_GUARD, awaited
from zoomtui.cli import main
from zoomtui.commands.archiving import viewer_plan
from zoomtui.commands.hubtail import run_hub_tail
from zoomtui.hub.collector import HubLink
from zoomtui.hub.publisher import HubPublisher
from zoomtui.hub.settings import HubSettings
from zoomtui.hub.source import HubSource
from zoomtui.hub.subjects import subscription_prefix
from zoomtui.monitor.archive import ArchiveReader, archive_path
from zoomtui.monitor.filters import compile_filter
from zoomtui.tui.app import ZoomtuiApp
from zoomtui.tui.options import AppOptions, HubChoice
from zoomtui.zoom.protocol import ZoomEvent, message_frame, parse_frame


async def _publish_two_subscriptions(hub: HubSettings, each: int) -> None:
    """`each` events of subscription "Sub-One" and of "Sub-Two", alternately."""
    link = await HubLink.open(hub)
    try:
        one = HubPublisher(link.js, subscription_prefix("acct-1", "Sub-One"))
        two = HubPublisher(link.js, subscription_prefix("acct-2", "Sub-Two"))
        for publisher in (one, two):
            publisher.start()
        for i in range(2 * each):
            event = parse_frame(message_frame(meeting_event(i)), 1_700_000_000.0 + i)
            assert isinstance(event, ZoomEvent)
            (one if i % 2 == 0 else two).on_update(event)
        for publisher in (one, two):
            await awaited(publisher.close(timeout=HANG_GUARD), "the events stored")
            assert publisher.stored == each
    finally:
        await link.close()


@pytest.mark.parametrize("text", ["sub:sub-t*", "-sub:SUB-ONE"])
async def test_a_viewer_filtering_sub_gets_only_that_subscriptions_events(
    hub_server: RunningServer, text: str
) -> None:
    hub = HubSettings(url=hub_server.url)
    await _publish_two_subscriptions(hub, each=3)
    out, err = io.BytesIO(), io.StringIO()
    code = await awaited(
        run_hub_tail(
            hub,
            matches=compile_filter(text).matches_event,
            as_json=True,
            count=3,
            since=0.0,
            out=out,
            err=err,
            handle_signals=False,
        ),
        "three events of Sub-Two",
    )
    assert code == 0, err.getvalue()
    users = [
        orjson.loads(line)["payload"]["object"]["participant"]["user_id"]
        for line in out.getvalue().splitlines()
    ]
    assert users == ["1", "3", "5"]  # Sub-Two's, in order; none of Sub-One's


def _tail_hub(url: str, *extra: str) -> list[str]:
    result = CliRunner().invoke(
        main, ["tail", "--hub", url, "--since", "1h", "--json", "--count", "6", *extra]
    )
    assert result.exit_code == 0, result.output
    return [
        orjson.loads(line)["payload"]["object"]["participant"]["user_id"]
        for line in result.stdout.splitlines()
    ]


def test_a_viewer_archives_what_it_saw_only_when_asked(hub_server: RunningServer) -> None:
    asyncio.run(_publish_two_subscriptions(HubSettings(url=hub_server.url), each=3))
    every = [str(i) for i in range(6)]  # (the two subscriptions' order between them is free)
    kept = archive_path("default")
    assert sorted(_tail_hub(hub_server.url)) == every
    assert not kept.exists()  # the collector keeps the record; a viewer, only if asked
    assert sorted(_tail_hub(hub_server.url, "--archive")) == every
    events = list(ArchiveReader(kept).iter_events())
    assert sorted(e.body["payload"]["object"]["participant"]["user_id"] for e in events) == every


async def test_the_monitor_over_a_hub_shows_the_column_and_archives_only_when_asked(
    hub_server: RunningServer,
) -> None:
    hub = HubSettings(url=hub_server.url)
    await _publish_two_subscriptions(hub, each=2)
    assert viewer_plan(None, None, None) is None and viewer_plan(None, None, False) is None
    kept = viewer_plan(None, None, True)  # `zoomtui --hub ... --archive`
    assert kept is not None
    profile, plan = kept
    source = HubSource(hub, since=0.0)
    app = ZoomtuiApp(AppOptions(HubChoice(source, hub.url), profile=profile, archive=plan))
    async with app.run_test(size=(140, 40)) as pilot:
        view = app.main.event_view
        await wait_until(pilot, lambda: app.session.event_log.appended >= 4, "the hub's events")
        await wait_until(pilot, lambda: " sub " in view.render_line(0).text, "the sub column")
        shown = " ".join(view.render_line(y).text for y in range(1, 5))
        assert "Sub-One" in shown and "Sub-Two" in shown
    await source.close()
    events = list(ArchiveReader(archive_path(profile)).iter_events())
    assert sorted(e.body["payload"]["object"]["participant"]["user_id"] for e in events) == [
        "0",
        "1",
        "2",
        "3",
    ]
