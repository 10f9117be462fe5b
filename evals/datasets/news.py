"""Loaders for articles to summarise: ECTSum transcripts, BBC business news, the seed article.

Stage: eval input (file I/O only). In: a :class:`~evals.datasets.reader.Reader` on the data
folder. Out: ``summarise`` items whose ``payload`` is the article text and whose ``expected``
is the gold: ECTSum's Reuters bullet lines (``gold``), nothing for BBC, and for the seed article
the key figures a summary must report (``key_figures``).
"""

from __future__ import annotations

from typing import Any

from evals.core import Item
from evals.datasets.reader import DatasetError, Reader, relative_path

SEED_FILE = "alibaba_fy2026_q4_article.txt"
# The figures a summary of the seed article must report, as written there, with the value and
# unit the validator reads from them.
SEED_KEY_FIGURES: tuple[dict[str, Any], ...] = (
    {"text": "8.971 billion yuan", "value": 8.971e9, "unit": "CNY"},  # AI product revenue
    {"text": "40%", "value": 40.0, "unit": "%"},  # cloud external revenue growth
    {"text": "35%", "value": 35.0, "unit": "%"},  # growth the quarter before
    {"text": "30%", "value": 30.0, "unit": "%"},  # AI share of external revenue
    {"text": "32.8%", "value": 32.8, "unit": "%"},  # IaaS market share
    {"text": "8 billion yuan", "value": 8e9, "unit": "CNY"},  # ARR exceeded
    {"text": "10 billion yuan", "value": 1e10, "unit": "CNY"},  # ARR in the June quarter
    {"text": "30 billion yuan", "value": 3e10, "unit": "CNY"},  # ARR by year-end
)


def ectsum(reader: Reader) -> list[Item]:
    """The ECTSum validation transcripts, each with its gold summary lines."""
    transcripts = reader.folder("data/ectsum/val/ects")
    golds = reader.folder("data/ectsum/val/gt_summaries")
    items = []
    for path in sorted(transcripts.glob("*.txt")):
        gold = [line.strip() for line in reader.text(golds / path.name).splitlines()]
        items.append(
            Item(
                id=path.stem,
                kind="",
                input_ref=relative_path(reader, path),
                payload={"text": reader.text(path)},
                expected={"gold": [line for line in gold if line]},
            )
        )
    if not items:
        raise DatasetError("no transcripts (*.txt)", path=transcripts)
    return items


def bbc(reader: Reader) -> list[Item]:
    """The BBC business articles (no gold)."""
    folder = reader.folder("data/bbc_business/articles")
    items = [
        Item(
            id=f"bbc-{path.stem}",
            kind="",
            input_ref=relative_path(reader, path),
            payload={"text": reader.text(path)},
            expected={},
        )
        for path in sorted(folder.glob("*.txt"))
    ]
    if not items:
        raise DatasetError("no articles (*.txt)", path=folder)
    return items


def seed(reader: Reader) -> list[Item]:
    """The seed article, with the key figures a summary of it must report."""
    path = reader.folder("data/seed") / SEED_FILE
    return [
        Item(
            id="seed",
            kind="",
            input_ref=relative_path(reader, path),
            payload={"text": reader.text(path)},
            expected={"key_figures": [dict(f) for f in SEED_KEY_FIGURES]},
        )
    ]
