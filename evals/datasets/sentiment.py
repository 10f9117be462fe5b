"""Loaders for sentiment data: Financial PhraseBank, and FiQA / SemEval-2017 scored headlines.

Stage: eval input (file I/O only). In: a :class:`~evals.datasets.reader.Reader` on the data
folder. Out: ``sentiment`` items whose ``payload`` is one sentence or headline and whose
``expected`` is its gold ``label`` (PhraseBank; ``kind`` is the annotator agreement) or its gold
``score`` in -1..1 with that score's label (FiQA and SemEval; ``kind`` is ``headline``, ``post``
or ``semeval``).

FiQA headlines may name several targets, each with a score; the item's gold ``score`` is their
mean (the pipeline gives one sentiment per text) and ``targets`` lists them. Its ``label`` is
the sign of the score with a neutral band: ``|score| <= NEUTRAL_BAND`` (0.05) is neutral.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evals.core import Item
from evals.datasets.reader import DatasetError, Reader, checked_field, relative_path

NEUTRAL_BAND = 0.05
PHRASEBANK_LABELS = ("positive", "negative", "neutral")
_AGREEMENT = {"50": "50", "66": "66", "75": "75", "all": "100", "100": "100"}


def phrasebank(reader: Reader) -> list[Item]:
    """The Financial PhraseBank sentences, each with its label; kind is the annotator agreement."""
    path = reader.folder("data/financial_phrasebank") / "fpb.jsonl"
    items = []
    for line, row in reader.jsonl(path):
        sentence = checked_field(row, "sentence", str, path, line)
        label = checked_field(row, "label", str, path, line)
        agreement = str(row.get("max_agreement"))
        if label not in PHRASEBANK_LABELS:
            raise DatasetError(f"unknown label {label!r}", path=path, line=line)
        if agreement not in _AGREEMENT:
            raise DatasetError(f"unknown max_agreement {agreement!r}", path=path, line=line)
        items.append(
            Item(
                id=f"fpb-{line:04d}",
                kind=_AGREEMENT[agreement],
                input_ref=f"{relative_path(reader, path)}:{line}",
                payload={"text": sentence},
                expected={"label": label},
            )
        )
    return items


def sentiment_label(score: float, band: float = NEUTRAL_BAND) -> str:
    """positive / negative by the sign of ``score``; neutral within ``band`` of zero."""
    if score > band:
        return "positive"
    if score < -band:
        return "negative"
    return "neutral"


_FIQA_FILES = (
    ("headline", "task1_headline_ABSA_train.json"),
    ("headline", "task1_headline_ABSA_test.json"),
    ("post", "task1_post_ABSA_train.json"),
    ("post", "task1_post_ABSA_test.json"),
)


def _score(value: Any, path: Path, where: str) -> float:
    try:
        score = float(value)
    except (TypeError, ValueError):
        raise DatasetError(
            f"{where}: sentiment score {value!r} is not a number", path=path
        ) from None
    if not -1.0 <= score <= 1.0:
        raise DatasetError(f"{where}: sentiment score {score} is outside -1..1", path=path)
    return score


def _fiqa_item(kind: str, item_id: str, ref: str, text: str, targets: list[dict[str, Any]]) -> Item:
    score = sum(t["score"] for t in targets) / len(targets)
    return Item(
        id=item_id,
        kind=kind,
        input_ref=ref,
        payload={"text": text},
        expected={"score": score, "label": sentiment_label(score), "targets": targets},
    )


def fiqa(reader: Reader) -> list[Item]:
    """The FiQA headlines and posts and the SemEval-2017 headlines, each with its gold score."""
    absa = reader.folder("data/fiqa_sentiment/fiqa_task1_absa")
    items = []
    for kind, name in _FIQA_FILES:
        path = absa / name
        data = reader.json(path)
        if not isinstance(data, dict):
            raise DatasetError("expected an object of id -> entry", path=path)
        for key, entry in data.items():
            try:
                sentence = entry["sentence"]
                info = entry["info"]
                targets = [
                    {
                        "target": str(i.get("target", "")),
                        "score": _score(i["sentiment_score"], path, f"entry {key}"),
                    }
                    for i in info
                ]
            except (KeyError, TypeError):
                raise DatasetError(
                    f"entry {key}: needs sentence and info[].sentiment_score", path=path
                ) from None
            if not isinstance(sentence, str) or not sentence.strip() or not targets:
                raise DatasetError(f"entry {key}: empty sentence or no target", path=path)
            items.append(
                _fiqa_item(
                    kind, f"{kind}-{key}", f"{relative_path(reader, path)}#{key}", sentence, targets
                )
            )
    path = (
        reader.folder("data/fiqa_sentiment/semeval2017_task5_headlines")
        / "SemEval2017Task5Headlines.json"
    )
    data = reader.json(path)
    if not isinstance(data, list):
        raise DatasetError("expected a list of headlines", path=path)
    for n, entry in enumerate(data):
        # the file's own ids repeat, so items are numbered by position
        try:
            title, company = entry["title"], str(entry.get("company", ""))
            score = _score(entry["sentiment"], path, f"entry {n}")
        except (KeyError, TypeError):
            raise DatasetError(f"entry {n}: needs title and sentiment", path=path) from None
        if not isinstance(title, str) or not title.strip():
            raise DatasetError(f"entry {n}: empty title", path=path)
        targets = [{"target": company, "score": score}]
        items.append(
            _fiqa_item(
                "semeval", f"semeval-{n:04d}", f"{relative_path(reader, path)}#{n}", title, targets
            )
        )
    ids = [item.id for item in items]
    if len(set(ids)) != len(ids):
        raise DatasetError("item ids repeat across the FiQA files", path=absa)
    return items
