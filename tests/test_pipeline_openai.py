"""The whole pipeline over the real openai SDK and a scripted OpenAI-compatible server:
a truncated JSON answer, then a hallucinated figure, then a faithful answer."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx2

from summariser.backends.openai import OpenAIBackend
from summariser.pipeline import asummarise
from summariser.settings import Settings

ARTICLE = (
    "Tidewater Mills said third-quarter sales fell 4% to $611 million as paper demand "
    "weakened, and it cut its full-year forecast to $2.3 billion."
)
GOOD = {
    "headline": "Tidewater Mills sales fall 4% to $611 million",
    "bullets": ["Third-quarter sales fell 4% to $611 million.", "Forecast cut to $2.3 billion."],
    "metrics": [
        {
            "entity": "Tidewater Mills",
            "metric": "sales",
            "value": "$611 million",
            "period": "third quarter",
            "change": {"value": "4%", "direction": "down"},
            "quote": "Tidewater Mills said third-quarter sales fell 4% to $611 million as paper "
            "demand weakened, and it cut its full-year forecast to $2.3 billion.",
        }
    ],
    "sentiment": {
        "label": "negative",
        "score": -0.5,
        "rationale": "Sales fell and the forecast was cut.",
        "evidence": ["cut its full-year forecast"],
    },
    "entities": [{"entity": "Tidewater Mills", "label": "negative", "score": -0.5}],
}


def completion(content: str, prompt: int, completion_tokens: int) -> dict[str, Any]:
    return {
        "id": "c",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": prompt // 2},
        },
    }


def test_reasks_through_the_real_sdk_sum_usage_and_end_faithful() -> None:
    wrong = dict(GOOD, bullets=["Third-quarter sales fell 4% to $661 million."])
    replies = [
        completion(json.dumps(GOOD)[:80], 500, 20),  # cut short: not valid JSON
        completion(json.dumps(wrong), 600, 200),  # a figure the article does not hold
        completion(json.dumps(GOOD), 700, 210),
    ]
    seen: list[dict[str, Any]] = []

    def handle(request: httpx2.Request) -> httpx2.Response:
        seen.append(json.loads(request.content))
        return httpx2.Response(200, json=replies[len(seen) - 1])

    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handle))
    settings = Settings(backend="openai", model="gpt-4o-mini", api_key="sk-test")
    backend = OpenAIBackend(settings, http_client=client)
    summary = asyncio.run(asummarise(ARTICLE, settings=settings, backend=backend))

    assert [a.outcome for a in summary.provenance.attempts] == [
        "invalid_json",
        "unsupported_figures",
        "ok",
    ]
    assert summary.provenance.usage.prompt_tokens == 1800
    assert summary.provenance.usage.completion_tokens == 430
    assert summary.provenance.usage.cached_tokens == 900
    assert summary.provenance.estimated_cost_usd is not None
    assert summary.validation.figures_unsupported == 0
    assert summary.metrics[0].value == 611e6
    assert "$661 million" in seen[2]["messages"][-1]["content"]
    assert seen[0]["response_format"]["type"] == "json_schema"
    assert seen[0]["messages"][-1]["content"].startswith("<article>")
    assert len(seen[1]["messages"]) == len(seen[0]["messages"]) + 2
