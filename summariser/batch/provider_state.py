"""The state of a provider batch job: one SQLite file in the work folder.

Stage: batch (edge: local disk only, no network). In: what ``summariser batch submit`` and
``collect`` learn (articles, their requests, the provider's batches, each result's verdict).
Out: the same, read back by a later command, so that the commands can run days apart and
``collect`` can run any number of times without writing an article twice.

Tables::

    meta      key -> value: model, base_url, mode ("api" or "local"), chunking settings
    articles  id, sha256 and text of the cleaned article, format, removed_lines, chunks,
              metadata (JSON), status (mapping, reducing, done, error), reason, message,
              written (1 once its record is in the output file)
    requests  custom_id, article, phase (map, reduce), chunk, data (the chunk text or the
              reduce notes), status (pending, submitted, ok, failed), attempt, batch,
              answer (the accepted JSON), feedback (what the resubmission tells the model)
    batches   id, phase, file, input_file_id, status, output and error file ids, counts,
              collected (1 once its results were read)
    attempts  every result read: custom_id, stage, chunk, outcome, finish_reason, usage

Every write is committed at once: a command killed half-way leaves a state the next
command can continue from.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from summariser.schema import Attempt, AttemptOutcome, Usage

Phase = Literal["map", "reduce"]
STATE_FILE = "provider-state.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, item_id TEXT NOT NULL, sha256 TEXT, text TEXT, format TEXT,
    removed_lines INTEGER, chunks INTEGER, metadata TEXT NOT NULL, status TEXT NOT NULL,
    reason TEXT, message TEXT, written INTEGER NOT NULL DEFAULT 0, seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS requests (
    custom_id TEXT PRIMARY KEY, article TEXT NOT NULL, phase TEXT NOT NULL, chunk INTEGER,
    data TEXT NOT NULL, status TEXT NOT NULL, attempt INTEGER NOT NULL, batch TEXT,
    answer TEXT, feedback TEXT
);
CREATE INDEX IF NOT EXISTS requests_article ON requests (article);
CREATE TABLE IF NOT EXISTS batches (
    id TEXT PRIMARY KEY, phase TEXT NOT NULL, file TEXT NOT NULL, input_file_id TEXT,
    status TEXT NOT NULL, output_file_id TEXT, error_file_id TEXT, counts TEXT,
    collected INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS attempts (
    n INTEGER PRIMARY KEY AUTOINCREMENT, custom_id TEXT NOT NULL, article TEXT NOT NULL,
    stage TEXT NOT NULL, chunk INTEGER, outcome TEXT NOT NULL, finish_reason TEXT,
    usage TEXT NOT NULL, detail TEXT
);
"""


@dataclass(frozen=True, slots=True)
class ArticleRow:
    id: str
    item_id: str | int | None  # the id as the input gave it, for the output record
    text: str | None
    format: str | None
    removed_lines: int
    chunks: int
    metadata: dict[str, Any]
    status: str
    reason: str | None
    message: str | None


@dataclass(frozen=True, slots=True)
class RequestRow:
    custom_id: str
    article: str
    phase: Phase
    chunk: int | None
    data: str
    status: str
    attempt: int
    batch: str | None
    answer: str | None
    feedback: str | None


@dataclass(frozen=True, slots=True)
class BatchRow:
    id: str
    phase: Phase
    file: str
    status: str
    output_file_id: str | None
    error_file_id: str | None
    counts: dict[str, int]
    collected: bool


class JobState:
    """The job's SQLite file, opened (and created) in ``work``."""

    def __init__(self, work: Path) -> None:
        work.mkdir(parents=True, exist_ok=True)
        self.path = work / STATE_FILE
        self.db = sqlite3.connect(self.path)
        # One commit per write keeps a killed command resumable; WAL keeps that cheap.
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    # --- meta ---------------------------------------------------------------------------

    def set_meta(self, **values: str) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", sorted(values.items()))

    def meta(self, key: str, default: str = "") -> str:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else default

    # --- articles -----------------------------------------------------------------------

    def add_article(
        self,
        id: str,
        item_id: str | int | None,
        metadata: dict[str, Any],
        *,
        text: str | None = None,
        sha256: str | None = None,
        format: str | None = None,
        removed_lines: int = 0,
        chunks: int = 0,
        status: str = "mapping",
        reason: str | None = None,
        message: str | None = None,
    ) -> bool:
        """Record an article; False (and nothing recorded) when its id is already taken."""
        seq = self.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        try:
            with self.db:
                self.db.execute(
                    "INSERT INTO articles (id, item_id, sha256, text, format, removed_lines,"
                    " chunks, metadata, status, reason, message, seq)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (id, json.dumps(item_id), sha256, text, format, removed_lines, chunks,
                     json.dumps(metadata), status, reason, message, seq),
                )  # fmt: skip
        except sqlite3.IntegrityError:
            return False
        return True

    def article(self, id: str) -> ArticleRow:
        row = self.db.execute(
            f"SELECT {_ARTICLE} FROM articles WHERE id = ?",
            (id,),
        ).fetchone()
        return _article(row)

    def articles(self, *, written: bool | None = None) -> Iterator[ArticleRow]:
        where = "" if written is None else f" WHERE written = {int(written)}"
        for row in self.db.execute(
            f"SELECT {_ARTICLE} FROM articles{where} ORDER BY seq"
        ).fetchall():
            yield _article(row)

    def set_article(
        self, id: str, status: str, reason: str | None = None, message: str = ""
    ) -> None:
        with self.db:
            self.db.execute(
                "UPDATE articles SET status = ?, reason = ?, message = ? WHERE id = ?",
                (status, reason, message or None, id),
            )

    def mark_written(self, id: str) -> None:
        with self.db:
            self.db.execute("UPDATE articles SET written = 1 WHERE id = ?", (id,))

    # --- requests -----------------------------------------------------------------------

    def add_request(
        self, custom_id: str, article: str, phase: Phase, chunk: int | None, data: str
    ) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO requests (custom_id, article, phase, chunk, data, status, attempt)"
                " VALUES (?, ?, ?, ?, ?, 'pending', 1)",
                (custom_id, article, phase, chunk, data),
            )

    def request(self, custom_id: str) -> RequestRow | None:
        row = self.db.execute(f"SELECT {_REQUEST} FROM requests WHERE custom_id = ?", (custom_id,))
        found = row.fetchone()
        return _request(found) if found else None

    def requests(
        self, *, article: str | None = None, status: str | None = None
    ) -> list[RequestRow]:
        clauses, args = [], []
        if article is not None:
            clauses.append("article = ?")
            args.append(article)
        if status is not None:
            clauses.append("status = ?")
            args.append(status)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self.db.execute(f"SELECT {_REQUEST} FROM requests{where} ORDER BY rowid", args)
        return [_request(r) for r in rows.fetchall()]

    def set_request(self, custom_id: str, **values: object) -> None:
        names = ", ".join(f"{k} = ?" for k in values)
        with self.db:
            self.db.execute(
                f"UPDATE requests SET {names} WHERE custom_id = ?", (*values.values(), custom_id)
            )

    # --- batches ------------------------------------------------------------------------

    def add_batch(self, id: str, phase: Phase, file: str, input_file_id: str | None) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO batches (id, phase, file, input_file_id, status)"
                " VALUES (?, ?, ?, ?, 'validating')",
                (id, phase, file, input_file_id),
            )

    def batches(self) -> list[BatchRow]:
        rows = self.db.execute(
            "SELECT id, phase, file, status, output_file_id, error_file_id, counts, collected"
            " FROM batches ORDER BY rowid"
        ).fetchall()
        return [
            BatchRow(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6] or "{}"), bool(r[7]))
            for r in rows
        ]

    def update_batch(
        self,
        id: str,
        status: str,
        output_file_id: str | None,
        error_file_id: str | None,
        counts: dict[str, int],
    ) -> None:
        with self.db:
            self.db.execute(
                "UPDATE batches SET status = ?, output_file_id = ?, error_file_id = ?, counts = ?"
                " WHERE id = ?",
                (status, output_file_id, error_file_id, json.dumps(counts), id),
            )

    def mark_collected(self, id: str) -> None:
        with self.db:
            self.db.execute("UPDATE batches SET collected = 1 WHERE id = ?", (id,))

    # --- attempts -----------------------------------------------------------------------

    def add_attempt(self, request: RequestRow, attempt: Attempt) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO attempts (custom_id, article, stage, chunk, outcome, finish_reason,"
                " usage, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (request.custom_id, request.article, attempt.stage, attempt.chunk,
                 attempt.outcome, attempt.finish_reason, attempt.usage.model_dump_json(),
                 attempt.detail),
            )  # fmt: skip

    def attempts(self, article: str) -> list[Attempt]:
        rows = self.db.execute(
            "SELECT stage, chunk, outcome, finish_reason, usage, detail FROM attempts"
            " WHERE article = ? ORDER BY n",
            (article,),
        ).fetchall()
        return [
            Attempt(
                stage=r[0],
                chunk=r[1],
                outcome=_outcome(r[2]),
                finish_reason=r[3],
                usage=Usage.model_validate_json(r[4]),
                latency_s=0.0,  # a batch answers within its window: no per-request latency
                detail=r[5],
            )
            for r in rows
        ]


_ARTICLE = "id, item_id, text, format, removed_lines, chunks, metadata, status, reason, message"
_REQUEST = "custom_id, article, phase, chunk, data, status, attempt, batch, answer, feedback"


def _request(r: tuple[Any, ...]) -> RequestRow:
    return RequestRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9])


def _article(r: tuple[Any, ...]) -> ArticleRow:
    return ArticleRow(
        r[0], json.loads(r[1]), r[2], r[3], r[4] or 0, r[5] or 0, json.loads(r[6]), r[7], r[8], r[9]
    )


_OUTCOMES: dict[str, AttemptOutcome] = {
    "ok": "ok",
    "invalid_json": "invalid_json",
    "schema_error": "schema_error",
    "unsupported_figures": "unsupported_figures",
    "refusal": "refusal",
    "truncated": "truncated",
}


def _outcome(value: str) -> AttemptOutcome:
    return _OUTCOMES.get(value, "error")
