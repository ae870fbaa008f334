"""What the viewers read from the hub: every event once and in order, a republish dropped, an
exact window with --since, the age limit trimming, nothing secret in the stream, and a clear
error for a wrong password."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import nats

from tests.connhelpers import CALM_HB, meeting_event
from tests.hub.hubkit import Viewer, Watch, collectors, user_ids
from tests.hub.natsserver import HubAuth, RunningServer
from tests.waits import HANG_GUARD, awaited, guard
from zoomtui.fakezoom import DEMO_CREDENTIALS, FakeZoom
from zoomtui.hub.settings import HubSettings
from zoomtui.hub.source import HubSource
from zoomtui.hub.wire import encode
from zoomtui.redaction import Secret


async def _stream_messages(url: str, stream: str) -> list[tuple[str, bytes, dict[str, str]]]:
    """Every message a stream holds, read back from the server."""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream)
        out = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg(stream, seq)
            out.append((msg.subject or "", msg.data or b"", dict(msg.headers or {})))
        return out
    finally:
        await nc.close()


async def test_three_viewers_each_get_every_event_once_in_order_and_a_republish_is_dropped(
    hub_server: RunningServer,
) -> None:
    hub = HubSettings(url=hub_server.url)
    watch = Watch()
    async with (
        FakeZoom(token_prefix="fzk-leak-check.") as fake,
        collectors(hub, fake.settings(heartbeat_interval=CALM_HB), watch) as (running,),
    ):
        viewers = [Viewer(HubSource(hub), watch) for _ in range(3)]
        for viewer in viewers:
            await viewer.ready()
        await awaited(fake.wait_for_connection(), "the collector's connection")
        for i in range(40):
            await fake.inject(meeting_event(i))
        await watch.until(
            lambda: all(len(v.events) == 40 for v in viewers), "40 events at every viewer"
        )
        # The same frame published again (a takeover's overlap, a republish): stored once.
        publisher = running.collector.publisher
        assert publisher is not None
        again = encode(publisher.prefix, viewers[0].events[7])
        assert again is not None
        publisher.publish(again)
        await awaited(publisher.flush(timeout=HANG_GUARD), "the republish acknowledged")
        assert publisher.duplicates == 1
        await fake.inject(meeting_event(40))
        await watch.until(lambda: all(len(v.events) == 41 for v in viewers), "the last event")
        for viewer in viewers:
            assert user_ids(viewer.events) == [str(i) for i in range(41)]
            await viewer.close()
        assert publisher.duplicates == 1 and publisher.failed == 0
        issued = fake.tokens_issued
    stored = await _stream_messages(hub_server.url, hub.stream)
    assert sum(1 for subject, _, _ in stored if ".meeting.participant_joined" in subject) == 41
    # The hub never receives the client secret or the access token.
    assert issued >= 1
    for subject, data, headers in stored:
        text = subject.encode() + data + repr(headers).encode()
        assert DEMO_CREDENTIALS.client_secret.encode() not in text
        assert b"fzk-leak-check." not in text


async def test_since_replays_exactly_the_window_asked(hub_server: RunningServer) -> None:
    hub = HubSettings(url=hub_server.url)
    watch = Watch()
    async with (
        FakeZoom() as fake,
        collectors(hub, fake.settings(heartbeat_interval=CALM_HB), watch),
    ):
        live = Viewer(HubSource(hub), watch)
        await live.ready()
        await awaited(fake.wait_for_connection(), "the collector's connection")
        marks: list[float] = []
        for batch in range(3):
            for i in range(batch * 4, batch * 4 + 4):
                await fake.inject(meeting_event(i))
            await watch.until(lambda b=batch: len(live.events) == b * 4 + 4, "a batch stored")
            marks.append(time.time())  # every message of the batch is stored before this
        await live.close()
        window = Viewer(HubSource(hub, since=marks[0], until=marks[1]), watch)
        await watch.until(lambda: window.done, "the window replayed to its end")
        assert window.source.error == ""
        assert user_ids(window.events) == ["4", "5", "6", "7"]
        tail = Viewer(HubSource(hub, since=marks[1]), watch)
        await watch.until(lambda: len(tail.events) == 4, "the last batch, then live")
        assert user_ids(tail.events) == ["8", "9", "10", "11"]
        await tail.source.caught_up.wait()
        await tail.close()


async def test_the_streams_age_limit_trims_old_events(hub_server: RunningServer) -> None:
    hub = HubSettings(url=hub_server.url, max_age=1.0, duplicate_window=0.5)
    watch = Watch()
    async with (
        FakeZoom() as fake,
        collectors(hub, fake.settings(heartbeat_interval=CALM_HB), watch),
    ):
        viewer = Viewer(HubSource(hub), watch)
        await viewer.ready()
        await awaited(fake.wait_for_connection(), "the collector's connection")
        for i in range(3):
            await fake.inject(meeting_event(i))
        await watch.until(lambda: len(viewer.events) == 3, "the events stored")
        await viewer.close()
        nc = await nats.connect(hub_server.url)
        try:
            js = nc.jetstream()
            assert (await js.stream_info(hub.stream)).config.max_age == 1.0
            # The server drops them by itself; look every 50 ms (it tells nobody).
            async with guard("the stream's age limit to trim it"):
                while (await js.stream_info(hub.stream)).state.messages:
                    await asyncio.sleep(0.05)
        finally:
            await nc.close()
        replay = Viewer(HubSource(hub, since=0.0, until=time.time()), watch)
        await watch.until(lambda: replay.done, "an empty replay")
        assert replay.events == []


async def test_a_wrong_hub_password_is_a_clear_error(
    start_nats_server: Callable[[HubAuth], RunningServer],
) -> None:
    server = start_nats_server(HubAuth(user="oncall", password="right-password"))
    wrong = HubSettings(url=server.url, user="oncall", password=Secret("wrong-password"))
    watch = Watch()
    viewer = Viewer(HubSource(wrong), watch)
    await watch.until(lambda: viewer.done, "the viewer to give up")
    assert viewer.updates == []
    assert viewer.source.error_kind == "credentials"
    assert "refused the credentials (a user and password)" in viewer.source.error
    assert "Authorization Violation" in viewer.source.error
    assert "wrong-password" not in viewer.source.error
    right = HubSettings(url=server.url, user="oncall", password=Secret("right-password"))
    ok = Viewer(HubSource(right, since=0.0), watch)
    await watch.until(
        lambda: ok.source.link is not None and "waiting for one" in ok.source.link.detail,
        "the viewer, let in, waiting for a collector",
    )
    assert ok.source.error == ""
    await ok.close()


async def test_the_viewers_link_notes_say_a_real_drop_and_never_a_stop_asked_for(
    start_nats_server: Callable[[HubAuth], RunningServer],
) -> None:
    """The hub's link as the viewer tells it: connected once (the reachability probe before
    it says nothing), a server going away is a drop the client reconnects from, and closing
    the client on purpose is "closed", never "dropped"."""
    from tests.hub.natsserver import stop_server
    from zoomtui.hub.client import LinkChange, connect_hub

    server = start_nats_server(HubAuth())
    changes: list[LinkChange] = []
    changed = asyncio.Event()

    def link(change: LinkChange) -> None:
        changes.append(change)
        changed.set()

    nc = await connect_hub(HubSettings(url=server.url), link)
    try:
        assert [c.state for c in changes] == ["connected"]
        stop_server(server.process)
        async with guard("the drop told"):
            while not any(c.state == "disconnected" for c in changes):
                changed.clear()
                await changed.wait()
        assert "dropped; reconnecting" in changes[1].detail
    finally:
        await nc.close()
    assert [c.state for c in changes] == ["connected", "disconnected", "closed"]

    changes.clear()
    other = start_nats_server(HubAuth())
    nc = await connect_hub(HubSettings(url=other.url), link)
    await nc.close()
    assert [c.state for c in changes] == ["connected", "closed"]
