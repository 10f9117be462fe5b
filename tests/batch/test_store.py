"""The job store and reconcile: the output ends up with one line per finished item, whatever
moment a run was killed at."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from summariser.batch.store import JobStore, StoredRecord, reconcile
from summariser.errors import InputError


def record(item_id: str, status: str = "ok") -> StoredRecord:
    line = json.dumps({"id": item_id, "status": status, "metadata": {}})
    return StoredRecord(item_id, line, status, None if status == "ok" else "empty")


def ids(output: Path) -> list[str]:
    return [json.loads(line)["id"] for line in output.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobStore]:
    opened = JobStore(tmp_path / "out.jsonl.state.sqlite")
    yield opened
    opened.close()


def test_a_torn_last_line_is_cut_and_written_again(store: JobStore, tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    store.add([record("a"), record("b")])
    output.write_text(record("a").line + "\n" + record("b").line[:9], encoding="utf-8")
    result = reconcile(store, output)
    assert result.truncated_bytes == 9 and result.appended == 1
    assert ids(output) == ["a", "b"]


def test_a_committed_row_missing_from_the_output_is_appended(
    store: JobStore, tmp_path: Path
) -> None:
    output = tmp_path / "out.jsonl"
    store.add([record("a"), record("b"), record("c", "error")])
    output.write_text(record("a").line + "\n", encoding="utf-8")
    assert reconcile(store, output).appended == 2
    assert ids(output) == ["a", "b", "c"]


def test_reconcile_never_appends_an_id_twice(store: JobStore, tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    store.add([record("a"), record("b")])
    first = reconcile(store, output)
    second = reconcile(store, output)
    assert (first.appended, second.appended) == (2, 0)
    assert ids(output) == ["a", "b"]


def test_a_line_without_a_row_is_copied_into_the_store(store: JobStore, tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    output.write_text(record("x").line + "\n", encoding="utf-8")
    assert reconcile(store, output).backfilled == 1
    assert store.done_keys() == {"x"}
    assert ids(output) == ["x"]


def test_a_torn_first_line_leaves_an_empty_file(store: JobStore, tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    output.write_bytes(b'{"id": "a", "sta')
    assert reconcile(store, output).truncated_bytes == 16
    assert output.read_bytes() == b""


def test_an_output_that_is_not_ours_is_refused(store: JobStore, tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    output.write_text("hello world\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a batch output line"):
        reconcile(store, output)


def test_a_key_is_stored_once_and_totals_count_outcomes(store: JobStore) -> None:
    store.add([record("a"), record("b", "error")])
    store.add([record("a", "error")])  # a second record for "a" is ignored
    totals = store.totals()
    assert (totals.done, totals.ok, totals.errors, totals.reasons) == (2, 1, 1, {"empty": 1})


def test_state_survives_reopening_and_reset_keeps_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    first = JobStore(path)
    first.set_meta({"backend": "fake"})
    first.add([record("a")], [("key", '{"summary": 1}')])
    first.close()
    second = JobStore(path)
    assert second.meta() == {"backend": "fake"} and second.done_keys() == {"a"}
    second.reset()
    assert second.meta() == {} and second.is_empty()
    assert second.cache.get("key") == '{"summary": 1}'
    second.close()


def test_a_shared_cache_file_serves_two_jobs(tmp_path: Path) -> None:
    shared = tmp_path / "cache.sqlite"
    one = JobStore(tmp_path / "one.sqlite", cache_path=shared)
    one.add([record("a")], [("k", "S")])
    one.close()
    two = JobStore(tmp_path / "two.sqlite", cache_path=shared)
    assert two.cache.get("k") == "S" and two.done_keys() == set()
    two.close()


def test_two_runs_cannot_share_one_state(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    first = JobStore(path)
    with pytest.raises(InputError, match="another batch job"):
        JobStore(path)
    first.close()
    JobStore(path).close()


def test_the_store_uses_wal(store: JobStore) -> None:
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
