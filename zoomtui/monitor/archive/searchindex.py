"""The archive's search index: what it holds, and the step that builds it.

The filter language (`zoomtui.monitor.filters`) matches an event by its name (globs), its
meeting id, and substrings of its lower-cased search text (names, emails, topics, ids)
and participant key.  The index holds exactly those, derived the way a scan derives them:
each event row's frame is parsed again (`parse_frame(raw, at)`, as `ArchiveReader` does),
so an indexed answer and a scan see the same event.

- `search_keys`: one row per indexed event (`seq` as in `log`): its name and meeting id,
  each with a B-tree index (`type:` / `family:` globs become the set of names they match,
  `meeting:<number>` an id), and its `text`: the search text and the lower-cased
  participant key, fields split by a newline.
- `search_text`: an FTS5 table over `search_keys.text` (external content, so the text is
  stored once) with the trigram tokenizer, case-sensitive (the text is lower-cased by
  Python, as the filter lower-cases it) and ``detail=none`` (the smallest: rowids only).
  A term's trigrams, ANDed, select a superset of the events holding the term; every
  candidate is then checked with the filter itself, so the answer is exact.
- `meta`: ``search_index_upto`` is the highest `log.seq` the index covers: every event
  row at or below it is indexed, every one above it is not (yet).

The index is built behind the writes, never on the hot path: the writer indexes a chunk
of rows (`index_step`) whenever it has caught up with what it was given, one
transaction per chunk that also moves ``search_index_upto``.  So an archive written by
an older zoomtui (schema 1) is indexed in place by the same step, from the start,
resumably: stopped at any point (even killed), it goes on from the last committed chunk.
While many chunks wait, the writer says how far it has come (`IndexBuild`, from
`index_build`), for the monitor to show.

Deleting a row of `log` (retention) deletes its index rows in the same transaction (a
trigger), and keeps ``search_index_upto`` at most the highest seq left, so a seq SQLite
hands out again after the table was emptied is never taken for an indexed one.

FTS5 does not delete in place: a deleted row's entries stay in their segment beside a
delete marker, so deleting rows makes the full-text index larger, not smaller, until a
merge of every segment drops both.  Retention by size therefore merges it
(`merge_index_step`, a chunk per transaction) before it measures the file, and counts
the index the rows not yet indexed will need (`unindexed_bytes`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from zoomtui.monitor.archive.records import KIND_EVENT, scrub
from zoomtui.zoom.protocol import ZoomEvent, parse_frame

#: the `meta` key of the highest log seq the index covers
UPTO_KEY = "search_index_upto"
#: the `meta` key of the layout of the index's text; a planner that knows another one
#: does not use the index (a future layout is rebuilt by resetting the progress)
VERSION_KEY = "search_index_version"
INDEX_VERSION = 1
#: the separator of fields in the indexed text (the search text's own "\x00" is kept out
#: of SQLite text, where some tools stop reading at a NUL)
FIELD_SEPARATOR = "\n"
#: event rows indexed per transaction: a few tens of milliseconds of the writer's time,
#: so new events wait at most that long behind the indexing
INDEX_CHUNK = 1000
#: FTS5 leaf pages (about 4 KB each) one merge step writes: a few tens of milliseconds of
#: the writer's time, like an indexing chunk
MERGE_PAGES = 100
#: bytes the index takes per byte of an event's indexed text (its name, meeting, topic,
#: names, emails, keys): the text itself in `search_keys`, its two B-tree entries and the
#: trigram postings.  Measured 1.3 (one long topic) to 2.5 (the fake Zoom's scenario);
#: taken high, so retention keeps room for the index of rows it has not indexed yet.
INDEX_BYTES_PER_TEXT_BYTE = 3.0
#: the length of an event row's indexed text, from the columns `log` keeps of it
_TEXT_LENGTH = " + ".join(
    f"coalesce(length({c}), 0)"
    for c in (
        "event", "topic", "meeting_id", "meeting_uuid", "participant_name",
        "participant_email", "participant_key", "participant_key",
    )
)  # fmt: skip
#: newest rows above the index's mark whose text `unindexed_bytes` measures
_SAMPLE_ROWS = 1000
#: the writer says it is building the index (`IndexBuild`) once this many chunks wait:
#: about a second of its work; less is over before anyone could read it
BUILD_SHOWN_FROM_CHUNKS = 20


def create_search_index(db: sqlite3.Connection) -> None:
    """The index's tables (empty: `index_step` fills them), in the caller's transaction."""
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value)")
    db.execute(
        "CREATE TABLE search_keys (seq INTEGER PRIMARY KEY, event TEXT NOT NULL, "
        "meeting_id TEXT, text TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX search_keys_event ON search_keys(event)")
    db.execute(
        "CREATE INDEX search_keys_meeting ON search_keys(meeting_id) WHERE meeting_id IS NOT NULL"
    )
    db.execute(
        "CREATE VIRTUAL TABLE search_text USING fts5(text, content='search_keys', "
        "content_rowid='seq', tokenize='trigram case_sensitive 1', detail=none, columnsize=0)"
    )
    # A deleted log row takes its index rows with it (the FTS row needs the text it was
    # indexed with, which search_keys keeps), and the progress mark never stays above
    # the highest seq left: SQLite gives the next row max(seq) + 1.
    db.execute(f"""
        CREATE TRIGGER log_unindex AFTER DELETE ON log BEGIN
            INSERT INTO search_text(search_text, rowid, text)
                SELECT 'delete', seq, text FROM search_keys WHERE seq = old.seq;
            DELETE FROM search_keys WHERE seq = old.seq;
            UPDATE meta SET value = (SELECT coalesce(max(seq), 0) FROM log)
                WHERE key = '{UPTO_KEY}' AND value > (SELECT coalesce(max(seq), 0) FROM log);
        END""")
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, 0)", (UPTO_KEY,))
    db.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (VERSION_KEY, INDEX_VERSION)
    )


def indexed_text(event: ZoomEvent) -> str:
    """What the full-text index holds for `event`: its search text (the free words'
    haystack) and its lower-cased participant key (which `user:` also searches)."""
    text = event.search_text
    key = event.participant_key
    if key:
        text = f"{text}\x00{key.lower()}"
    return text.replace("\x00", FIELD_SEPARATOR)


def trigrams(term: str, most: int = 16) -> list[str]:
    """The distinct trigrams of `term` the index can look up (in order, at most `most`):
    every event whose indexed text holds `term` holds each of them.  None for a term
    under three characters, and none that holds a NUL (the text has none) or a character
    SQLite cannot store (a lone surrogate from a command line's undecodable bytes)."""
    grams: list[str] = []
    seen: set[str] = set()
    for i in range(len(term) - 2):
        g = term[i : i + 3]
        if g in seen or "\x00" in g or not _storable(g):
            continue
        seen.add(g)
        grams.append(g)
    if len(grams) > most:  # spread over the term: its start, middle and end all narrow
        step = len(grams) / most
        grams = [grams[int(i * step)] for i in range(most)]
    return grams


def fts_query(grams: list[str]) -> str:
    """An FTS5 query for rows holding every trigram: each a quoted string (a quote inside
    doubled), so no character of a term is ever read as FTS5 syntax."""
    return " AND ".join('"' + g.replace('"', '""') + '"' for g in grams)


def _storable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class IndexProgress:
    """How much of an archive the search index covers."""

    upto: int  # every event row with seq <= upto is indexed
    last_seq: int  # the highest seq in the archive (0: empty)
    usable: bool  # the index exists in a layout this zoomtui reads

    @property
    def pending_rows(self) -> int:
        """Rows (of any kind) above the mark: what a search scans."""
        return max(0, self.last_seq - self.upto) if self.usable else self.last_seq

    @property
    def complete(self) -> bool:
        return self.usable and self.upto >= self.last_seq


@dataclass(frozen=True, slots=True)
class IndexBuild:
    """The writer building the search index over many records the archive already holds
    (an archive upgraded in place, or what a flood left behind): how far it has come.
    Records are the archive's rows, events and the few others (state changes, gaps)."""

    indexed: int  # records the index covers (the oldest ones)
    total: int  # records in the archive

    @property
    def complete(self) -> bool:
        return self.indexed >= self.total

    @property
    def percent(self) -> int:
        """Whole percent indexed: 100 only once every record is."""
        if self.complete:
            return 100
        return min(99, self.indexed * 100 // max(1, self.total))

    def words(self) -> str:
        """How far, for people: "indexing 41 % (1.2 M of 3.0 M records)"."""
        if self.complete:
            return f"search index built ({approx_count(self.total)} records)"
        return (
            f"indexing {self.percent} % "
            f"({approx_count(self.indexed)} of {approx_count(self.total)} records)"
        )


def approx_count(n: int) -> str:
    """`n` in at most four figures: 950, 9,999, 41.2 k, 412 k, 1.2 M, 123 M."""
    if n < 10_000:
        return f"{n:,}"
    for unit, size in (("k", 1_000), ("M", 1_000_000)):
        value = n / size
        if value < 99.95:
            return f"{value:.1f} {unit}"
        if value < 999.5 or unit == "M":
            return f"{value:,.0f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def index_build(db: sqlite3.Connection) -> IndexBuild:
    """How far the index of the archive open as `db` goes, in records: the seqs from
    the oldest row to the newest are the archive's records (retention deletes from the
    oldest, and SQLite hands out max(seq) + 1), those up to the mark the indexed ones."""
    first, last = db.execute(
        # two subqueries: SQLite finds a lone min() or max() in the seq's B-tree at once,
        # both in one SELECT would read the whole table
        "SELECT (SELECT coalesce(min(seq), 0) FROM log), (SELECT coalesce(max(seq), 0) FROM log)"
    ).fetchone()
    if not last:
        return IndexBuild(0, 0)
    total = last - first + 1
    upto = index_progress(db).upto
    return IndexBuild(max(0, min(total, upto - first + 1)), total)


def index_progress(db: sqlite3.Connection) -> IndexProgress:
    """How far the index of the archive open as `db` goes (any schema version)."""
    last = db.execute("SELECT coalesce(max(seq), 0) FROM log").fetchone()[0]
    has_meta = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    ).fetchone()
    if not has_meta:
        return IndexProgress(0, last, False)
    values = dict(
        db.execute("SELECT key, value FROM meta WHERE key IN (?, ?)", (UPTO_KEY, VERSION_KEY))
    )
    usable = values.get(VERSION_KEY) == INDEX_VERSION and isinstance(values.get(UPTO_KEY), int)
    return IndexProgress(int(values.get(UPTO_KEY) or 0) if usable else 0, last, usable)


def index_step(db: sqlite3.Connection, chunk: int = INDEX_CHUNK) -> bool:
    """Index up to `chunk` event rows above the mark, in one transaction (`db` in
    autocommit mode).  True when more rows wait.  Raises sqlite3.Error."""
    db.execute("BEGIN IMMEDIATE")  # read the mark and move it in one transaction
    try:
        progress = index_progress(db)
        if not progress.usable or progress.upto >= progress.last_seq:
            db.execute("COMMIT")
            return False
        rows = db.execute(
            "SELECT seq, at, raw FROM log WHERE seq > ? AND kind = ? ORDER BY seq LIMIT ?",
            (progress.upto, KIND_EVENT, chunk),
        ).fetchall()
        keys = []
        for seq, at, raw in rows:
            ev = parse_frame(raw, at)  # exactly as ArchiveReader rebuilds it
            if ev.__class__ is ZoomEvent:  # (a scan skips the others too)
                assert isinstance(ev, ZoomEvent)
                keys.append((seq, scrub(ev.name), scrub(ev.meeting_id), scrub(indexed_text(ev))))
        if keys:
            db.executemany(
                "INSERT INTO search_keys (seq, event, meeting_id, text) VALUES (?, ?, ?, ?)",
                keys,
            )
            db.executemany(
                "INSERT INTO search_text (rowid, text) VALUES (?, ?)",
                [(k[0], k[3]) for k in keys],
            )
        more = len(rows) == chunk
        upto = rows[-1][0] if more else progress.last_seq
        db.execute("UPDATE meta SET value = ? WHERE key = ?", (upto, UPTO_KEY))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return more


def merge_index_step(db: sqlite3.Connection, start: bool, pages: int = MERGE_PAGES) -> bool:
    """Merge the full-text index's segments by about `pages` pages, in one transaction
    (`db` in autocommit mode).  `start`: begin a merge of every segment into one (what
    frees the space of deleted rows); later steps go on with it even if indexing added
    segments meanwhile (FTS5's incremental "optimize").  True while there is more to
    merge.  Raises sqlite3.Error."""
    before = db.total_changes
    db.execute(
        "INSERT INTO search_text(search_text, rank) VALUES('merge', ?)",
        (-pages if start else pages,),
    )
    # FTS5's own test: a step that merged nothing changed less than two rows
    return db.total_changes - before >= 2


def unindexed_bytes(db: sqlite3.Connection) -> float:
    """About how many bytes the index of the rows above its mark will take: their
    number times the indexed text of the newest of them times `INDEX_BYTES_PER_TEXT_BYTE`
    (0 when the index is complete or in a layout this zoomtui does not build)."""
    progress = index_progress(db)
    if not progress.usable or progress.pending_rows == 0:
        return 0.0
    # The seqs above the mark, or the rows left when retention took most of them.
    rows = db.execute("SELECT count(*) FROM log").fetchone()[0]
    pending = min(progress.pending_rows, rows)
    text = db.execute(
        f"SELECT avg({_TEXT_LENGTH}) FROM (SELECT * FROM log WHERE seq > ? AND kind = ? "
        "ORDER BY seq DESC LIMIT ?)",
        (progress.upto, KIND_EVENT, _SAMPLE_ROWS),
    ).fetchone()[0]
    return float(text or 0.0) * INDEX_BYTES_PER_TEXT_BYTE * pending
