"""The exported JSON Schema is the one in the repo; the strict schema suits structured output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from summariser.schema import Extraction, Reduction, Usage, export_schema, strict_json_schema

ROOT = Path(__file__).resolve().parent.parent


def test_committed_schema_is_current() -> None:
    committed = (ROOT / "schemas" / "summary.schema.json").read_text(encoding="utf-8")
    assert committed == export_schema(), (
        "schemas/summary.schema.json is stale: python -m summariser.schema > "
        "schemas/summary.schema.json"
    )


def _objects(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node] if node.get("type") == "object" else []
        return found + [o for value in node.values() for o in _objects(value)]
    if isinstance(node, list):
        return [o for item in node for o in _objects(item)]
    return []


@pytest.mark.parametrize("model", [Extraction, Reduction], ids=["extraction", "reduction"])
def test_strict_schema_closes_every_object_and_requires_every_property(model: Any) -> None:
    schema = strict_json_schema(model)
    objects = _objects(schema)
    assert objects
    for obj in objects:
        assert obj["additionalProperties"] is False
        assert sorted(obj["required"]) == sorted(obj["properties"])
    assert "default" not in json.dumps(schema)


def test_usage_adds_up() -> None:
    total = Usage(prompt_tokens=1, completion_tokens=2, cached_tokens=3) + Usage(
        prompt_tokens=10, completion_tokens=20, cached_tokens=30
    )
    assert total == Usage(prompt_tokens=11, completion_tokens=22, cached_tokens=33)
