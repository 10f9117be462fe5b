"""The HTML report: one self-contained page with its plots, and data always escaped."""

from __future__ import annotations

import re
from typing import Any

from evals.core import Sample
from evals.report import bar_chart, confusion_matrix, highlight_html, histogram, render_report


def summary(task: str = "validate") -> dict[str, Any]:
    caught = {
        "name": "caught",
        "value": 0.8,
        "count": 10,
        "low": 0.49,
        "high": 0.94,
        "method": "wilson",
        "higher_is_better": True,
        "slice": None,
    }
    alarm = {
        **caught,
        "name": "false_alarm",
        "value": 0.1,
        "low": 0.02,
        "high": 0.4,
        "higher_is_better": False,
    }
    return {
        "header": {
            "run_id": "r1",
            "task": task,
            "backend": "offline",
            "model": "offline-v1",
            "prompt": None,
            "dataset": {"name": "tiny<b>", "version": "v1", "size": 10},
        },
        "metrics": [caught, alarm],
        "slices": {
            "scale_swap": [{**caught, "slice": "scale_swap"}],
            "digit_change": [{**caught, "value": 0.5, "slice": "digit_change"}],
        },
        "errors": 1,
        "totals": {"tokens": {"prompt": 100}, "cost_usd": None, "wall_s": 1.5, "items": 3},
    }


def samples() -> list[Sample]:
    text = 'Revenue <script>alert("x")</script> rose to $5.2 billion'
    start = text.index("$5.2")
    return [
        Sample(
            "a",
            "scale_swap",
            "src#1",
            {"label": "positive"},
            {"label": "positive"},
            {"caught": 1.0},
            latency_s=0.2,
            tokens={"prompt": 40},
        ),
        Sample(
            "b",
            "digit_change",
            "src#2",
            {"label": "neutral"},
            {"label": "negative"},
            {"caught": 0.0},
            loss=1.0,
            latency_s=0.4,
            tokens={"prompt": 60},
            highlight={
                "text": text,
                "spans": [
                    {
                        "start": start,
                        "end": start + 12,
                        "status": "unsupported",
                        "label": "<img src=x>",
                    }
                ],
            },
        ),
        Sample("c<i>", "digit_change", "src#3", {}, {}, {}, loss=1.0, error="Boom: <b>bad</b>"),
    ]


def test_a_self_contained_page_with_plots() -> None:
    page = render_report(summary(), samples())
    assert page.startswith("<!doctype html>") and page.count("<svg") >= 5
    assert "caught by slice" in page and "scale_swap" in page and "latency per item" in page
    assert "<script" not in page.replace("&lt;script", "")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page)
    assert "http" not in page and "<link" not in page


def test_highlights_are_escaped_and_marked() -> None:
    page = render_report(summary(), samples())
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert '<mark class="bad" title="&lt;img src=x&gt;">$5.2 billion</mark>' in page
    assert "tiny&lt;b&gt;" in page and "c&lt;i&gt;" in page and "Boom: &lt;b&gt;" in page


def test_highlight_skips_bad_and_overlapping_spans() -> None:
    html = highlight_html(
        {
            "text": "abcdef",
            "spans": [
                {"start": 0, "end": 3, "status": "supported"},
                {"start": 2, "end": 4, "status": "hint"},
                {"start": 5, "end": 99, "status": "hint"},
                {"start": "x", "end": 1},
            ],
        }
    )
    assert html == (
        '<div class="excerpt"><mark class="ok" title="supported">abc</mark>'
        '<mark class="hint" title="hint">d</mark>e'
        '<mark class="hint" title="hint">f</mark></div>'
    )


def test_confusion_matrix_counts_expected_against_predicted() -> None:
    matrix = confusion_matrix(samples())
    assert matrix is not None and ">negative<" in matrix and ">positive<" in matrix
    assert confusion_matrix([samples()[2]]) is None


def test_charts_survive_edge_cases() -> None:
    assert "<svg" in histogram([1.0, 1.0, 1.0], "s")
    assert "no data" in histogram([], "s")
    assert "<svg" in bar_chart("m", [{"name": "m", "value": -0.3, "count": 3, "slice": "x"}])
    assert "No item lost" in render_report({"metrics": [], "slices": {}}, [])
