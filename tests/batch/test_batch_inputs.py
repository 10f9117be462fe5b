"""Batch inputs: JSONL lines and folders become articles or error items, streamed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from summariser.batch.inputs import Article, BadItem, item_key, iter_items, scan
from summariser.errors import InputError

TEXT = "Acme said revenue rose 18 percent to $1.2 billion."


def write_jsonl(path: Path, lines: list[object]) -> Path:
    path.write_text(
        "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines),
        encoding="utf-8",
    )
    return path


def test_jsonl_articles_carry_metadata_and_line(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": TEXT, "desk": "markets"}])
    [item] = iter_items(source)
    assert item == Article("a", TEXT, {"desk": "markets"}, 1)


def test_path_items_are_read_relative_to_the_jsonl(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "one.md").write_text(TEXT, encoding="utf-8")
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": 7, "path": "docs/one.md"}])
    [item] = iter_items(source)
    assert isinstance(item, Article)
    assert (item.id, item.text, item.source_format, item.key) == (7, TEXT, "markdown", "7")


@pytest.mark.parametrize(
    ("line", "reason", "item_id"),
    [
        ("{not json", "invalid_json_line", None),
        ("[1, 2]", "invalid_json_line", None),
        ({"text": TEXT}, "missing_id", None),
        ({"id": "", "text": TEXT}, "missing_id", None),
        ({"id": True, "text": TEXT}, "missing_id", None),
        ({"id": "x"}, "missing_text", "x"),
        ({"id": "x", "text": 3}, "missing_text", "x"),
        ({"id": "x", "text": "  \n"}, "empty", "x"),
        ({"id": "x", "path": "nowhere.txt"}, "file_not_found", "x"),
    ],
    ids=[
        "not-json",
        "not-object",
        "no-id",
        "blank-id",
        "bool-id",
        "no-text",
        "text-not-str",
        "blank-text",
        "missing-file",
    ],
)
def test_bad_lines_become_error_items_and_the_rest_runs(
    tmp_path: Path, line: object, reason: str, item_id: str | None
) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [line, {"id": "ok", "text": TEXT}])
    bad, good = list(iter_items(source))
    assert isinstance(bad, BadItem)
    assert (bad.reason, bad.id, bad.line) == (reason, item_id, 1)
    assert "line 1" in bad.message or "nowhere.txt" in bad.message
    assert isinstance(good, Article) and good.line == 2


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"\x00\x01binary", "binary"), (b"caf\xe9", "not_utf8"), (b"   ", "empty")],
    ids=["binary", "latin-1", "blank"],
)
def test_unreadable_files_get_a_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    (tmp_path / "a.txt").write_bytes(content)
    [item] = iter_items(tmp_path)
    assert isinstance(item, BadItem) and item.reason == reason and item.id == "a.txt"


def test_a_folder_is_walked_in_sorted_order_by_relative_path(tmp_path: Path) -> None:
    for name in ["b.txt", "a/z.html", "a/b.md", "c.pdf", "0.txt"]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(TEXT, encoding="utf-8")
    items = list(iter_items(tmp_path))
    assert [i.id for i in items] == ["0.txt", "a/b.md", "a/z.html", "b.txt"]
    assert [i.source_format for i in items if isinstance(i, Article)] == [
        "text",
        "markdown",
        "html",
        "text",
    ]
    assert scan(tmp_path).items == 4


def test_scan_counts_items_and_finds_duplicates_with_both_lines(tmp_path: Path) -> None:
    source = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"id": "a", "text": TEXT},
            "",
            {"id": 1, "text": TEXT},
            {"id": "a", "text": TEXT},
            {"id": "1", "text": TEXT},
            "garbage",
        ],
    )
    result = scan(source)
    assert result.items == 5
    assert result.duplicates == [("a", 1, 4), ("1", 3, 5)]


def test_dedupe_keeps_the_first(tmp_path: Path) -> None:
    source = write_jsonl(
        tmp_path / "in.jsonl",
        [{"id": "a", "text": "first " + TEXT}, {"id": "a", "text": "second " + TEXT}],
    )
    items = list(iter_items(source, dedupe=True))
    assert len(items) == 1 and isinstance(items[0], Article)
    assert items[0].text.startswith("first")


def test_a_missing_input_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        list(iter_items(tmp_path / "absent.jsonl"))


def test_keys_keep_ids_and_line_numbers_apart() -> None:
    assert item_key(7, 3) == item_key("7", None) == "7"
    assert item_key(None, 3) != item_key("line 3", None)
