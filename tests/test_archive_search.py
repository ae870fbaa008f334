"""The archive's search index and planner: every filter gives, from the index, exactly the
events a plain scan gives (property tests over generated archives and filters, hostile
terms, negation and globs included); the index follows retention; an archive of the
previous schema is upgraded in place, and the upgrade survives being killed."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.waits import HANG_GUARD, poll_until
from zoomtui.monitor.archive import Archive, ArchiveReader, Retention, migrate
from zoomtui.monitor.archive import search as search_mod
from zoomtui.monitor.archive.schema import MIGRATIONS
from zoomtui.monitor.archive.searchindex import index_progress, index_step, merge_index_step
from zoomtui.monitor.filters import Filter, FilterError, compile_filter, quote_value
from zoomtui.zoom.protocol import MalformedFrame, ZoomEvent, message_frame, parse_frame
from zoomtui.zoom.updates import Gap

T0 = 1_714_000_000.0
KEEP_ALL = Retention(max_age_days=None, max_size_mb=None)
REPO = Path(__file__).resolve().parents[1]

# Words Zoom's data is made of here, hostile ones included: FTS5 syntax, quotes, globs,
# control characters, a NUL, newlines (the index's own field separator), letters whose
# lower case is longer or context-dependent.
NAMES = [
    "Ana Souza", "ANA LIMA", "Björn Ødegård", "李雷", 'Say "hi"', "NEAR(a b)", "a*b", "x OR y",
    "tab\there", "new\nline", "nul\x00name", "İstanbul ΣΑΣ", "-dash", "user:colon", "\x1b[31mred",
    "'quote'", "AND", "ana", "",
]  # fmt: skip
TOPICS = [
    "Weekly sync", "Sprint planning 857", "NEAR sync", '"quoted" topic', "ΟΔΟΣ", "ab",
    "Zoom APIs (live Q&A)", "tab\tsync", "{pname}: x", None,
]  # fmt: skip
EVENTS = [
    "meeting.participant_joined", "meeting.participant_left", "webinar.participant_joined",
    "meeting.started", "meeting.ended", "user.created", "Meeting.Participant_JOINED",
    "recording.completed", "odd*name", "no_family", "weird.[x]", "webinar.ended ",
]  # fmt: skip
IDS = ["85746352415", "857 4635 2415", "1857463524150", "12", "abc-def", "", "857"]


def make_body(rng: random.Random, i: int) -> dict[str, Any]:
    name = rng.choice(EVENTS)
    obj: dict[str, Any] = {}
    if rng.random() < 0.9:
        obj["id"] = rng.choice([*IDS, int("85746352415"), 12])
    if rng.random() < 0.8:
        obj["uuid"] = rng.choice(["gm8s9L+PTEC+FG3sFbd1Cw==", "-abc/DEF==", "ÄÖ==", "NEAR"])
    topic = rng.choice(TOPICS)
    if topic is not None:
        obj["topic"] = topic
    if rng.random() < 0.7:
        part: dict[str, Any] = {"user_name": rng.choice(NAMES)}
        if rng.random() < 0.8:
            part["email"] = rng.choice(["ana@example.com", "BO@EXAMPLE.COM", "x\x00y@z", "a*@b"])
        key = rng.choice(["participant_uuid", "id", "user_id", None])
        if key:
            part[key] = rng.choice([f"pu-{i % 7}", "KEY-Souza", 42, 'k"ey', "ΣΚ"])
        obj["participant"] = part
    elif topic is None and rng.random() < 0.5:  # a user.* event: its subject is searched
        obj["email"] = rng.choice(["jill@example.com", "Souza@example.com"])
        obj["first_name"] = rng.choice(["Jill", "Ana"])
    return {"event": name, "event_ts": int((T0 + i) * 1000), "payload": {"object": obj}}


def build_archive(path: Path, seed: int, n: int) -> list[ZoomEvent]:
    """An archive of `n` generated events (times shuffled a little: not in seq order),
    with malformed frames and gaps among them, partly indexed, some rows deleted; for an
    odd `seed`, the index then merged (as retention by size merges it)."""
    rng = random.Random(seed)
    events: list[ZoomEvent] = []
    a = Archive(path, retention=KEEP_ALL, writer="thread", flush_interval=3600)
    for i in range(n):
        at = T0 + i + rng.choice([0.0, 0.0, -3.5, 2.25])
        ev = parse_frame(message_frame(make_body(rng, i)), at)
        assert isinstance(ev, ZoomEvent)
        events.append(ev)
        a.add(ev, "c1")
        if rng.random() < 0.05:
            a.add(MalformedFrame(raw=b"\x00NEAR", reason="ana souza", received_at=at), "c1")
        if rng.random() < 0.03:
            a.add(Gap(start=at - 1, end=at, reason="ana"), "c1")
    a.close()
    db = sqlite3.connect(path, isolation_level=None)
    try:
        # Part indexed, part not (the planner scans the rest), some rows deleted by hand.
        for _ in range(rng.randrange(0, 5)):
            index_step(db, chunk=rng.randrange(1, n // 2))
        db.execute("DELETE FROM log WHERE seq % 17 = ?", (rng.randrange(17),))
        start = True  # the deleted rows' entries and their delete markers merged away
        while seed % 2 and merge_index_step(db, start, pages=rng.choice([1, 100])):
            start = False
    finally:
        db.close()
    return events


class Scan:
    """The plain scan: every event of the archive, checked with the filter (not a
    `Filter`, so `iter_events` does not take the index)."""

    def __init__(self, flt: Filter) -> None:
        self.matches = flt.matches_event


def scan(reader: ArchiveReader, flt: Filter, **kw: Any) -> list[tuple[float, str]]:
    return [(e.received_at, e.raw) for e in reader.iter_events(filter=Scan(flt), **kw)]


def searched(reader: ArchiveReader, flt: Filter, **kw: Any) -> list[tuple[float, str]]:
    return [(e.received_at, e.raw) for e in reader.search(flt, **kw)]


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> list[ArchiveReader]:
    out = []
    for seed in range(3):
        path = tmp_path_factory.mktemp(f"search{seed}") / "a.sqlite3"
        build_archive(path, seed, 300 + 100 * seed)
        out.append(ArchiveReader(path))
    return out


# -- filters -----------------------------------------------------------------------------

HOSTILE = [
    '"', "*", "NEAR", "near(", "OR", "AND", "NOT", "\x00", "\n", "\t", "\x1b", "(", ")", "{",
    "}", ":", "^", "-", "''", '""', "%", "_", "[", "]", "?", "\\",
]  # fmt: skip
WORDS = [
    "ana", "souza", "an", "sync", "ΣΑΣ", "σας", "i̇stanbul", "857", "85746352415", "4635 2415",
    "pu-3", "key", "example", "participant", "meeting", "a", "ne", "李", "gm8s9l", "==",
]  # fmt: skip
GLOBS = [
    "*", "meeting.*", "*joined", "participant_*", "meeting.participant_?oined", "[mw]*",
    "*.ended", "odd*", "weird.[[]x]", "no_family", "[", "*[", "user", "webinar",
]  # fmt: skip


@st.composite
def terms(draw: st.DrawFn) -> str:
    field = draw(st.sampled_from([None, None, "user", "meeting", "type", "family"]))
    if field in ("type", "family"):
        value = draw(st.sampled_from(GLOBS))
    else:
        parts = draw(st.lists(st.sampled_from(WORDS + HOSTILE), min_size=1, max_size=3))
        value = "".join(parts)
        if draw(st.booleans()):
            value = draw(st.text(min_size=1, max_size=6)) or value
    neg = "-" if draw(st.integers(0, 3)) == 0 else ""
    head = f"{field}:" if field else ""
    return f"{neg}{head}{quote_value(value, bare=field is None)}"


filters = st.lists(terms(), min_size=0, max_size=3).map(" ".join)


def compiled(text: str) -> Filter | None:
    try:
        return compile_filter(text)
    except FilterError:
        return None  # (a generated value the language refuses, e.g. a control in a field)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=filters, which=st.integers(0, 2), cap=st.sampled_from([200_000, 5, 0]))
def test_every_filter_gives_from_the_index_what_a_scan_gives(
    archives: list[ArchiveReader], text: str, which: int, cap: int
) -> None:
    flt = compiled(text)
    if flt is None:
        return
    reader = archives[which]
    old = search_mod.CANDIDATE_CAP
    search_mod.CANDIDATE_CAP = cap  # 5 and 0: most plans walk the archive instead
    try:
        assert searched(reader, flt) == scan(reader, flt), reader.explain_search(flt)
    finally:
        search_mod.CANDIDATE_CAP = old


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=filters,
    since=st.one_of(st.none(), st.floats(T0 - 10, T0 + 700)),
    until=st.one_of(st.none(), st.floats(T0 - 10, T0 + 700)),
    limit=st.one_of(st.none(), st.integers(0, 30)),
)
def test_time_bounds_and_limits_are_a_scans(
    archives: list[ArchiveReader],
    text: str,
    since: float | None,
    until: float | None,
    limit: int | None,
) -> None:
    flt = compiled(text)
    if flt is None:
        return
    reader = archives[1]
    kw = {"since": since, "until": until, "limit": limit}
    assert searched(reader, flt, **kw) == scan(reader, flt, **kw)


@pytest.mark.parametrize("seed", range(6))
def test_generated_archives_with_few_names_allowed(
    tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seeded archives of their own, many filters each; with NAME_CAP low, globs are checked
    row by row (hostile data: thousands of event names)."""
    path = tmp_path / "a.sqlite3"
    build_archive(path, 100 + seed, 150)
    reader = ArchiveReader(path)
    rng = random.Random(seed)
    monkeypatch.setattr(search_mod, "NAME_CAP", rng.choice([1, 3, 5000]))
    for _ in range(150):
        n = rng.randrange(0, 4)
        parts = []
        for _ in range(n):
            field = rng.choice(
                [
                    "",
                    "",
                    "user:",
                    "meeting:",
                    "type:",
                    "family:",
                    "-",
                    "-user:",
                    "-type:",
                    "-family:",
                    "-meeting:",
                ]
            )
            pool = GLOBS if "type" in field or "family" in field else WORDS + HOSTILE
            value = "".join(rng.choice(pool) for _ in range(rng.randrange(1, 3)))
            parts.append(field + quote_value(value, bare=field in ("", "-")))
        flt = compiled(" ".join(parts))
        if flt is not None:
            assert searched(reader, flt) == scan(reader, flt), flt.describe()


@pytest.mark.parametrize(
    ("text", "tests_keys"),
    [
        ("type:meeting.ended", False),
        ("ana -user:souza", False),  # a negated text term is checked row by row only
        ("type:meeting.ended -meeting:85746352415", True),  # the id excluded in SQL
        ("type:meeting.* user:ana", True),  # the other term's candidates intersected
    ],
)
def test_the_index_plan_looks_up_key_rows_only_to_test_them(
    archives: list[ArchiveReader], text: str, tests_keys: bool
) -> None:
    """Sorting the candidates by time looks up each one's log row; its key row only when
    a term tests it there (at 10 million events that lookup was a third of the time to
    the first result, for nothing)."""
    reader = archives[0]
    flt = compile_filter(text)
    db = sqlite3.connect(reader.path)
    try:
        plan = search_mod.plan_search(db, flt)
        sql = search_mod.plan_sql(plan, None, None)
        steps = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql.text, sql.params)]
    finally:
        db.close()
    assert plan.mode == "index"
    assert any(step.startswith("SEARCH k ") for step in steps) == tests_keys, steps
    assert searched(reader, flt) == scan(reader, flt)


# -- the index itself --------------------------------------------------------------------


def events_of(n: int, start: int = 0) -> Iterator[ZoomEvent]:
    rng = random.Random(7)
    for i in range(start, start + n):
        ev = parse_frame(message_frame(make_body(rng, i)), T0 + i)
        assert isinstance(ev, ZoomEvent)
        yield ev


def test_the_writer_indexes_what_it_wrote_and_retention_takes_index_rows_along(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.sqlite3"
    a = Archive(path, retention=Retention(max_age_days=None, max_size_mb=None, max_rows=200))
    for ev in events_of(500):
        a.add(ev, "c1")
    assert a.flush(timeout=HANG_GUARD)
    assert a.run_retention(timeout=HANG_GUARD)  # down to 200 rows: their index rows go with them
    reader = ArchiveReader(path)
    # the writer indexes once it has nothing else to do
    poll_until(lambda: reader.index_progress().complete, "the writer's index to catch up")
    a.close()
    db = sqlite3.connect(path)
    seqs = [s for (s,) in db.execute("SELECT seq FROM log WHERE kind = 'event' ORDER BY seq")]
    assert [s for (s,) in db.execute("SELECT seq FROM search_keys ORDER BY seq")] == seqs
    assert len(seqs) == 200
    db.close()
    flt = compile_filter("user:souza -type:*left")
    assert reader.explain_search(flt)[0] == "Search index: complete (500 rows)."
    assert searched(reader, flt) == scan(reader, flt) != []


def test_an_emptied_archive_indexes_the_seqs_sqlite_hands_out_again(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    a = Archive(path, retention=KEEP_ALL, writer="thread")
    for ev in events_of(50):
        a.add(ev, "c1")
    a.close()
    db = sqlite3.connect(path, isolation_level=None)
    while index_step(db):
        pass
    assert index_progress(db).upto == 50
    db.execute("DELETE FROM log")  # the trigger keeps the mark under the highest seq left
    assert index_progress(db).upto == 0
    db.close()
    a = Archive(path, retention=KEEP_ALL, writer="thread", flush_interval=3600)
    for ev in events_of(10, start=1000):
        a.add(ev, "c1")
    a.close()
    reader = ArchiveReader(path)
    flt = compile_filter("type:* -user:zzz")
    assert len(searched(reader, flt)) == len(scan(reader, flt)) == 10


# -- upgrading an archive of the previous schema -----------------------------------------


def schema_1_archive(path: Path, n: int) -> None:
    """An archive as the previous zoomtui wrote it: schema 1, no index."""
    a = Archive(path, retention=KEEP_ALL, writer="thread", flush_interval=3600)
    for ev in events_of(n):
        a.add(ev, "c1")
    a.close()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("DROP TRIGGER log_unindex")
    db.execute("DROP TABLE search_text")
    db.execute("DROP TABLE search_keys")
    db.execute("DROP TABLE meta")
    db.execute("PRAGMA user_version = 1")
    db.close()


UPGRADE = """
import sqlite3, sys
from zoomtui.monitor.archive import migrate
from zoomtui.monitor.archive.searchindex import index_progress, index_step, merge_index_step

class Stalling(sqlite3.Connection):
    # Once 700 rows are indexed, the next chunk stops before its commit, and says so.
    def executemany(self, sql, rows):
        cursor = super().executemany(sql, rows)
        if "search_text" in sql and index_progress(self).upto >= 700:
            print("inside a chunk", flush=True)
            sys.stdin.readline()  # until killed
        return cursor

db = sqlite3.connect(sys.argv[1], isolation_level=None, factory=Stalling)
migrate(db)
print("migrated", flush=True)
while index_step(db, chunk=7):
    pass
"""


def test_an_archive_of_schema_1_is_read_then_upgraded_in_place_and_a_kill_loses_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.sqlite3"
    schema_1_archive(path, 3000)
    reader = ArchiveReader(path)
    flt = compile_filter("user:souza type:*joined")
    want = scan(reader, flt)
    assert want and searched(reader, flt) == want  # schema 1: read and scanned
    assert reader.explain_search(flt)[0].startswith("No search index")

    proc = subprocess.Popen(
        [sys.executable, "-c", UPGRADE, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=REPO,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"migrated\n"
    assert proc.stdout.readline() == b"inside a chunk\n"  # killed before that commit
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    db = sqlite3.connect(path)
    progress = index_progress(db)
    assert 700 <= progress.upto < progress.last_seq == 3000, progress
    # What was committed is whole: every event row up to the mark, none above it.
    keys = [s for (s,) in db.execute("SELECT seq FROM search_keys ORDER BY seq")]
    assert keys == list(range(1, progress.upto + 1))
    db.close()

    # Partly indexed: the rest is scanned, the answer is the same.
    assert searched(reader, flt) == want
    explained = reader.explain_search(flt)[0]
    assert f"covers rows up to {progress.upto:,} of 3,000" in explained

    # Resumed (as the monitor's writer does when it opens the archive): it goes on from
    # the mark, and ends with the same index a build in one go makes.
    db = sqlite3.connect(path, isolation_level=None)
    migrate(db, MIGRATIONS)
    while index_step(db):
        pass
    assert index_progress(db).complete
    db.execute("INSERT INTO search_text (search_text) VALUES ('integrity-check')")
    resumed = db.execute("SELECT seq, event, meeting_id, text FROM search_keys").fetchall()
    db.close()
    fresh = tmp_path / "fresh.sqlite3"
    schema_1_archive(fresh, 3000)
    db = sqlite3.connect(fresh, isolation_level=None)
    migrate(db)
    while index_step(db):
        pass
    assert db.execute("SELECT seq, event, meeting_id, text FROM search_keys").fetchall() == resumed
    db.close()
    assert searched(reader, flt) == want
    assert reader.explain_search(flt)[0] == "Search index: complete (3,000 rows)."


def test_the_monitors_writer_upgrades_an_old_archive_when_it_opens_it(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    schema_1_archive(path, 400)
    a = Archive(path, retention=KEEP_ALL)  # the writer process: migrates, then indexes
    reader = ArchiveReader(path)
    poll_until(lambda: reader.index_progress().complete, "the writer to index the archive")
    a.close()
    flt = compile_filter("-user:souza meeting:857")
    assert searched(reader, flt) == scan(reader, flt) != []
