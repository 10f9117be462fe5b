"""Claims and requests as JSON gives them, turned into values.

Stage: pure core (no I/O). In: decoded JSON (what :func:`json.loads` returns) from a claims file
or one line of a JSONL request file. Out: :class:`~summariser.validation.Claim` and
:class:`~summariser.validation.FigureClaim` values, or a :class:`Request`. Anything of the wrong
shape raises :class:`~summariser.errors.ClaimsFormatError` or
:class:`~summariser.errors.InputError` with a one-line message that says where (``claims[2]:``).

The shapes::

    claims   [ "free text", {"id", "text", "quote"?}, {"id", "figure" | "value", "unit"?,
               "step"?, "hedge"?, "quote"?}, ... ]          ids are strings or numbers
    request  {"id", "source": "<text>" | "source_path": "<file>", "claims": [...]}

A claim object with a field it does not know is refused, so that a misspelt ``"qoute"`` cannot
silently loosen a check; a request may carry fields of its own, which are ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from summariser.errors import ClaimsFormatError, EmptySourceError, InputError
from summariser.validation import Claim, FigureClaim

CLAIM_FIELDS = ("id", "text", "quote")
FIGURE_FIELDS = ("id", "figure", "value", "unit", "step", "hedge", "quote")


@dataclass(frozen=True, slots=True)
class Request:
    """One line of a JSONL request file: exactly one of ``source`` and ``source_path`` is set."""

    id: str | int
    claims: list[Claim | FigureClaim]
    source: str | None = None
    source_path: str | None = None


def json_type(value: object) -> str:
    """The JSON name of a decoded value's type, for messages: "an object", "a number"..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    names: dict[type, str] = {dict: "an object", list: "a list", str: "a string"}
    return names.get(type(value), type(value).__name__)


def parse_claims(
    data: object, *, path: str | None = None, line: int | None = None
) -> list[Claim | FigureClaim]:
    """Claims from decoded JSON; ``path`` and ``line`` say where in messages."""
    if not isinstance(data, list):
        raise ClaimsFormatError(
            f"claims must be a JSON list, not {json_type(data)}", path=path, line=line
        )
    claims: list[Claim | FigureClaim] = []
    for index, item in enumerate(data):
        try:
            claims.append(parse_claim(item))
        except ValueError as err:
            raise ClaimsFormatError(f"claims[{index}]: {err}", path=path, line=line) from err
    return claims


def parse_claim(item: object) -> Claim | FigureClaim:
    """One claim: a string, a claim object or a figure object. Raises ValueError."""
    if isinstance(item, str):
        return Claim(text=item)
    if not isinstance(item, dict):
        raise ValueError(f"expected a string or an object, not {json_type(item)}")
    unknown = sorted(set(item) - {*CLAIM_FIELDS, *FIGURE_FIELDS})
    if unknown:
        raise ValueError(
            f"unknown field {', '.join(map(repr, unknown))} (a claim has "
            f"{', '.join(CLAIM_FIELDS)}; a figure has {', '.join(FIGURE_FIELDS)})"
        )
    claim_id = _field(item, "id", (str, int), "a string or a number")
    claim_id = None if claim_id is None else str(claim_id)
    quote = _field(item, "quote", str, "a string")
    if quote is not None and not quote.strip():
        raise ValueError("quote is empty")
    if "text" in item:
        extra = [key for key in FIGURE_FIELDS if key in item and key not in CLAIM_FIELDS]
        if extra:
            raise ValueError(f"'text' makes a free-text claim, which has no {extra[0]!r}")
        text = _field(item, "text", str, "a string")
        if text is None:
            raise ValueError("text must be a string, not null")
        return Claim(text=text, id=claim_id, quote=quote)
    figure = _field(item, "figure", str, "a string")
    value = _number(item, "value")
    if figure is None and value is None:
        raise ValueError("an object needs 'text' (a claim), or 'figure' or 'value' (a figure)")
    if figure is not None and not figure.strip():
        raise ValueError("figure is empty")
    step = _number(item, "step")
    if step is not None and step <= 0:
        raise ValueError("step must be positive")
    return FigureClaim(
        value=value,
        unit=_field(item, "unit", str, "a string"),
        text=figure,
        step=step,
        hedge=_field(item, "hedge", str, "a string"),
        id=claim_id,
        quote=quote,
    )


def request_id(data: object) -> str | int | None:
    """The id of a decoded request, if it has a usable one, for an error record about it."""
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str | int) and not isinstance(value, bool) else None


def parse_request(data: object) -> Request:
    """One JSONL request from decoded JSON. Raises InputError (EmptySourceError for a blank
    ``source``, ClaimsFormatError for bad claims), without a path: the caller knows it."""
    if not isinstance(data, dict):
        raise InputError(f"expected a JSON object, not {json_type(data)}")
    if data.get("id") is None:
        raise InputError("missing field 'id'")
    id_ = request_id(data)
    if id_ is None:
        raise InputError(f"id must be a string or a number, not {json_type(data['id'])}")
    if "claims" not in data:
        raise InputError("missing field 'claims'")
    claims = parse_claims(data["claims"])
    source, source_path = data.get("source"), data.get("source_path")
    if (source is None) == (source_path is None):
        raise InputError("give one of 'source' (the text) or 'source_path' (a file)")
    if source is not None:
        if not isinstance(source, str):
            raise InputError(f"source must be a string, not {json_type(source)}")
        if not source.strip():
            raise EmptySourceError("source is empty")
        return Request(id=id_, claims=claims, source=source)
    if not isinstance(source_path, str):
        raise InputError(f"source_path must be a string, not {json_type(source_path)}")
    if not source_path.strip():
        raise InputError("source_path is empty")
    return Request(id=id_, claims=claims, source_path=source_path)


def _field(item: dict[str, Any], key: str, kind: type | tuple[type, ...], expected: str) -> Any:
    """``item[key]``, None when absent or null; a value of another JSON type is a ValueError."""
    value = item.get(key)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        raise ValueError(f"{key} must be {expected}, not {json_type(value)}")
    return value


def _number(item: dict[str, Any], key: str) -> float | None:
    value = _field(item, key, (int, float), "a number")
    if value is None:
        return None
    if not math.isfinite(value):
        raise ValueError(f"{key} must be a finite number")
    return float(value)
