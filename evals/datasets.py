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

FiQA headlines may name several targets, each with a score; the item's gold ``score`` is their
mean (the pipeline gives one sentiment per text) and ``targets`` lists them. Its ``label`` is
the sign of the score with a neutral band: ``|score| <= NEUTRAL_BAND`` (0.05) is neutral.

``version`` is a short SHA-256 of every file read (relative path and bytes), so that runs on
different data never compare silently; a ``limit`` adds ``-n<limit>`` to it. ``limit`` picks
items round-robin across kinds, each kind in (kind, id) order, so a small slice still covers
every kind; the items keep their dataset order.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import Any

from evals.core import Dataset, Item, TaskName
from summariser.errors import SummariserError

NEUTRAL_BAND = 0.05
ENV_VAR = "SUMMARISER_EVAL_DATA"

VALIDATOR_SUPPORTED_KINDS = (
    "verbatim",
    "scale_rewrite",
    "scale_word",
    "percent_word",
    "hedged_round",
)
VALIDATOR_UNSUPPORTED_KINDS = ("digit_change", "decimal_shift", "scale_swap", "percent_change")
# Paraphrase suite figure labels (see its README): which make a bullet unsupported / faithful.
UNSUPPORTED_LABELS = frozenset({"wrong_value", "invented"})
FAITHFUL_LABELS = frozenset({"in_source", "rounded"})
PHRASEBANK_LABELS = ("positive", "negative", "neutral")
_AGREEMENT = {"50": "50", "66": "66", "75": "75", "all": "100", "100": "100"}

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


class DatasetError(SummariserError):
    """A dataset file is missing, unreadable or not in the expected form."""

    def __init__(self, message: str, *, path: Path | str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.line = line


class _Reader:
    """Reads files under ``root``, checking them, and hashes what it read."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._hash = hashlib.sha256()

    @property
    def digest(self) -> str:
        return self._hash.hexdigest()[:12]

    def path(self, relative: str) -> Path:
        return self.root / relative

    def folder(self, relative: str) -> Path:
        path = self.root / relative
        if not path.is_dir():
            raise DatasetError("folder not found", path=path)
        return path

    def text(self, path: Path) -> str:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise DatasetError("file not found", path=path) from None
        except OSError as err:
            raise DatasetError(f"cannot read: {err}", path=path) from err
        self._hash.update(str(path.relative_to(self.root)).encode() + b"\0" + data + b"\0")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise DatasetError(f"not UTF-8 ({err})", path=path) from None
        if not text.strip():
            raise DatasetError("empty file", path=path)
        return text

    def json(self, path: Path) -> Any:
        try:
            return json.loads(self.text(path))
        except json.JSONDecodeError as err:
            raise DatasetError(f"not valid JSON ({err})", path=path, line=err.lineno) from None

    def jsonl(self, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
        for number, line in enumerate(self.text(path).splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise DatasetError(f"not valid JSON ({err})", path=path, line=number) from None
            if not isinstance(row, dict):
                raise DatasetError("a line must be a JSON object", path=path, line=number)
            yield number, row


def _field(row: dict[str, Any], name: str, kind: type, path: Path, line: int | None) -> Any:
    value = row.get(name)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        got = "missing" if name not in row else f"a {type(value).__name__}"
        raise DatasetError(
            f"field {name!r} must be a {kind.__name__}, got {got}", path=path, line=line
        )
    return value


def _relative(reader: _Reader, path: Path) -> str:
    return str(path.relative_to(reader.root))


# --- loaders ----------------------------------------------------------------------------------


def _validator_suite(reader: _Reader) -> list[Item]:
    folder = reader.folder("validator_suite")
    cases = folder / "cases.jsonl"
    sources: dict[str, str] = {}
    items = []
    for line, row in reader.jsonl(cases):
        case_id = _field(row, "id", str, cases, line)
        source = _field(row, "source", str, cases, line)
        claim = _field(row, "claim", str, cases, line)
        expect = _field(row, "expect", str, cases, line)
        kind = _field(row, "kind", str, cases, line)
        if expect not in ("supported", "unsupported"):
            raise DatasetError(
                f"expect must be supported or unsupported, got {expect!r}", path=cases, line=line
            )
        if source not in sources:
            sources[source] = reader.text(folder / "sources" / f"{source}.txt")
        items.append(
            Item(
                id=case_id,
                kind=kind,
                input_ref=f"{source}#{case_id}",
                # one string object per source: the validator's index cache is keyed by it
                payload={"source": sources[source], "claims": [claim]},
                expected={"supported": expect == "supported"},
            )
        )
    return items


def paraphrase_category(labels: set[str] | frozenset[str]) -> str:
    """A bullet's expected verdict from its figures' labels (see the suite's README):
    ``unsupported``, ``faithful``, or the separate ``misattributed`` / ``derived``."""
    if labels & UNSUPPORTED_LABELS:
        return "unsupported"
    if labels <= FAITHFUL_LABELS:
        return "faithful"
    if "misattributed" in labels:
        return "misattributed"
    if "derived" in labels:
        return "derived"
    return "other:" + ",".join(sorted(labels - FAITHFUL_LABELS))


_EXPECTED_SUPPORTED: dict[str, bool | None] = {"faithful": True, "unsupported": False}


def _paraphrase_suite(reader: _Reader) -> list[Item]:
    suite = reader.folder("paraphrase_suite") / "claims.jsonl"
    items = []
    for line, row in reader.jsonl(suite):
        article_id = _field(row, "id", str, suite, line)
        source_path = _field(row, "source_path", str, suite, line)
        source = reader.text(reader.path("data") / source_path)
        for claim in _field(row, "claims", list, suite, line):
            if not isinstance(claim, dict):
                raise DatasetError("each claim must be an object", path=suite, line=line)
            figures = _field(claim, "figures", list, suite, line)
            if not all(isinstance(f, dict) and isinstance(f.get("label"), str) for f in figures):
                raise DatasetError("each figure needs a string label", path=suite, line=line)
            category = paraphrase_category({f["label"] for f in figures})
            error = claim.get("error")
            kind = (
                error
                if isinstance(error, str)
                else ("derived" if category == "derived" else "none")
            )
            bullet_id = _field(claim, "id", str, suite, line)
            items.append(
                Item(
                    id=bullet_id,
                    kind=kind,
                    input_ref=f"{article_id}#{bullet_id}",
                    payload={"source": source, "claims": [_field(claim, "text", str, suite, line)]},
                    expected={
                        "supported": _EXPECTED_SUPPORTED.get(category),
                        "category": category,
                        "figures": figures,
                    },
                )
            )
    return items


def _ectsum(reader: _Reader) -> list[Item]:
    transcripts = reader.folder("data/ectsum/val/ects")
    golds = reader.folder("data/ectsum/val/gt_summaries")
    items = []
    for path in sorted(transcripts.glob("*.txt")):
        gold = [line.strip() for line in reader.text(golds / path.name).splitlines()]
        items.append(
            Item(
                id=path.stem,
                kind="",
                input_ref=_relative(reader, path),
                payload={"text": reader.text(path)},
                expected={"gold": [line for line in gold if line]},
            )
        )
    if not items:
        raise DatasetError("no transcripts (*.txt)", path=transcripts)
    return items


def _phrasebank(reader: _Reader) -> list[Item]:
    path = reader.folder("data/financial_phrasebank") / "fpb.jsonl"
    items = []
    for line, row in reader.jsonl(path):
        sentence = _field(row, "sentence", str, path, line)
        label = _field(row, "label", str, path, line)
        agreement = str(row.get("max_agreement"))
        if label not in PHRASEBANK_LABELS:
            raise DatasetError(f"unknown label {label!r}", path=path, line=line)
        if agreement not in _AGREEMENT:
            raise DatasetError(f"unknown max_agreement {agreement!r}", path=path, line=line)
        items.append(
            Item(
                id=f"fpb-{line:04d}",
                kind=_AGREEMENT[agreement],
                input_ref=f"{_relative(reader, path)}:{line}",
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


def _fiqa(reader: _Reader) -> list[Item]:
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
                    kind, f"{kind}-{key}", f"{_relative(reader, path)}#{key}", sentence, targets
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
                "semeval", f"semeval-{n:04d}", f"{_relative(reader, path)}#{n}", title, targets
            )
        )
    ids = [item.id for item in items]
    if len(set(ids)) != len(ids):
        raise DatasetError("item ids repeat across the FiQA files", path=absa)
    return items


def _bbc(reader: _Reader) -> list[Item]:
    folder = reader.folder("data/bbc_business/articles")
    items = [
        Item(
            id=f"bbc-{path.stem}",
            kind="",
            input_ref=_relative(reader, path),
            payload={"text": reader.text(path)},
            expected={},
        )
        for path in sorted(folder.glob("*.txt"))
    ]
    if not items:
        raise DatasetError("no articles (*.txt)", path=folder)
    return items


def _seed(reader: _Reader) -> list[Item]:
    path = reader.folder("data/seed") / SEED_FILE
    return [
        Item(
            id="seed",
            kind="",
            input_ref=_relative(reader, path),
            payload={"text": reader.text(path)},
            expected={"key_figures": [dict(f) for f in SEED_KEY_FIGURES]},
        )
    ]


# --- registry ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    name: str
    task: TaskName
    load: Callable[[_Reader], list[Item]]
    description: str


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "validator-suite",
            "validate",
            _validator_suite,
            "numeric-claim suite: 13,873 claims, kept true or perturbed",
        ),
        DatasetSpec(
            "paraphrase-suite",
            "validate",
            _paraphrase_suite,
            "368 model-style summary bullets with labelled figures",
        ),
        DatasetSpec(
            "ectsum",
            "summarise",
            _ectsum,
            "ECTSum validation: 249 earnings-call transcripts with Reuters bullet summaries",
        ),
        DatasetSpec(
            "phrasebank",
            "sentiment",
            _phrasebank,
            "Financial PhraseBank: 2,479 sentences, 3 labels, by annotator agreement",
        ),
        DatasetSpec(
            "fiqa",
            "sentiment",
            _fiqa,
            "FiQA 2018 task 1 headlines and posts, SemEval-2017 task 5 headlines: scores -1..1",
        ),
        DatasetSpec("bbc", "summarise", _bbc, "348 BBC business articles (no gold)"),
        DatasetSpec(
            "seed",
            "summarise",
            _seed,
            "the seed article (Alibaba fiscal Q4 2026) with its key figures",
        ),
    )
}


def default_root() -> Path:
    """The ``shared`` folder beside the repository."""
    return Path(__file__).resolve().parents[1].parent / "shared"


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
    reader = _Reader(root)
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
