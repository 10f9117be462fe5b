"""JSON values to claims and requests (``summariser.inputs``): table-driven, with ids."""

from __future__ import annotations

import pytest

from summariser.errors import ClaimsFormatError, EmptySourceError, InputError
from summariser.inputs import Request, json_type, parse_claims, parse_request, request_id
from summariser.validation import Claim, FigureClaim


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        pytest.param("Revenue was $5 billion", Claim("Revenue was $5 billion"), id="string"),
        pytest.param({"text": "x"}, Claim("x"), id="text-only"),
        pytest.param(
            {"id": "a", "text": "x", "quote": "y"}, Claim("x", id="a", quote="y"), id="claim"
        ),
        pytest.param({"id": 3, "text": "x"}, Claim("x", id="3"), id="numeric-id"),
        pytest.param(
            {"id": "f", "figure": "8.971 billion yuan"},
            FigureClaim(text="8.971 billion yuan", id="f"),
            id="figure",
        ),
        pytest.param(
            {"value": 2400, "unit": None}, FigureClaim(value=2400.0), id="value-null-unit"
        ),
        pytest.param(
            {"value": 1.5e9, "unit": "USD", "step": 1e8, "hedge": "about", "quote": "q"},
            FigureClaim(value=1.5e9, unit="USD", step=1e8, hedge="about", quote="q"),
            id="value-all-fields",
        ),
        pytest.param(
            {"figure": "$5bn", "value": 5e9},
            FigureClaim(text="$5bn", value=5e9),
            id="figure-and-value",
        ),
    ],
)
def test_parse_claims(item: object, expected: Claim | FigureClaim) -> None:
    assert parse_claims([item]) == [expected]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        pytest.param({}, "must be a JSON list, not an object", id="object"),
        pytest.param(None, "not null", id="null"),
        pytest.param([1.5], "claims[0]: expected a string or an object, not a number", id="num"),
        pytest.param(
            ["ok", False], "claims[1]: expected a string or an object, not a boolean", id="bool"
        ),
        pytest.param([{}], "needs 'text'", id="empty-object"),
        pytest.param([{"text": None}], "text must be a string, not null", id="text-null"),
        pytest.param([{"text": "x", "figure": "y"}], "no 'figure'", id="text-and-figure"),
        pytest.param([{"text": "x", "note": 1}], "unknown field 'note'", id="unknown"),
        pytest.param([{"value": float("nan")}], "finite", id="nan"),
        pytest.param([{"value": 1, "step": -1}], "step must be positive", id="negative-step"),
        pytest.param([{"value": 1, "unit": 5}], "unit must be a string", id="unit-number"),
        pytest.param([{"text": "x", "quote": " "}], "quote is empty", id="blank-quote"),
        pytest.param([{"id": {"a": 1}, "text": "x"}], "id must be a string or a number", id="id"),
    ],
)
def test_bad_claims(data: object, fragment: str) -> None:
    with pytest.raises(ClaimsFormatError) as caught:
        parse_claims(data, path="c.json", line=4)
    message = str(caught.value)
    assert message.startswith("c.json:4: "), message
    assert fragment in message, message


def test_parse_request() -> None:
    assert parse_request({"id": "a", "source": "text", "claims": ["x"], "meta": 1}) == Request(
        id="a", claims=[Claim("x")], source="text"
    )
    assert parse_request({"id": 9, "source_path": "a.txt", "claims": []}) == Request(
        id=9, claims=[], source_path="a.txt"
    )


@pytest.mark.parametrize(
    ("data", "error", "fragment"),
    [
        pytest.param([], InputError, "expected a JSON object, not a list", id="list"),
        pytest.param({"source": "t", "claims": []}, InputError, "missing field 'id'", id="no-id"),
        pytest.param({"id": 1.5, "source": "t", "claims": []}, InputError, "id must be", id="f"),
        pytest.param({"id": "a", "source": "t"}, InputError, "missing field 'claims'", id="cl"),
        pytest.param({"id": "a", "claims": {}}, ClaimsFormatError, "must be a JSON list", id="c"),
        pytest.param({"id": "a", "claims": []}, InputError, "give one of", id="no-source"),
        pytest.param(
            {"id": "a", "source": "t", "source_path": "p", "claims": []},
            InputError,
            "give one of",
            id="both-sources",
        ),
        pytest.param({"id": "a", "source": "", "claims": []}, EmptySourceError, "empty", id="e"),
        pytest.param({"id": "a", "source": 5, "claims": []}, InputError, "a string", id="s-num"),
        pytest.param({"id": "a", "source_path": "", "claims": []}, InputError, "empty", id="p"),
    ],
)
def test_bad_request(data: object, error: type[InputError], fragment: str) -> None:
    with pytest.raises(error) as caught:
        parse_request(data)
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("data", "expected"),
    [({"id": "a"}, "a"), ({"id": 0}, 0), ({"id": True}, None), ({"id": [1]}, None), ([], None)],
)
def test_request_id(data: object, expected: object) -> None:
    assert request_id(data) == expected


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (None, "null"),
        (True, "a boolean"),
        (1, "a number"),
        (1.5, "a number"),
        ("", "a string"),
        ([], "a list"),
        ({}, "an object"),
    ],
)
def test_json_type(value: object, name: str) -> None:
    assert json_type(value) == name
