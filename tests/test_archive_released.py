"""An event released before it is archived (its frame kept as UTF-8 bytes) is stored as the
same text as a fresh one, and read back equal: `Archive.add` reads the frame's slot on its hot
path and falls back to the decoding `raw` for a released event."""

from __future__ import annotations

from pathlib import Path

from tests.waits import HANG_GUARD
from zoomtui.monitor.archive import Archive, Retention
from zoomtui.zoom.protocol import ZoomEvent, message_frame, parse_frame


def event_for(name: str, i: int) -> ZoomEvent:
    body = {
        "event": "meeting.participant_joined",
        "event_ts": 1_700_000_000_000 + i,
        "payload": {"object": {"uuid": "u==", "participant": {"user_name": name, "id": "p"}}},
    }
    ev = parse_frame(message_frame(body), 1_700_000_000.0 + i)
    assert isinstance(ev, ZoomEvent)
    return ev


def test_released_and_fresh_events_are_archived_alike(tmp_path: Path) -> None:
    fresh = [event_for(n, i) for i, n in enumerate(["Ana", "Björn", "李雷 🎉"])]
    released = [event_for(n, i + 10) for i, n in enumerate(["Ana", "Björn", "李雷 🎉"])]
    for ev in released:
        ev.release()
    archive = Archive(tmp_path / "a.sqlite3", retention=Retention(None, None))
    for ev in fresh + released:
        archive.add(ev, "run:1")
    assert archive.flush(timeout=HANG_GUARD)
    back = list(archive.iter_events())
    archive.close()
    assert [e.raw for e in back] == [e.raw for e in fresh + released]
    assert all(type(e.raw) is str for e in back)
    import sqlite3

    db = sqlite3.connect(tmp_path / "a.sqlite3")
    assert {t for (t,) in db.execute("SELECT typeof(raw) FROM log WHERE kind = 'event'")} == {
        "text"
    }
    db.close()
