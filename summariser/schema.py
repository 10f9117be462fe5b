"""The shapes of data: what a model is asked to return, and the checked summary we return.

Stage: pure core (pydantic models only, no I/O). Two families:

- ``Extraction`` and ``Reduction``: what a backend answers for one chunk (extract prompt) and
  for the reduce step of a long article. Figures are strings as written in the article, so
  the validator reads them the same way it reads the article.
- ``Summary``: the product's output, with every figure's verdict and the provenance of the
  run. Its JSON Schema is exported to ``schemas/summary.schema.json`` (kept in the repo and
  checked by a test).
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SentimentLabel = Literal["positive", "negative", "neutral", "mixed"]
Direction = Literal["up", "down", "flat"]
FigureStatus = Literal["supported", "unsupported", "skipped"]
SourceFormat = Literal["text", "markdown", "html"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- what a backend returns ---------------------------------------------------------------


class ExtractedChange(_Strict):
    """A change as the article writes it: ``"40%"``, ``"2 percentage points"``, ``"$1.2bn"``."""

    value: str = Field(description="the change as written in the article, e.g. '40%'")
    direction: Direction


class ExtractedMetric(_Strict):
    entity: str = Field(description="company, segment or product the figure is about")
    metric: str = Field(description="what is measured, e.g. 'revenue', 'net profit', 'ARR'")
    value: str = Field(description="the figure exactly as written in the article")
    period: str | None = Field(description="the period it refers to, e.g. 'Q4 FY2026'")
    change: ExtractedChange | None
    quote: str = Field(description="the verbatim sentence of the article that states it")


class ExtractedSentiment(_Strict):
    label: SentimentLabel
    score: float = Field(description="from -1 (very negative) to 1 (very positive)")
    rationale: str = Field(description="one line")
    evidence: list[str] = Field(description="short verbatim quotes from the article")


class ExtractedEntitySentiment(_Strict):
    entity: str
    label: SentimentLabel
    score: float


class Extraction(_Strict):
    """One chunk's extraction: the answer to the extract prompt."""

    headline: str
    bullets: list[str]
    metrics: list[ExtractedMetric]
    sentiment: ExtractedSentiment
    entities: list[ExtractedEntitySentiment]


class Reduction(_Strict):
    """The answer to the reduce prompt: the whole article's headline, bullets, sentiment."""

    headline: str
    bullets: list[str]
    sentiment: ExtractedSentiment
    entities: list[ExtractedEntitySentiment]


# --- the checked summary ------------------------------------------------------------------


class TextSpan(_Strict):
    """A stretch of the cleaned article: ``article[start:end] == text``."""

    start: int
    end: int
    text: str


class FigureCheck(_Strict):
    """The validator's verdict on one figure of a headline, bullet or metric."""

    text: str
    value: float
    unit: str | None
    kind: str
    hedge: str | None
    status: FigureStatus
    reason: str
    evidence: list[TextSpan]
    hints: list[TextSpan]


class CheckedText(_Strict):
    """A headline or bullet with the verdict on each of its figures."""

    text: str
    supported: bool
    figures: list[FigureCheck]


class Change(_Strict):
    value: float | None = Field(description="the size of the change, in its unit")
    unit: str | None = Field(
        description="'%' for a relative change, 'pp' for points, else a currency"
    )
    direction: Direction
    text: str


class Metric(_Strict):
    entity: str
    metric: str
    value: float | None = Field(description="the scale-normalised value (8.971 billion -> 8.971e9)")
    value_text: str = Field(description="the figure as the model wrote it")
    unit: str | None = Field(description="ISO 4217 currency, '$', '%', 'pp', 'bp', 'x' or null")
    period: str | None
    change: Change | None
    quote: str
    span: TextSpan | None = Field(description="where the quote stands in the cleaned article")
    status: FigureStatus
    reason: str
    evidence: list[TextSpan]
    conflict: bool = Field(
        default=False,
        description="another chunk gave a different value for the same entity, metric and period",
    )


class EntitySentiment(_Strict):
    entity: str
    label: SentimentLabel
    score: float = Field(ge=-1.0, le=1.0)


class Sentiment(_Strict):
    label: SentimentLabel
    score: float = Field(ge=-1.0, le=1.0)
    rationale: str
    evidence: list[TextSpan] = Field(description="quotes located in the cleaned article")
    entities: list[EntitySentiment]


class UnsupportedFigure(_Strict):
    where: str = Field(description="'headline', 'summary[2]', 'metrics[0]' or 'metrics[0].change'")
    text: str
    reason: str


class ValidationReport(_Strict):
    figures_supported: int
    figures_unsupported: int
    unsupported: list[UnsupportedFigure]
    dropped: int = Field(description="unsupported items removed by --drop-unsupported")


class Usage(_Strict):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
        )


AttemptOutcome = Literal[
    "ok", "invalid_json", "schema_error", "unsupported_figures", "refusal", "truncated", "error"
]


class Attempt(_Strict):
    stage: Literal["extract", "reask", "reduce"]
    chunk: int | None
    outcome: AttemptOutcome
    finish_reason: str | None
    usage: Usage
    latency_s: float
    detail: str | None = None


class PromptRef(_Strict):
    id: str
    version: str
    sha256: str


class ChunkingInfo(_Strict):
    encoding: str
    budget_tokens: int
    overlap_tokens: int
    chunks: int


class Provenance(_Strict):
    backend: str
    model: str
    prompt: PromptRef
    reduce_prompt: PromptRef | None
    chunking: ChunkingInfo
    attempts: list[Attempt]
    usage: Usage
    estimated_cost_usd: float | None
    latency_s: float
    summariser_version: str


class SourceInfo(_Strict):
    format: SourceFormat
    chars: int = Field(description="length of the cleaned article")
    sha256: str = Field(description="hash of the cleaned article")
    removed_lines: int = Field(description="page furniture removed by cleaning")


class Summary(_Strict):
    headline: CheckedText
    summary: list[CheckedText]
    metrics: list[Metric]
    sentiment: Sentiment
    validation: ValidationReport
    provenance: Provenance
    source: SourceInfo


# --- JSON Schema for structured output ----------------------------------------------------


@cache
def strict_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema in the form OpenAI's strict structured output accepts: every
    object closed (``additionalProperties: false``) with all its properties required (optional
    ones are nullable instead), and no keywords strict mode rejects.

    Built once per model and shared by every request (building it took 40% of an offline
    summary's time): callers must not change it."""
    schema = copy.deepcopy(model.model_json_schema())

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("default", "title", "minimum", "maximum", "format"):
                node.pop(key, None)
            if node.get("type") == "object" and "properties" in node:
                node["additionalProperties"] = False
                node["required"] = list(node["properties"])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(schema)
    return schema


def export_schema() -> str:
    """The JSON Schema of :class:`Summary`, as committed in ``schemas/summary.schema.json``."""
    import json

    return json.dumps(Summary.model_json_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":  # python -m summariser.schema > schemas/summary.schema.json
    print(export_schema(), end="")
