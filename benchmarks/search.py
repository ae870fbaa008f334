"""Searching the archive: an archive of N events (default 10 million) written through the
real writer, its search index built, and the filter language asked of it.

1. Write: N events of the demo's world (`scenario_events`), each participant drawn from
   a population of `--people` (a Zipf-like long tail: a few people in most meetings, most
   people in a few), parsed as the connection parses them and handed to `Archive.add()`
   (the writer process, as zoomtui runs it) with the search index off: the writer's CPU
   per event and the size of the archive without the index ("before").
2. Index: the search index built over the whole archive by the step the writer runs
   behind the writes (`searchindex.index_step`): CPU per event, and the size it adds
   ("after"), per table (SQLite's dbstat).
3. Search: for `user:<name>`, `meeting:<id>`, `type:<glob> -user:<x>` and a free word, the
   time to the first result and to all results (`ArchiveReader.search`, the path `zoomtui
   search` takes), and the plan (`--explain`).  `--scan` also times the plain scan of
   the first query (what `export --filter` did before).

    python benchmarks/search.py [--events 1000000] [--folder DIR] [--keep] [--scan] [--writer thread]

With `--folder DIR --keep` the archive stays, and a later run with the same folder and
`--events` asks its questions again without building it: the write and the index are
skipped when they completed (their figures are shown again), an index cut short resumes,
and a write cut short starts again.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from zoomtui.fakezoom import scenario_events
from zoomtui.monitor.archive import Archive, ArchiveReader, Retention
from zoomtui.monitor.archive.searchindex import index_progress, index_step
from zoomtui.monitor.filters import compile_filter
from zoomtui.zoom.protocol import ZoomEvent, message_frame, parse_text_frame

KEEP_ALL = Retention(max_age_days=None, max_size_mb=None)
#: the build's phases, each recorded beside a kept archive when it completes
PHASES = ("write", "index")
FIRST = ["Ana", "Bo", "Chidi", "Dev", "Fatima", "José", "Kenji", "Łukasz", "Мария", "Zoë", "李"]
LAST = ["Souza", "Lindqvist", "Okonkwo", "Patel", "Al-Sayed", "Álvarez", "Watanabe", "Wróbel"]


def person(k: int) -> tuple[str, str]:
    """Person number `k`: a name and an email no other person has."""
    first, last = FIRST[k % len(FIRST)], LAST[(k // len(FIRST)) % len(LAST)]
    return f"{first} {last} {k:05d}", f"{first.lower()}.{k:05d}@example.com"


def frames(n: int, people: int, seed: int = 1) -> Iterator[bytes]:
    """`n` event frames as Zoom sends them; participants from a long-tailed population."""
    rng = random.Random(seed)
    weights = list(itertools.accumulate(1 / (k + 1) for k in range(people)))
    for body in itertools.islice(scenario_events(seed, time.time(), rate=1000.0), n):
        part = body.get("payload", {}).get("object", {}).get("participant")
        if isinstance(part, dict) and part.get("user_name") is not None:
            (k,) = rng.choices(range(people), cum_weights=weights)
            part["user_name"], part["email"] = person(k)
        yield message_frame(body).encode()


def table_bytes(path: Path) -> dict[str, int]:
    """Bytes on disk per table (its indexes counted with it), from SQLite's dbstat."""
    db = sqlite3.connect(path)
    try:
        owner = {name: tbl for name, tbl in db.execute("SELECT name, tbl_name FROM sqlite_master")}
        out: dict[str, int] = {}
        for name, size in db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            table = owner.get(name, name)
            table = "search_text" if table.startswith("search_text") else table
            out[table] = out.get(table, 0) + size
        return out
    finally:
        db.close()


def write(path: Path, n: int, people: int, writer: str) -> str:
    start = time.perf_counter()
    archive = Archive(path, retention=KEEP_ALL, search_index=False, writer=writer)
    add = archive.add
    t0 = time.time()
    for i, frame in enumerate(frames(n, people)):
        add(parse_text_frame(frame, t0 + i * 0.01), "bench:1")  # 100 events/s of history
        if i % 50_000 == 49_999:
            # Never past the writer's bounded backlog (it would drop, as a monitor does):
            # on a busy machine the writer, at nice 19, is slower than this loop.
            archive.flush(timeout=3600)
        if i % 1_000_000 == 999_999:
            print(f"  {i + 1:,} events handed over ({time.perf_counter() - start:.0f} s)")
    archive.flush(timeout=3600)
    assert archive.dropped == 0, archive.stats
    done = time.perf_counter()
    cpu = archive.writer_cpu
    archive.close()
    size = path.stat().st_size
    return (
        f"write: {n:,} events in {done - start:.0f} s (generating and parsing them included); "
        f"writer CPU {cpu / n * 1e6:.1f} us per event; {size / n:.0f} B per event on disk, "
        f"{size / 1e6:,.0f} MB (before: no index)"
    )


def build_index(path: Path, n: int) -> str:
    before = path.stat().st_size
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_size_limit = 67108864")
    progress = index_progress(db)
    if progress.upto:
        # The events above the mark, near enough (a few rows are not events).
        n = progress.pending_rows
        print(f"  resuming the index above seq {progress.upto:,}: figures below are the rest's")
    cpu, start = time.process_time(), time.perf_counter()
    steps = 0
    while index_step(db):
        steps += 1
        if steps % 1000 == 0:
            p = index_progress(db)
            print(f"  indexed {p.upto:,} of {p.last_seq:,} ({time.perf_counter() - start:.0f} s)")
    cpu, wall = time.process_time() - cpu, time.perf_counter() - start
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    after = path.stat().st_size
    sizes = table_bytes(path)
    total = sum(sizes.values())
    return (
        f"index: {n:,} events in {wall:.0f} s, {cpu / n * 1e6:.1f} us CPU per event "
        f"(the writer's step, behind the writes); the archive grew {before / 1e6:,.0f} -> "
        f"{after / 1e6:,.0f} MB (+{(after / before - 1) * 100:.0f} %, "
        f"{(after - before) / n:.0f} B per event)\n  by table: "
        + ", ".join(
            f"{k} {v / 1e6:,.0f} MB ({v / total * 100:.0f} %)" for k, v in sorted(sizes.items())
        )
    )


def index_complete(path: Path) -> bool:
    db = sqlite3.connect(path)
    try:
        return index_progress(db).complete
    finally:
        db.close()


def archive_files(path: Path) -> list[Path]:
    """The archive and what SQLite and this script keep beside it."""
    return [path.with_name(path.name + end) for end in ("", "-wal", "-shm", "-journal")] + [
        phase_record(path, phase) for phase in PHASES
    ]


def phase_record(path: Path, phase: str) -> Path:
    """Where a finished phase's figures are kept: its presence says the phase completed,
    so a kept archive is reused only when whole (an interrupted write starts again, an
    interrupted index resumes) and its build figures are shown again."""
    return path.with_name(f"{path.name}.{phase}.txt")


def build(path: Path, n: int, people: int, writer: str) -> None:
    """Write and index the archive at `path`, or reuse what a kept run finished."""
    written = phase_record(path, "write")
    if not written.exists():
        for f in archive_files(path):
            f.unlink(missing_ok=True)  # a write cut short: its events are not the N asked
        written.write_text(write(path, n, people, writer) + "\n")
    else:
        print(f"reusing the written archive ({written.name})")
    print(written.read_text(), end="")
    indexed = phase_record(path, "index")
    if not (indexed.exists() and index_complete(path)):
        indexed.unlink(missing_ok=True)
        indexed.write_text(build_index(path, n) + "\n")
    else:
        print(f"reusing the search index ({indexed.name})")
    print(indexed.read_text(), end="")


def queries(reader: ArchiveReader) -> list[tuple[str, str]]:
    """The issue's four questions, with values the archive holds."""
    sample: list[ZoomEvent] = list(reader.iter_events(limit=20_000))
    rng = random.Random(5)
    named = [e for e in sample if e.participant_name and e.participant_name[-5:].isdigit()]
    rare = sorted(named, key=lambda e: e.participant_name or "")[len(named) // 2]
    meeting = rng.choice([e for e in sample if e.meeting_id and e.name.endswith("started")])
    word = (rare.participant_email or "").split("@")[0]
    return [
        ("user:<name>", f'user:"{rare.participant_name}"'),
        ("meeting:<id>", f"meeting:{meeting.meeting_id}"),
        ("type:<glob> -user:<x>", "type:meeting.end* -user:ana"),
        ("free word", word),
        ("user:<name> (the most frequent person)", f'user:"{person(0)[0]}"'),
    ]


def time_query(reader: ArchiveReader, text: str) -> tuple[float, float, int]:
    start = time.perf_counter()
    first = 0.0
    n = 0
    for _ in reader.search(compile_filter(text)):
        n += 1
        if n == 1:
            first = time.perf_counter() - start
    return first, time.perf_counter() - start, n


def search(path: Path, scan: bool) -> None:
    reader = ArchiveReader(path)
    for label, text in queries(reader):
        print(f"{label}: {text}")
        for line in reader.explain_search(text)[1:-1]:
            print(f"    {line}")
        runs = [time_query(reader, text) for _ in range(3)]
        first, total, n = min(runs, key=lambda r: r[1])
        print(
            f"    {n:,} events; first result {first * 1000:,.0f} ms, all {total * 1000:,.0f} ms "
            f"(best of 3; runs: {', '.join(f'{r[1] * 1000:,.0f}' for r in runs)} ms)"
        )
    if scan:
        label, text = queries(reader)[0]
        flt = compile_filter(text)

        class Scan:
            matches = staticmethod(flt.matches_event)

        start = time.perf_counter()
        n = sum(1 for _ in reader.iter_events(filter=Scan()))
        print(f"plain scan for {text}: {n:,} events in {time.perf_counter() - start:.1f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--people", type=int, default=20_000)
    ap.add_argument(
        "--folder", type=Path, default=None, help="where to build it (default: a temp dir)"
    )
    ap.add_argument(
        "--keep",
        action="store_true",
        help="keep the archive; the next run with the same --folder and --events reuses "
        "what it finished (writing and indexing are skipped when complete)",
    )
    ap.add_argument("--scan", action="store_true", help="also time a plain scan")
    ap.add_argument(
        "--writer",
        choices=("process", "thread"),
        default="process",
        help="the writer process (zoomtui's default; at nice 19 it crawls on a busy machine) "
        "or the same writer in a thread",
    )
    args = ap.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="zoomtui-search-"))
    path = folder / f"search-{args.events}.sqlite3"
    print(f"load {os.getloadavg()[0]:.2f}; {args.events:,} events, {args.people:,} people; {path}")
    try:
        build(path, args.events, args.people, args.writer)
        search(path, args.scan)
    finally:
        if not args.keep:
            if args.folder is None:
                shutil.rmtree(folder, ignore_errors=True)
            else:
                for f in archive_files(path):
                    f.unlink(missing_ok=True)
        print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
