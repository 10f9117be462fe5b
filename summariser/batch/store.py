"""Batch job state and the summary cache: one embedded SQLite file, the job's source of truth.

Stage: edge (file I/O, stdlib ``sqlite3``). In: finished output records (one JSON line each)
and cached summaries. Out: the set of items already done, the records to (re)append to the
output file, the job's totals, cached summaries by key.

Tables::

    meta     (key, value)                    input path, backend, model, prompt hash
    results  (key, seq, line, status, ...)   one row per finished item, with its output line
    cache    (key, summary)                  summary JSON by sha256(cleaned text, backend,
                                             model, prompts); may live in a shared file

The crash-safety contract, with the runner: a batch of records is committed here first, and
only then appended to the output file, in one write. :func:`reconcile`, run at every start,
repairs whatever a ``kill -9`` left: it cuts a torn last line off the output, reads the ids
the output holds (streaming), appends every committed row the output lacks, and never appends
an id the output already has. So no finished item is lost and none is written twice.

Durability: WAL with ``synchronous=NORMAL``. A commit is in the WAL (the OS's page cache)
when ``commit()`` returns, so a killed process loses nothing committed; only a power cut can
lose the last commits, and then the output lines written after them are as unsynced. If the
output ever holds a line whose row is missing, reconcile copies the line back into the store
(a "backfill") rather than summarising the article again. ``FULL`` would add an fsync to
every commit for no gain against ``kill -9``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from summariser.batch.inputs import item_key
from summariser.errors import InputError

__all__ = [
    "JobStore",
    "JobTotals",
    "Reconciled",
    "StoredRecord",
    "SummaryCache",
    "check_writable",
    "reconcile",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    line TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    figures_unsupported INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS results_seq ON results (seq);
"""
_CACHE_SCHEMA = "CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, summary TEXT NOT NULL);"
_BLOCK = 65536


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """One finished item: its key, its output line (JSON, no newline) and what the totals
    need from it."""

    key: str
    line: str
    status: str  # "ok" or "error"
    reason: str | None = None
    figures_unsupported: int = 0

    @classmethod
    def from_line(cls, line: str) -> StoredRecord:
        """The record of an output line (for lines found in the output but not the store)."""
        record = json.loads(line)
        summary = record.get("summary") or {}
        unsupported = (summary.get("validation") or {}).get("figures_unsupported", 0)
        return cls(
            key=item_key(record.get("id"), record.get("line")),
            line=line,
            status=str(record.get("status", "error")),
            reason=record.get("reason"),
            figures_unsupported=int(unsupported or 0),
        )


@dataclass(frozen=True, slots=True)
class JobTotals:
    """Every finished item of the job so far (all runs): what the exit code is made from."""

    done: int
    ok: int
    errors: int
    with_unsupported: int
    reasons: dict[str, int]


def _connect(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=10000")
    except sqlite3.Error as err:
        raise InputError(f"cannot open the job state: {err}", path=str(path)) from err
    return conn


class SummaryCache:
    """Summaries by cache key, in a ``cache`` table: in the job's own state file, or in a
    file several jobs share (``--cache PATH``)."""

    def __init__(self, conn: sqlite3.Connection, *, owned: bool) -> None:
        self._conn = conn
        self._owned = owned
        self._conn.execute(_CACHE_SCHEMA)

    @classmethod
    def open(cls, path: Path) -> SummaryCache:
        """A cache in its own file (created if need be)."""
        return cls(_connect(path), owned=True)

    @property
    def connection(self) -> sqlite3.Connection:
        return self._conn

    def get(self, key: str) -> str | None:
        """The summary JSON cached under ``key``, if any."""
        row = self._conn.execute("SELECT summary FROM cache WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put_many(self, entries: Sequence[tuple[str, str]]) -> None:
        """Cache ``(key, summary JSON)`` pairs, in the caller's transaction if one is open."""
        self._conn.executemany("INSERT OR REPLACE INTO cache VALUES (?, ?)", entries)

    def close(self) -> None:
        if self._owned:
            self._conn.close()


class JobStore:
    """The state of one batch job. Holds an exclusive lock (``STATE.lock``) while open, so
    that two runs never append to one output."""

    def __init__(self, path: Path, *, cache_path: Path | None = None) -> None:
        self.path = path
        self._lock = _lock(path)
        try:
            self._conn = _connect(path)
            self._conn.executescript(_SCHEMA)
            shared = cache_path is not None and _same(cache_path, path)
            if cache_path is None or shared:
                self.cache = SummaryCache(self._conn, owned=False)
            else:
                self.cache = SummaryCache.open(cache_path)
        except sqlite3.Error as err:
            self._lock.close()
            raise InputError(f"cannot use the job state: {err}", path=str(path)) from err
        except BaseException:
            self._lock.close()
            raise
        row = self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM results").fetchone()
        self._seq = int(row[0])

    # --- meta -----------------------------------------------------------------------------

    def meta(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self._conn.execute("SELECT key, value FROM meta")}

    def set_meta(self, values: Mapping[str, str]) -> None:
        with self._transaction():
            self._conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", values.items())

    def check_meta(self, wanted: Mapping[str, str]) -> None:
        """Refuse to resume a job started with another input, backend, model or prompts."""
        found = self.meta()
        for key, value in wanted.items():
            if key in found and found[key] != value:
                raise InputError(
                    f"this job was started with {key} {found[key]!r}, not {value!r}: "
                    "run it with the same settings to resume, or pass --fresh to start over",
                    path=str(self.path),
                )

    def reset(self) -> None:
        """Forget the job (``--fresh``): results and meta go, the cache stays."""
        with self._transaction():
            self._conn.execute("DELETE FROM results")
            self._conn.execute("DELETE FROM meta")
        self._seq = 0

    # --- results --------------------------------------------------------------------------

    def is_empty(self) -> bool:
        return self._conn.execute("SELECT 1 FROM results LIMIT 1").fetchone() is None

    def done_keys(self) -> set[str]:
        return {str(row[0]) for row in self._conn.execute("SELECT key FROM results")}

    def add(self, records: Sequence[StoredRecord], cached: Sequence[tuple[str, str]] = ()) -> None:
        """Commit finished records (and new cache entries) in one transaction; a key already
        stored keeps its first record."""
        shared_cache = self.cache.connection is self._conn
        if cached and not shared_cache:
            with _transaction(self.cache.connection):
                self.cache.put_many(cached)
        with self._transaction():
            if cached and shared_cache:
                self.cache.put_many(cached)
            rows = []
            for record in records:
                self._seq += 1
                rows.append(
                    (
                        record.key,
                        self._seq,
                        record.line,
                        record.status,
                        record.reason,
                        record.figures_unsupported,
                    )
                )
            self._conn.executemany("INSERT OR IGNORE INTO results VALUES (?, ?, ?, ?, ?, ?)", rows)

    def lines(self) -> Iterator[tuple[str, str]]:
        """``(key, output line)`` of every finished item, in the order they were committed."""
        cursor = self._conn.execute("SELECT key, line FROM results ORDER BY seq")
        for key, line in cursor:
            yield str(key), str(line)

    def totals(self) -> JobTotals:
        reasons: dict[str, int] = {}
        ok = errors = unsupported = 0
        query = (
            "SELECT status, reason, COUNT(*), SUM(figures_unsupported > 0) FROM results"
            " GROUP BY status, reason"
        )
        for status, reason, count, with_unsupported in self._conn.execute(query):
            if status == "ok":
                ok += int(count)
                unsupported += int(with_unsupported or 0)
            else:
                errors += int(count)
                reasons[str(reason)] = reasons.get(str(reason), 0) + int(count)
        return JobTotals(ok + errors, ok, errors, unsupported, reasons)

    def close(self) -> None:
        self.cache.close()
        self._conn.close()
        self._lock.close()

    def _transaction(self) -> contextlib.AbstractContextManager[None]:
        return _transaction(self._conn)


@dataclass(frozen=True, slots=True)
class Reconciled:
    """What :func:`reconcile` repaired: bytes of a torn last line cut, lines appended from
    the store, rows copied into the store from the output."""

    truncated_bytes: int
    appended: int
    backfilled: int


def reconcile(store: JobStore, output: Path) -> Reconciled:
    """Make ``output`` hold exactly one line per committed row (see the module docstring)."""
    with output.open("a+b") as stream:
        truncated = cut_torn_tail(stream)
        stream.seek(0)
        present: set[str] = set()
        missing_rows: list[StoredRecord] = []
        done = store.done_keys()
        for number, raw in enumerate(stream, start=1):
            text = raw.decode("utf-8", errors="replace").rstrip("\n")
            try:
                record = StoredRecord.from_line(text)
            except (ValueError, AttributeError, TypeError) as err:
                raise InputError(
                    "not a batch output line (another file? pass --fresh to start over)",
                    path=str(output),
                    line=number,
                ) from err
            present.add(record.key)
            if record.key not in done:
                missing_rows.append(record)
        if missing_rows:
            store.add(missing_rows)
        appended = 0
        chunk: list[bytes] = []
        for key, line in store.lines():
            if key in present:
                continue
            present.add(key)
            chunk.append(line.encode() + b"\n")
            appended += 1
            if len(chunk) >= 1000:
                stream.write(b"".join(chunk))
                chunk.clear()
        stream.write(b"".join(chunk))
        stream.flush()
    return Reconciled(truncated, appended, len(missing_rows))


def check_writable(output: Path, *, source: Path) -> None:
    """Fail before any work when ``output`` cannot be appended to (or is the input)."""
    folder = output.parent
    if not folder.is_dir():
        raise InputError("cannot write: no such folder", path=str(output))
    if not os.access(folder, os.W_OK):
        raise InputError("cannot write: permission denied (folder)", path=str(output))
    if output.exists():
        if not output.is_file():
            raise InputError("is not a file", path=str(output))
        if not os.access(output, os.W_OK):
            raise InputError("cannot write: permission denied", path=str(output))
        if source.is_file() and os.path.samefile(source, output):
            raise InputError("is the input file; give another output", path=str(output))


# --- internals ---------------------------------------------------------------------------------


def cut_torn_tail(stream: IO[bytes]) -> int:
    """Truncate a last line that has no newline (a write cut short); return bytes removed."""
    size = stream.seek(0, os.SEEK_END)
    if size == 0:
        return 0
    stream.seek(size - 1)
    if stream.read(1) == b"\n":
        return 0
    end = size
    while end > 0:
        start = max(0, end - _BLOCK)
        stream.seek(start)
        block = stream.read(end - start)
        at = block.rfind(b"\n")
        if at >= 0:
            keep = start + at + 1
            break
        end = start
    else:
        keep = 0
    stream.truncate(keep)
    stream.seek(keep)
    return size - keep


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _lock(path: Path) -> IO[Any]:
    lock_path = path.with_name(path.name + ".lock")
    try:
        handle = lock_path.open("a")
    except OSError as err:
        raise InputError(
            f"cannot create the job's lock file: {err.strerror or err}", path=str(lock_path)
        ) from err
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        handle.close()
        raise InputError(
            "another batch job is using this state file (wait for it, or give --state)",
            path=str(path),
        ) from err
    return handle


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False
