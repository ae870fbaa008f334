"""Recent filters on disk: newest first, no repeats, at most 50, owner-only and atomic; a
hostile file is ignored with a one-line warning, never a crash."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from zoomtui.monitor.recentfilters import (
    MAX_FILE_BYTES,
    MAX_RECENT,
    RecentFilters,
    read_recent,
    recent_filters_path,
    write_recent,
)


def test_newest_first_without_repeats_and_capped() -> None:
    recent = RecentFilters(None)
    for text in ("a", "b", "a", "  c  ", "", "x\x1by", "y" * 2001):
        recent.add(text)
    assert recent.entries == ("c", "a", "b")
    assert not recent.add("c")  # the newest already
    for i in range(MAX_RECENT + 10):
        recent.add(f"user:{i}")
    assert len(recent.entries) == MAX_RECENT and recent.entries[0] == f"user:{MAX_RECENT + 9}"


def test_kept_per_profile_owner_only(tmp_path: Path) -> None:
    work, home, demo = (recent_filters_path(p) for p in ("work", "home", None))
    assert len({work, home, demo}) == 3 and work.parent == home.parent
    assert recent_filters_path("../../etc/passwd").parent == work.parent
    write_recent(work, ["user:ana", "type:*joined", "user:ana"])
    assert stat.S_IMODE(work.stat().st_mode) == 0o600
    assert stat.S_IMODE(work.parent.stat().st_mode) == 0o700
    assert RecentFilters.load(work).entries == ("user:ana", "type:*joined")
    assert RecentFilters.load(home).entries == () and RecentFilters.load(home).warning is None
    assert not [p for p in work.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"\xff\xfe not utf-8", "not JSON"),
        (b"{not json", "not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
        (b'{"filters": "user:ana"}', "not {"),
        (b"[1, 2]", "not {"),
        (b" " * (MAX_FILE_BYTES + 1), "larger than"),
    ],
)
def test_a_corrupt_file_is_ignored_with_a_warning(tmp_path: Path, content: bytes, why: str) -> None:
    path = tmp_path / "recent.json"
    path.write_bytes(content)
    entries, warning = read_recent(path)
    assert entries == ()
    assert warning is not None and why in warning and str(path) in warning
    assert "\n" not in warning


def test_hostile_entries_are_dropped_and_said(tmp_path: Path) -> None:
    path = tmp_path / "recent.json"
    hostile = ["user:ana", 42, None, {"a": 1}, "a\x00b", "\x1b[31mred", "z" * 5000, "user:ana"]
    path.write_text(json.dumps({"filters": hostile}), encoding="utf-8")
    entries, warning = read_recent(path)
    assert entries == ("user:ana",)
    assert warning is not None and "left out" in warning


def test_not_a_regular_file_is_ignored(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    entries, warning = read_recent(fifo)  # would block if opened for a plain read
    assert entries == () and warning is not None and "not a regular file" in warning
    target = tmp_path / "elsewhere.json"
    write_recent(target, ["user:ana"])
    link = tmp_path / "link.json"
    link.symlink_to(target)
    entries, warning = read_recent(link)
    assert entries == () and warning is not None
    folder = tmp_path / "dir.json"
    folder.mkdir()
    assert read_recent(folder)[1] is not None
