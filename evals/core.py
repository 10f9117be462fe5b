"""The shapes shared by datasets, tasks, the runner, reports and comparisons.

A :class:`Dataset` is a list of :class:`Item`; a :class:`Task` turns one item into one
:class:`Sample` (a line of ``samples.jsonl``) and a list of samples into aggregate
:class:`MetricValue` s (in ``summary.json``). Everything here is plain data: JSON in, JSON out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

from summariser.settings import Settings

TaskName = Literal["validate", "summarise", "sentiment"]


@dataclass(frozen=True, slots=True)
class Item:
    """One thing to evaluate.

    ``kind`` is the slice the item is reported under (perturbation kind, agreement level,
    error type, "headline"/"post"...; "" when there are no slices). ``payload`` is what the task
    needs (a source text and claims, an article, a sentence); ``expected`` the gold answer.
    ``input_ref`` says where the item came from (a path, or "source_id#claim_id").
    """

    id: str
    kind: str
    input_ref: str
    payload: dict[str, Any]
    expected: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Dataset:
    name: (
        str  # "validator-suite", "paraphrase-suite", "ectsum", "phrasebank", "fiqa", "bbc", "seed"
    )
    version: str  # a hash of the files read, so two runs on different data never compare silently
    task: TaskName
    items: tuple[Item, ...]
    description: str = ""
    root: str = ""  # the folder it was read from


@dataclass(slots=True)
class Sample:
    """One line of ``samples.jsonl``: one item's result.

    ``scores`` holds the item's contribution to each metric (``{"caught": 1.0}``; None when a
    metric does not apply to this item) and ``loss`` in [0, 1] ranks the worst items (1 =
    worst). ``highlight`` is what a report shows for the item: ``{"text": excerpt, "spans":
    [{"start", "end", "status", "label"}]}`` with offsets into ``text``.
    """

    id: str
    kind: str
    input_ref: str
    output: dict[str, Any]
    expected: dict[str, Any]
    scores: dict[str, float | None]
    loss: float = 0.0
    latency_s: float = 0.0
    tokens: dict[str, int] = field(default_factory=dict)  # prompt, completion, cached
    cost_usd: float | None = None
    error: str | None = None
    highlight: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Sample:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class MetricValue:
    """An aggregate metric with its count and a confidence interval (``low``..``high``).

    ``higher_is_better`` tells ``compare`` which way is a regression; ``slice`` is None for the
    overall figure and the item kind for a per-slice one.
    """

    name: str
    value: float | None
    count: int
    low: float | None = None
    high: float | None = None
    method: str = ""  # "wilson", "bootstrap", ""
    higher_is_better: bool = True
    slice: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Task(Protocol):
    """Runs one kind of evaluation: the validator alone, the summary pipeline, or sentiment."""

    name: TaskName

    async def run(self, item: Item, settings: Settings) -> Sample: ...

    def aggregate(self, samples: list[Sample]) -> list[MetricValue]: ...
