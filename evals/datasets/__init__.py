"""Dataset loaders: the shared evaluation data, read in place, as :class:`~evals.core.Dataset`.

Stage: eval input (file I/O only). In: a dataset name and the ``shared`` folder beside the
repository (or ``root``, or ``SUMMARISER_EVAL_DATA``). Out: a :class:`Dataset` whose items say
what the task gets (``payload``) and the gold answer (``expected``). The files are never copied
into the repository (their licences forbid it); every file read is checked, and a missing or
broken one raises :class:`DatasetError` naming it (and the line, for JSON lines).

=================  ==========  ================================================================
name               task        one item is
=================  ==========  ================================================================
validator-suite    validate    a claim (kind: its perturbation kind)
paraphrase-suite   validate    a summary bullet (kind: its error type, ``derived`` or ``none``)
ectsum             summarise   a validation-split transcript with its gold summary lines
phrasebank         sentiment   a sentence (kind: annotator agreement, "50", "66", "75", "100")
fiqa               sentiment   a headline or post (kind: ``headline``, ``post``, ``semeval``)
bbc                summarise   a BBC business article (no gold)
seed               summarise   the seed article, with the key figures it must yield
=================  ==========  ================================================================

This module is the registry (:data:`DATASETS`), :func:`load_dataset` and the ``limit`` and
``version`` logic. Reading and checking files is :mod:`evals.datasets.reader`; the loaders are
one module per family: :mod:`~evals.datasets.suites` (validator-suite, paraphrase-suite),
:mod:`~evals.datasets.news` (ectsum, bbc, seed), :mod:`~evals.datasets.sentiment` (phrasebank,
fiqa, and how a FiQA score becomes a label). Their public names are re-exported here.

``version`` is a short SHA-256 of every file read (relative path and bytes), so that runs on
different data never compare silently; a ``limit`` adds ``-n<limit>`` to it. ``limit`` picks
items round-robin across kinds, each kind in (kind, id) order, so a small slice still covers
every kind; the items keep their dataset order.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path

from evals.core import Dataset, Item, TaskName
from evals.datasets import news, sentiment, suites
from evals.datasets.news import SEED_FILE, SEED_KEY_FIGURES
from evals.datasets.reader import DatasetError, Reader
from evals.datasets.sentiment import NEUTRAL_BAND, PHRASEBANK_LABELS, sentiment_label
from evals.datasets.suites import (
    FAITHFUL_LABELS,
    UNSUPPORTED_LABELS,
    VALIDATOR_SUPPORTED_KINDS,
    VALIDATOR_UNSUPPORTED_KINDS,
    paraphrase_category,
)
from summariser.errors import SummariserError

__all__ = [
    "DATASETS",
    "ENV_VAR",
    "FAITHFUL_LABELS",
    "NEUTRAL_BAND",
    "PHRASEBANK_LABELS",
    "SEED_FILE",
    "SEED_KEY_FIGURES",
    "UNSUPPORTED_LABELS",
    "VALIDATOR_SUPPORTED_KINDS",
    "VALIDATOR_UNSUPPORTED_KINDS",
    "DatasetError",
    "DatasetSpec",
    "default_root",
    "load_dataset",
    "paraphrase_category",
    "sentiment_label",
    "stratified_first",
]

ENV_VAR = "SUMMARISER_EVAL_DATA"

# --- registry ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    name: str
    task: TaskName
    load: Callable[[Reader], list[Item]]
    description: str


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "validator-suite",
            "validate",
            suites.validator_suite,
            "numeric-claim suite: 13,873 claims, kept true or perturbed",
        ),
        DatasetSpec(
            "paraphrase-suite",
            "validate",
            suites.paraphrase_suite,
            "368 model-style summary bullets with labelled figures",
        ),
        DatasetSpec(
            "ectsum",
            "summarise",
            news.ectsum,
            "ECTSum validation: 249 earnings-call transcripts with Reuters bullet summaries",
        ),
        DatasetSpec(
            "phrasebank",
            "sentiment",
            sentiment.phrasebank,
            "Financial PhraseBank: 2,479 sentences, 3 labels, by annotator agreement",
        ),
        DatasetSpec(
            "fiqa",
            "sentiment",
            sentiment.fiqa,
            "FiQA 2018 task 1 headlines and posts, SemEval-2017 task 5 headlines: scores -1..1",
        ),
        DatasetSpec("bbc", "summarise", news.bbc, "348 BBC business articles (no gold)"),
        DatasetSpec(
            "seed",
            "summarise",
            news.seed,
            "the seed article (Alibaba fiscal Q4 2026) with its key figures",
        ),
    )
}


def default_root() -> Path:
    """The ``shared`` folder beside the repository."""
    return Path(__file__).resolve().parents[2].parent / "shared"


def load_dataset(name: str, root: Path | None = None, *, limit: int | None = None) -> Dataset:
    """Read the dataset ``name`` from ``root`` (else ``$SUMMARISER_EVAL_DATA``, else the
    ``shared`` folder beside the repository); ``limit`` keeps N items, stratified by kind."""
    spec = DATASETS.get(name)
    if spec is None:
        raise SummariserError(f"unknown dataset {name!r}: choose one of {', '.join(DATASETS)}")
    if limit is not None and limit < 0:
        raise SummariserError(f"limit must be 0 or more, got {limit}")
    if root is None:
        root = Path(os.environ[ENV_VAR]) if os.environ.get(ENV_VAR) else default_root()
    if not root.is_dir():
        raise DatasetError(
            "data folder not found (pass root or set SUMMARISER_EVAL_DATA)", path=root
        )
    reader = Reader(root)
    items = spec.load(reader)
    version = reader.digest
    if limit is not None:
        items = stratified_first(items, limit)
        version += f"-n{limit}"
    return Dataset(
        name=name,
        version=version,
        task=spec.task,
        items=tuple(items),
        description=spec.description,
        root=str(root),
    )


def stratified_first(items: list[Item], limit: int) -> list[Item]:
    """``limit`` items taken round-robin across kinds (kinds in sorted order, each kind's items
    by id), returned in their original order."""
    by_kind: dict[str, list[int]] = {}
    for index in sorted(range(len(items)), key=lambda i: (items[i].kind, items[i].id)):
        by_kind.setdefault(items[index].kind, []).append(index)
    chosen: list[int] = []
    for layer in zip_longest(*by_kind.values()):
        chosen.extend(i for i in layer if i is not None)
        if len(chosen) >= limit:
            break
    return [items[i] for i in sorted(chosen[:limit])]
