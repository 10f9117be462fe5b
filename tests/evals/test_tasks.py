"""The eval tasks on tiny hand-made items: offline (or scripted fake) backend, no network."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from evals.core import Item, Sample
from evals.tasks import SentimentTask, SummariseTask, ValidateTask, make_task
from evals.tasks.summarise import figure_matches, gold_figures
from summariser import find_figures
from summariser.backends.fake import FakeBackend
from summariser.settings import Settings

OFFLINE = Settings(backend="offline")
ARTICLE = (
    "Acme Corp said on Tuesday that quarterly revenue rose 12% to $4.5 billion, beating "
    "forecasts. Net profit was $300 million, up from $250 million a year earlier. The company "
    "employs 2,400 people."
)


def validate_item(claim: str, supported: bool | None, kind: str = "k", **extra: Any) -> Item:
    return Item(
        id=f"c-{kind}-{claim[:8]}",
        kind=kind,
        input_ref="src#c",
        payload={"source": ARTICLE, "claims": [claim]},
        expected={"supported": supported, **extra},
    )


def run(task: Any, item: Item, settings: Settings = OFFLINE) -> Sample:
    sample: Sample = asyncio.run(task.run(item, settings))
    return sample


# --- validate --------------------------------------------------------------------------------


def test_validate_supported_claim() -> None:
    sample = run(ValidateTask(), validate_item("Revenue was $4,500 million.", True))
    assert sample.scores == {"caught": None, "false_alarm": 0.0, "flagged": 0.0, "correct": 1.0}
    assert sample.loss == 0.0
    (figure,) = sample.output["figures"]
    assert (figure["text"], figure["status"], figure["reason"]) == (
        "$4,500 million",
        "supported",
        "exact",
    )
    assert figure["evidence"] == ["$4.5 billion"]
    assert sample.highlight is not None
    (span,) = sample.highlight["spans"]
    assert sample.highlight["text"][span["start"] : span["end"]] == "$4.5 billion"
    assert span["status"] == "supported"
    assert sample.highlight["note"] == "Revenue was $4,500 million."


def test_validate_caught_and_missed() -> None:
    caught = run(ValidateTask(), validate_item("Net profit was $310 million.", False))
    assert caught.scores["caught"] == 1.0 and caught.scores["false_alarm"] is None
    assert caught.loss == 0.0
    assert caught.output["figures"][0]["status"] == "unsupported"
    assert caught.highlight is not None
    assert {s["status"] for s in caught.highlight["spans"]} == {"unsupported"}  # the hints
    false_alarm = run(ValidateTask(), validate_item("Net profit was $300 million.", False))
    assert false_alarm.scores["caught"] == 0.0 and false_alarm.loss == 1.0


def test_validate_without_a_right_answer_is_only_flagged() -> None:
    sample = run(ValidateTask(), validate_item("Profit rose 20%.", None, category="derived"))
    assert sample.scores == {"caught": None, "false_alarm": None, "flagged": 1.0, "correct": None}
    assert sample.loss == 0.0


def test_validate_aggregate() -> None:
    task = ValidateTask()
    items = [
        validate_item("Revenue rose 12%.", True, "verbatim"),
        validate_item("Revenue rose 13%.", True, "verbatim"),  # a false alarm (mislabelled)
        validate_item("Revenue rose 14%.", False, "percent_change"),
        validate_item("Revenue rose 12.0%.", False, "percent_change"),  # missed
        validate_item("Profit rose 20%.", None, "derived", category="derived"),
    ]
    samples = [run(task, i) for i in items]
    samples.append(
        Sample(
            id="e", kind="verbatim", input_ref="", output={}, expected={}, scores={}, error="boom"
        )
    )
    metrics = {(m.name, m.slice): m for m in task.aggregate(samples)}
    assert metrics[("error_rate", None)].value == pytest.approx(1 / 6)
    assert (metrics[("detection_rate", None)].value, metrics[("detection_rate", None)].count) == (
        0.5,
        2,
    )
    assert metrics[("false_alarm_rate", None)].value == 0.5
    assert metrics[("false_alarm_rate", None)].higher_is_better is False
    assert metrics[("correct_rate", None)].value == 0.5
    assert metrics[("detection_rate", "percent_change")].value == 0.5
    assert ("detection_rate", "verbatim") not in metrics  # no unsupported claim of that kind
    assert metrics[("derived_flagged_rate", None)].value == 1.0
    assert metrics[("derived_flagged_rate", None)].higher_is_better is False
    assert metrics[("detection_rate", None)].method == "wilson"


# --- summarise -------------------------------------------------------------------------------


def summarise_item(expected: dict[str, Any]) -> Item:
    return Item(id="a", kind="", input_ref="a.txt", payload={"text": ARTICLE}, expected=expected)


def test_summarise_offline_all_figures_supported() -> None:
    sample = run(SummariseTask(), summarise_item({}))
    assert sample.scores["figure_precision"] == 1.0
    assert sample.scores["unsupported_figures"] == 0.0
    assert sample.loss == 0.0
    assert sample.output["headline"]
    assert any(m["value_text"] == "$4.5 billion" for m in sample.output["metrics"])
    assert sample.tokens["prompt"] > 0 and sample.cost_usd is None  # counted; no price offline
    assert sample.highlight is None


def test_summarise_gold_recall() -> None:
    # $4.5 billion is in the article (written another way in the gold line); $9.99 is not
    gold = ["q3 revenue $4,500 million.", "q3 eps $9.99."]
    sample = run(SummariseTask(), summarise_item({"gold": gold}))
    assert sample.scores["gold_figures"] == 1.0
    assert sample.scores["gold_recall"] == 1.0
    assert sample.scores["gold_recall_at_5"] == 1.0
    assert sample.output["gold_not_in_source"] == ["$9.99"]
    assert sample.loss == 0.0


def test_summarise_key_figures() -> None:
    keys = [{"text": "$4.5 billion"}, {"text": "$7 billion"}]
    sample = run(SummariseTask(), summarise_item({"key_figures": keys}))
    assert sample.scores["key_figures_found"] == 0.5
    assert sample.loss == 0.5


def extraction(bullet: str, value: str) -> str:
    return json.dumps(
        {
            "headline": "Acme revenue rises",
            "bullets": [bullet],
            "metrics": [
                {
                    "entity": "Acme",
                    "metric": "net profit",
                    "value": value,
                    "period": None,
                    "change": None,
                    "quote": "Net profit was $300 million",
                }
            ],
            "sentiment": {"label": "positive", "score": 0.5, "rationale": "growth", "evidence": []},
            "entities": [],
        }
    )


def test_summarise_unsupported_figures_lower_precision() -> None:
    backend = FakeBackend()
    wrong = extraction("Revenue rose 12% to $4.7 billion.", "$300 million")
    backend.enqueue(wrong, wrong)  # the answer, and the same answer to the figures re-ask
    task = make_task("summarise", backend=backend)
    sample = run(task, summarise_item({}), Settings(backend="fake", model="fake-1"))
    # checked: "12%" and "$4.7 billion" of the bullet, "$300 million" of the metric
    assert sample.scores["figure_precision"] == pytest.approx(2 / 3)
    assert sample.scores["unsupported_bullets"] == 1.0
    assert sample.scores["unsupported_metrics"] == 0.0
    assert sample.loss == pytest.approx(1 / 3)
    assert sample.tokens["prompt"] > 0
    assert sample.highlight is not None
    assert "summary[0]: $4.7 billion" in sample.highlight["note"]
    assert any(s["status"] == "unsupported" for s in sample.highlight["spans"])
    metrics = {m.name: m for m in task.aggregate([sample])}
    assert metrics["figure_precision"].value == pytest.approx(2 / 3)
    assert metrics["figure_precision_pooled"].count == 3
    assert metrics["summaries_with_unsupported"].value == 1.0


def test_gold_figures_and_matching() -> None:
    supported, absent = gold_figures(ARTICLE, "revenue about $4.5 bln; profit $300 mln; eps $9.99")
    assert [f.text for f in supported] == ["$4.5 bln", "$300 mln"]
    assert [f.text for f in absent] == ["$9.99"]
    (gold,) = find_figures("about $4.5 billion")
    (ours,) = find_figures("$4.46 billion")
    (wrong,) = find_figures("4.5%")
    assert figure_matches(gold, ours)
    assert not figure_matches(gold, wrong)


# --- sentiment -------------------------------------------------------------------------------


def sentiment_item(text: str, expected: dict[str, Any], kind: str = "100") -> Item:
    return Item(id=text[:10], kind=kind, input_ref="", payload={"text": text}, expected=expected)


def test_sentiment_phrasebank_offline() -> None:
    sample = run(
        SentimentTask(),
        sentiment_item(
            "Operating profit rose sharply and sales grew strongly .", {"label": "positive"}
        ),
    )
    assert sample.output["label"] in ("positive", "negative", "neutral", "mixed")
    assert sample.scores == {"correct": float(sample.output["label"] == "positive")}
    assert sample.loss == 1.0 - sample.scores["correct"]


def scripted(label: str, score: float) -> FakeBackend:
    backend = FakeBackend()
    backend.enqueue(
        json.dumps(
            {
                "headline": "Sales rose",
                "bullets": [],
                "metrics": [],
                "sentiment": {"label": label, "score": score, "rationale": "", "evidence": []},
                "entities": [],
            }
        )
    )
    return backend


FAKE = Settings(backend="fake", model="fake-1")


def test_sentiment_fiqa_scores() -> None:
    sample = run(
        SentimentTask(backend=scripted("positive", 0.2)),
        sentiment_item("Sales rose", {"score": 0.5, "label": "positive"}, "post"),
        FAKE,
    )
    assert sample.output["score"] == 0.2
    assert sample.scores["squared_error"] == pytest.approx(0.09)
    assert sample.scores["sign_correct"] == 1.0
    assert sample.loss == pytest.approx(0.09 / 4)
    wrong_side = run(
        SentimentTask(backend=scripted("negative", -0.3)),
        sentiment_item("Sales rose", {"score": 0.5, "label": "positive"}),
        FAKE,
    )
    assert wrong_side.scores["sign_correct"] == 0.0


def test_sentiment_aggregates() -> None:
    task = SentimentTask()

    def labelled(kind: str, gold: str, pred: str) -> Sample:
        correct = float(gold == pred)
        return Sample(
            id="x",
            kind=kind,
            input_ref="",
            output={"label": pred, "score": 0.0},
            expected={"label": gold},
            scores={"correct": correct},
        )

    samples = [
        labelled("100", "positive", "positive"),
        labelled("100", "negative", "neutral"),
        labelled("50", "neutral", "neutral"),
        labelled("50", "neutral", "mixed"),
    ]
    metrics = {(m.name, m.slice): m for m in task.aggregate(samples)}
    assert metrics[("accuracy", None)].value == 0.5
    assert metrics[("accuracy", "100")].value == 0.5
    # overall: positive F1 1; negative F1 0 (tp 0, fn 1); neutral tp 1, fp 1, fn 1 -> 1/2
    assert metrics[("macro_f1", None)].value == pytest.approx(0.5)

    def scored(kind: str, pred: float, gold: float) -> Sample:
        return Sample(
            id="x",
            kind=kind,
            input_ref="",
            output={"label": "", "score": pred},
            expected={"score": gold},
            scores={
                "squared_error": (pred - gold) ** 2,
                "sign_correct": float((pred > 0) == (gold > 0)),
            },
        )

    samples = [scored("post", p, g) for p, g in [(0.1, 0.2), (0.2, 0.4), (0.3, 0.5), (0.4, 0.4)]]
    metrics = {(m.name, m.slice): m for m in task.aggregate(samples)}
    # pred 0.1..0.4 (mean 0.25), gold 0.2, 0.4, 0.5, 0.4 (mean 0.375):
    # sxy = (-.15)(-.175) + (-.05)(.025) + (.05)(.125) + (.15)(.025) = .035; sxx = .05; syy = .04750
    assert metrics[("pearson", None)].value == pytest.approx(0.035 / (0.05 * 0.0475) ** 0.5)
    # squared errors .01, .04, .04, 0 -> mean .0225
    assert metrics[("mse", None)].value == pytest.approx(0.0225)
    assert metrics[("mse", "post")].higher_is_better is False
    assert metrics[("sign_accuracy", None)].value == 1.0
