"""The archive on a bad day, through the commands a person runs: a file that is not an
archive.  (The archive's own faults, a killed monitor, a writer that stops answering and
a clock that jumps, are in tests/test_archive.py, where both writers run them.)

Every wait is on something the code signals; nothing asserts on speed.
"""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

from tests.connhelpers import ThreadedFake
from zoomtui.cli import main
from zoomtui.monitor.archive import archive_path


@pytest.mark.parametrize("version", [0, 1])
def test_a_short_tail_on_a_file_of_another_program_says_nothing_is_archived(version: int) -> None:
    path = archive_path("default")
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, line TEXT)")  # someone else's
    # (at version 1 it used to open, and fail at the first batch, after a short tail ended)
    db.execute(f"PRAGMA user_version = {version:d}")
    db.commit()
    db.close()
    before = path.read_bytes()
    with ThreadedFake(
        host="127.0.0.1", port=0, oauth_port=0, seed=2, scenario="demo", rate=40.0
    ) as tf:
        result = CliRunner().invoke(main, ["tail", "--count", "2", "--json"], env=tf.env())
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") == 2  # the events are printed all the same
    said = [line for line in result.stderr.splitlines() if "archive:" in line]
    assert len(said) == 1, result.stderr
    assert f"{path} is not a zoomtui event archive" in said[0]
    assert "not kept" in said[0] and "Move it aside" in said[0]
    assert path.read_bytes() == before
