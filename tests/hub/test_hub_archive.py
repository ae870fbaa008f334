"""An archive keeps each event's hub subscription (schema 3): `sub:` finds a subscription's
events in what a viewer or a collector archived (search, `zoomtui search`, replay), and an
archive of schema 2 is upgraded in place with nothing lost."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from tests.connhelpers import CALM_HB, meeting_event
from tests.hub.hubkit import Viewer, Watch, collectors, publish_names
from tests.hub.natsserver import RunningServer
from tests.waits import awaited
from zoomtui.cli import main
from zoomtui.commands.hubtail import run_hub_tail
from zoomtui.fakezoom import FakeZoom
from zoomtui.hub.settings import HubSettings
from zoomtui.hub.source import HubSource
from zoomtui.monitor.archive import Archive, ArchiveReader, Retention
from zoomtui.monitor.archive.schema import SCHEMA_VERSION
from zoomtui.zoom.protocol import ZoomEvent, message_frame, parse_frame

KEEP_ALL = Retention(max_age_days=None, max_size_mb=None)
NAMES = ["meeting.participant_joined", "meeting.started", "user.created", "meeting.ended"]


def event_of(i: int) -> ZoomEvent:
    event = parse_frame(message_frame(meeting_event(i)), 1_700_000_000.0 + i)
    assert isinstance(event, ZoomEvent)
    return event


def stamps(events: list[ZoomEvent]) -> list[int]:
    return [int(e.body["event_ts"]) for e in events]


async def _viewer_archive(hub: HubSettings, path: Path, writer: str) -> list[ZoomEvent]:
    """What `tail --hub --since ... --archive` keeps: every event of both subscriptions."""
    published = await publish_names(hub, NAMES, rounds=5)
    archive = Archive(path, retention=KEEP_ALL, writer=writer)
    code = await awaited(
        run_hub_tail(
            hub,
            count=len(published),
            since=0.0,
            out=io.BytesIO(),
            err=io.StringIO(),
            handle_signals=False,
            archive=archive,
        ),
        "every event read",
    )
    assert code == 0
    return published


@pytest.mark.parametrize("writer", ["process", "thread"])
async def test_sub_finds_a_subscriptions_events_in_a_viewers_archive(
    hub_server: RunningServer, tmp_path: Path, writer: str
) -> None:
    path = tmp_path / "viewer.sqlite3"
    published = await _viewer_archive(HubSettings(url=hub_server.url), path, writer)
    one, two = published[0::2], published[1::2]  # Sub-One's, Sub-Two's
    reader = ArchiveReader(path)
    assert stamps(list(reader.search("sub:sub-one"))) == stamps(one)
    assert stamps(list(reader.search("sub:SUB-T*"))) == stamps(two)
    assert stamps(list(reader.search("-sub:sub-one"))) == stamps(two)
    # with a term the index answers (the rows then read by seq), the same
    started = [e for e in two if e.name == "meeting.started"]
    assert started and stamps(list(reader.search("type:meeting.started sub:sub-two"))) == stamps(
        started
    )
    assert any(
        "sub:sub-one: subscriptions are few" in line
        for line in reader.explain_search("sub:sub-one")
    )
    # a replay of the archive: each event with its subscription, as the viewer had it
    replayed = [u for u in reader.iter_updates() if isinstance(u, ZoomEvent)]
    assert [e.subscription_id for e in replayed] == ["Sub-One", "Sub-Two"] * (len(published) // 2)
    # the command a person runs
    result = CliRunner().invoke(main, ["search", "--archive", str(path), "--json", "sub:Sub-Two"])
    assert result.exit_code == 0, result.output
    got = [orjson.loads(line)["event_ts"] for line in result.stdout.splitlines()]
    assert got == stamps(two)


def _as_schema_2(path: Path) -> None:
    """The file as the previous zoomtui left it: no subscription column, schema 2."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("DROP VIEW events")
    db.execute("ALTER TABLE log DROP COLUMN subscription_id")
    db.execute("""CREATE VIEW events AS SELECT seq, at AS received_at, connection_id, event,
        event_ts, meeting_uuid, meeting_id, participant_key, topic, participant_name,
        participant_email, raw FROM log WHERE kind = 'event'""")
    db.execute("PRAGMA user_version = 2")
    db.close()


def test_an_archive_of_schema_2_reads_then_upgrades_in_place_with_nothing_lost(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite3"
    old = Archive(path, retention=KEEP_ALL, writer="thread")
    for i in range(30):
        old.add(event_of(i), "c1")
    old.close()
    _as_schema_2(path)
    before = sqlite3.connect(path).execute("SELECT * FROM log ORDER BY seq").fetchall()
    reader = ArchiveReader(path)
    # read as it is: every event, none with a subscription
    assert len(list(reader.search("type:meeting.*"))) == 30
    assert list(reader.search("sub:*")) == [] and len(list(reader.search("-sub:x"))) == 30
    assert all(e.subscription_id is None for e in reader.iter_events())

    # a hub viewer writes to it: upgraded in place, the old rows as they were
    new = Archive(path, retention=KEEP_ALL, writer="thread")
    for i in range(30, 34):
        ev = event_of(i)
        ev.subscription_id = "Sub-One"
        new.add(ev, "hub")
    new.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    columns = [row[1] for row in db.execute("PRAGMA table_info(log)")]
    after = db.execute(f"SELECT {', '.join(columns[:-1])} FROM log ORDER BY seq").fetchall()
    assert after[:30] == before and columns[-1] == "subscription_id"
    assert (
        db.execute("SELECT count(*) FROM events WHERE subscription_id = 'Sub-One'").fetchone()[0]
        == 4
    )
    db.close()
    assert stamps(list(reader.search("sub:sub-one"))) == stamps(
        [event_of(i) for i in range(30, 34)]
    )
    assert len(list(reader.search("type:meeting.*"))) == 34


async def test_a_collectors_archive_keeps_the_subscription_as_the_hub_names_it(
    hub_server: RunningServer, tmp_path: Path
) -> None:
    hub = HubSettings(url=hub_server.url)
    path = tmp_path / "collector.sqlite3"
    archive = Archive(path, retention=KEEP_ALL, writer="thread")
    watch = Watch()
    async with (
        FakeZoom() as fake,
        collectors(hub, fake.settings(heartbeat_interval=CALM_HB), watch, archive=archive),
    ):
        viewer = Viewer(HubSource(hub), watch)
        await viewer.ready()
        await awaited(fake.wait_for_connection(), "the collector's connection")
        for i in range(5):
            await fake.inject(meeting_event(i))
        await watch.until(lambda: len(viewer.events) == 5, "the events through the hub")
        await viewer.close()
        subscription = fake.settings().subscription_id
    archive.close()  # (the collector's session handed each event to it as it got it)
    found = list(ArchiveReader(path).search(f"sub:{subscription}"))
    assert stamps(found) == [int(meeting_event(i)["event_ts"]) for i in range(5)]
