"""Dataset loaders: tiny fixture folders in the shared layout, every broken file named, the
stratified limit, and (marked ``data``) the real datasets' counts."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from evals.core import Item
from evals.datasets import (
    DATASETS,
    SEED_FILE,
    DatasetError,
    load_dataset,
    paraphrase_category,
    sentiment_label,
    stratified_first,
)
from summariser import SummariserError, check_claims


@pytest.fixture(autouse=True)
def _no_data_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUMMARISER_EVAL_DATA", raising=False)


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """A shared folder with two or three items of every dataset, written for these tests."""
    root = tmp_path / "shared"
    write(root / "validator_suite/sources/a.txt", "Sales rose 12% to $4.5 million in 2024.")
    write(root / "validator_suite/sources/b.txt", "Profit was 300 million euros.")
    cases = [
        {
            "id": "c1",
            "source": "a",
            "claim": "Sales rose 12%",
            "expect": "supported",
            "kind": "verbatim",
        },
        {
            "id": "c2",
            "source": "a",
            "claim": "Sales rose 13%",
            "expect": "unsupported",
            "kind": "percent_change",
        },
        {
            "id": "c3",
            "source": "b",
            "claim": "Profit was 300 million euros",
            "expect": "supported",
            "kind": "verbatim",
        },
        {
            "id": "c4",
            "source": "b",
            "claim": "Profit was 300 billion euros",
            "expect": "unsupported",
            "kind": "scale_swap",
        },
    ]
    write(root / "validator_suite/cases.jsonl", jsonl(cases))
    write(root / "data/bbc_business/articles/001.txt", "Shares fell 5% to 120p on Monday.")
    write(root / "data/bbc_business/articles/002.txt", "Output grew by 3.1% in the third quarter.")
    bullets = [
        {
            "id": "b1",
            "text": "Shares fell 5%.",
            "error": None,
            "figures": [{"text": "5%", "label": "in_source", "source_text": "5%", "hedge": None}],
        },
        {
            "id": "b2",
            "text": "Shares fell 6%.",
            "error": "changed_digit",
            "figures": [{"text": "6%", "label": "wrong_value", "source_text": "5%", "hedge": None}],
        },
        {
            "id": "b3",
            "text": "Shares halved.",
            "error": None,
            "figures": [{"text": "halved", "label": "derived", "source_text": None, "hedge": None}],
        },
        {
            "id": "b4",
            "text": "Output grew 5%.",
            "error": "misattributed",
            "figures": [
                {"text": "5%", "label": "misattributed", "source_text": "5%", "hedge": None}
            ],
        },
    ]
    write(
        root / "paraphrase_suite/claims.jsonl",
        jsonl(
            [{"id": "bbc_001", "source_path": "bbc_business/articles/001.txt", "claims": bullets}]
        ),
    )
    write(
        root / "data/ectsum/val/ects/AAA_q1_2021.txt", "revenue was $1.2 billion.\nwe grew 10%.\n"
    )
    write(
        root / "data/ectsum/val/gt_summaries/AAA_q1_2021.txt",
        "q1 revenue $1.2 billion.\n\nsees growth.\n",
    )
    fpb = [
        {"sentence": "Sales rose .", "label": "positive", "max_agreement": "all"},
        {"sentence": "Sales fell .", "label": "negative", "max_agreement": "50"},
        {"sentence": "The firm is in Oslo .", "label": "neutral", "max_agreement": "66"},
    ]
    write(root / "data/financial_phrasebank/fpb.jsonl", jsonl(fpb))
    absa = root / "data/fiqa_sentiment/fiqa_task1_absa"
    entry = {
        "sentence": "Acme beats forecasts",
        "info": [
            {"target": "Acme", "sentiment_score": "0.5"},
            {"target": "Rival", "sentiment_score": "-0.1"},
        ],
    }
    write(absa / "task1_headline_ABSA_train.json", json.dumps({"1": entry}))
    write(
        absa / "task1_headline_ABSA_test.json",
        json.dumps(
            {
                "2": {
                    "sentence": "Acme flat",
                    "info": [{"target": "Acme", "sentiment_score": "0.01"}],
                }
            }
        ),
    )
    write(
        absa / "task1_post_ABSA_train.json",
        json.dumps(
            {
                "10": {
                    "sentence": "$ACME to the moon",
                    "info": [{"target": "ACME", "sentiment_score": "0.9"}],
                }
            }
        ),
    )
    write(absa / "task1_post_ABSA_test.json", json.dumps({}))
    semeval = [
        {"id": 2, "company": "Acme", "title": "Acme warns on profit", "sentiment": -0.6},
        {"id": 2, "company": "Rival", "title": "Rival gains share", "sentiment": 0.3},
    ]
    write(
        root / "data/fiqa_sentiment/semeval2017_task5_headlines/SemEval2017Task5Headlines.json",
        json.dumps(semeval),
    )
    write(root / "data/seed" / SEED_FILE, "Revenue reached 8.971 billion yuan, up 40%.")
    return root


# --- each loader on its fixture --------------------------------------------------------------


def test_validator_suite(shared: Path) -> None:
    ds = load_dataset("validator-suite", shared)
    assert (ds.name, ds.task, len(ds.items), ds.root) == (
        "validator-suite",
        "validate",
        4,
        str(shared),
    )
    first = ds.items[0]
    assert (first.id, first.kind, first.input_ref) == ("c1", "verbatim", "a#c1")
    assert first.payload == {
        "source": "Sales rose 12% to $4.5 million in 2024.",
        "claims": ["Sales rose 12%"],
    }
    assert [i.expected["supported"] for i in ds.items] == [True, False, True, False]
    assert ds.items[0].payload["source"] is ds.items[1].payload["source"]  # one string per source


def test_paraphrase_suite(shared: Path) -> None:
    ds = load_dataset("paraphrase-suite", shared)
    assert [(i.id, i.kind) for i in ds.items] == [
        ("b1", "none"),
        ("b2", "changed_digit"),
        ("b3", "derived"),
        ("b4", "misattributed"),
    ]
    assert [i.expected["supported"] for i in ds.items] == [True, False, None, None]
    assert [i.expected["category"] for i in ds.items] == [
        "faithful",
        "unsupported",
        "derived",
        "misattributed",
    ]
    assert ds.items[0].payload == {
        "source": "Shares fell 5% to 120p on Monday.",
        "claims": ["Shares fell 5%."],
    }
    assert ds.items[1].expected["figures"][0]["label"] == "wrong_value"


@pytest.mark.parametrize(
    ("labels", "category"),
    [
        (set(), "faithful"),
        ({"in_source", "rounded"}, "faithful"),
        ({"in_source", "wrong_value"}, "unsupported"),
        ({"derived", "invented"}, "unsupported"),
        ({"misattributed", "derived"}, "misattributed"),
        ({"derived", "in_source"}, "derived"),
    ],
)
def test_paraphrase_category(labels: set[str], category: str) -> None:
    assert paraphrase_category(labels) == category


def test_ectsum(shared: Path) -> None:
    (item,) = load_dataset("ectsum", shared).items
    assert (item.id, item.kind) == ("AAA_q1_2021", "")
    assert item.payload["text"].startswith("revenue was $1.2 billion.")
    assert item.expected == {"gold": ["q1 revenue $1.2 billion.", "sees growth."]}


def test_phrasebank(shared: Path) -> None:
    ds = load_dataset("phrasebank", shared)
    assert [(i.id, i.kind, i.expected["label"]) for i in ds.items] == [
        ("fpb-0001", "100", "positive"),
        ("fpb-0002", "50", "negative"),
        ("fpb-0003", "66", "neutral"),
    ]
    assert ds.items[0].payload == {"text": "Sales rose ."}


def test_fiqa(shared: Path) -> None:
    items = {i.id: i for i in load_dataset("fiqa", shared).items}
    assert sorted(items) == ["headline-1", "headline-2", "post-10", "semeval-0000", "semeval-0001"]
    two_targets = items["headline-1"]
    assert two_targets.kind == "headline"
    assert two_targets.expected["score"] == pytest.approx(0.2)  # mean of 0.5 and -0.1
    assert two_targets.expected["label"] == "positive"
    assert [t["target"] for t in two_targets.expected["targets"]] == ["Acme", "Rival"]
    assert items["headline-2"].expected["label"] == "neutral"  # 0.01 is inside the band
    assert items["semeval-0000"].kind == "semeval"
    assert items["semeval-0000"].expected["label"] == "negative"
    assert items["post-10"].payload == {"text": "$ACME to the moon"}


@pytest.mark.parametrize(
    ("score", "label"),
    [
        (0.5, "positive"),
        (0.06, "positive"),
        (0.05, "neutral"),
        (0.0, "neutral"),
        (-0.05, "neutral"),
        (-0.051, "negative"),
    ],
)
def test_sentiment_label_band(score: float, label: str) -> None:
    assert sentiment_label(score) == label


def test_bbc_and_seed(shared: Path) -> None:
    bbc = load_dataset("bbc", shared)
    assert [(i.id, i.expected) for i in bbc.items] == [("bbc-001", {}), ("bbc-002", {})]
    (seed,) = load_dataset("seed", shared).items
    assert seed.payload["text"].startswith("Revenue reached")
    assert {"text": "8.971 billion yuan", "value": 8.971e9, "unit": "CNY"} in seed.expected[
        "key_figures"
    ]


# --- where the data is, and its version ------------------------------------------------------


def test_env_var_gives_the_root(shared: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUMMARISER_EVAL_DATA", str(shared))
    assert len(load_dataset("bbc").items) == 2


def test_missing_root(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="nowhere"):
        load_dataset("bbc", tmp_path / "nowhere")


def test_unknown_dataset_and_bad_limit(shared: Path) -> None:
    with pytest.raises(SummariserError, match="unknown dataset 'nope'"):
        load_dataset("nope", shared)
    with pytest.raises(SummariserError, match="limit"):
        load_dataset("bbc", shared, limit=-1)


def test_version_follows_the_content(shared: Path) -> None:
    before = load_dataset("bbc", shared).version
    assert before == load_dataset("bbc", shared).version
    assert len(before) == 12
    write(
        shared / "data/bbc_business/articles/002.txt", "Output grew by 3.2% in the third quarter."
    )
    assert load_dataset("bbc", shared).version != before
    assert load_dataset("bbc", shared, limit=1).version.endswith("-n1")


def test_every_dataset_has_a_task() -> None:
    assert set(DATASETS) == {
        "validator-suite",
        "paraphrase-suite",
        "ectsum",
        "phrasebank",
        "fiqa",
        "bbc",
        "seed",
    }
    assert {spec.task for spec in DATASETS.values()} == {"validate", "summarise", "sentiment"}


# --- broken files are named ------------------------------------------------------------------


BROKEN: list[tuple[str, str, str | bytes | None, str]] = [
    # (dataset, file to break, new content or None to delete, what the message must say)
    ("validator-suite", "validator_suite/cases.jsonl", None, "cases.jsonl: file not found"),
    (
        "validator-suite",
        "validator_suite/cases.jsonl",
        '{"id": "c1"}\n{not json\n',
        "cases.jsonl:1: field 'source'",
    ),
    (
        "validator-suite",
        "validator_suite/cases.jsonl",
        jsonl([{"id": "c1", "source": "a", "claim": "x", "expect": "maybe", "kind": "k"}]),
        "cases.jsonl:1: expect must be",
    ),
    ("validator-suite", "validator_suite/sources/b.txt", None, "sources/b.txt: file not found"),
    (
        "validator-suite",
        "validator_suite/sources/b.txt",
        b"\xff\xfe bad",
        "sources/b.txt: not UTF-8",
    ),
    ("validator-suite", "validator_suite/sources/b.txt", "  \n", "sources/b.txt: empty file"),
    (
        "paraphrase-suite",
        "paraphrase_suite/claims.jsonl",
        "\n{oops\n",
        "claims.jsonl:2: not valid JSON",
    ),
    (
        "paraphrase-suite",
        "data/bbc_business/articles/001.txt",
        None,
        "articles/001.txt: file not found",
    ),
    (
        "ectsum",
        "data/ectsum/val/gt_summaries/AAA_q1_2021.txt",
        None,
        "gt_summaries/AAA_q1_2021.txt: file not found",
    ),
    (
        "phrasebank",
        "data/financial_phrasebank/fpb.jsonl",
        jsonl([{"sentence": "x", "label": "up", "max_agreement": "all"}]),
        "fpb.jsonl:1: unknown label 'up'",
    ),
    (
        "phrasebank",
        "data/financial_phrasebank/fpb.jsonl",
        jsonl([{"sentence": "x", "label": "positive", "max_agreement": "90"}]),
        "fpb.jsonl:1: unknown max_agreement",
    ),
    (
        "fiqa",
        "data/fiqa_sentiment/fiqa_task1_absa/task1_post_ABSA_test.json",
        '{"5": {"sentence": "x", "info": [{"sentiment_score": "high"}]}}',
        "task1_post_ABSA_test.json: entry 5: sentiment score 'high'",
    ),
    (
        "fiqa",
        "data/fiqa_sentiment/fiqa_task1_absa/task1_post_ABSA_test.json",
        '{"5": {"sentence": "x", "info": [{"sentiment_score": "1.5"}]}}',
        "outside -1..1",
    ),
    (
        "fiqa",
        "data/fiqa_sentiment/semeval2017_task5_headlines/SemEval2017Task5Headlines.json",
        "[{",
        "SemEval2017Task5Headlines.json:1: not valid JSON",
    ),
    ("bbc", "data/bbc_business/articles/002.txt", b"\xc3\x28", "articles/002.txt: not UTF-8"),
    ("seed", f"data/seed/{SEED_FILE}", None, f"{SEED_FILE}: file not found"),
]


@pytest.mark.parametrize(
    ("name", "relative", "content", "message"), BROKEN, ids=[f"{b[0]}:{b[3][:30]}" for b in BROKEN]
)
def test_broken_files_are_named(
    shared: Path, name: str, relative: str, content: str | bytes | None, message: str
) -> None:
    path = shared / relative
    if content is None:
        path.unlink()
    else:
        write(path, content)
    with pytest.raises(DatasetError) as caught:
        load_dataset(name, shared)
    assert message in str(caught.value)
    assert caught.value.path.endswith(Path(relative.split("/")[-1]).name)


def test_missing_folders_are_named(shared: Path) -> None:
    for path in (shared / "data/bbc_business/articles").iterdir():
        path.unlink()
    with pytest.raises(DatasetError, match="articles: no articles"):
        load_dataset("bbc", shared)
    (shared / "data/bbc_business/articles").rmdir()
    with pytest.raises(DatasetError, match="articles: folder not found"):
        load_dataset("bbc", shared)


# --- limit -----------------------------------------------------------------------------------


def item(id: str, kind: str) -> Item:
    return Item(id=id, kind=kind, input_ref="", payload={}, expected={})


def test_limit_takes_every_kind_round_robin_in_dataset_order() -> None:
    items = [
        item("a3", "a"),
        item("b1", "b"),
        item("a1", "a"),
        item("a2", "a"),
        item("c1", "c"),
        item("b2", "b"),
    ]
    # kinds a, b, c in turn, each by id: a1, b1, c1, then a2, b2, then a3
    assert [i.id for i in stratified_first(items, 3)] == ["b1", "a1", "c1"]
    assert [i.id for i in stratified_first(items, 5)] == ["b1", "a1", "a2", "c1", "b2"]
    assert [i.id for i in stratified_first(items, 10)] == [i.id for i in items]
    assert stratified_first(items, 0) == []


def test_limit_on_a_dataset(shared: Path) -> None:
    ds = load_dataset("validator-suite", shared, limit=3)
    assert sorted(i.kind for i in ds.items) == ["percent_change", "scale_swap", "verbatim"]
    assert [i.id for i in load_dataset("phrasebank", shared, limit=2).items] == [
        "fpb-0001",
        "fpb-0002",
    ]


# --- the real data ---------------------------------------------------------------------------


@pytest.mark.data
@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("validator-suite", 13_873),
        ("paraphrase-suite", 368),
        ("ectsum", 249),
        ("phrasebank", 2_479),
        ("fiqa", 436 + 675 + 1_142),
        ("bbc", 348),
        ("seed", 1),
    ],
)
def test_real_datasets(shared_dir: Path, name: str, count: int) -> None:
    ds = load_dataset(name, shared_dir)
    assert len(ds.items) == count
    assert len({i.id for i in ds.items}) == count


@pytest.mark.data
def test_real_slices(shared_dir: Path) -> None:
    kinds = Counter(i.kind for i in load_dataset("phrasebank", shared_dir).items)
    assert kinds == {"100": 1163, "75": 575, "66": 417, "50": 324}
    paraphrase = Counter(
        i.expected["category"] for i in load_dataset("paraphrase-suite", shared_dir).items
    )
    assert paraphrase == {"faithful": 211, "unsupported": 105, "derived": 36, "misattributed": 16}
    small = load_dataset("validator-suite", shared_dir, limit=18)
    assert Counter(i.kind for i in small.items) == dict.fromkeys(
        Counter(i.kind for i in small.items), 2
    )
    assert len(set(i.kind for i in small.items)) == 9


@pytest.mark.data
def test_seed_key_figures_are_in_the_article(shared_dir: Path) -> None:
    (seed,) = load_dataset("seed", shared_dir).items
    texts = [k["text"] for k in seed.expected["key_figures"]]
    assert all(v.supported for v in check_claims(seed.payload["text"], texts))
