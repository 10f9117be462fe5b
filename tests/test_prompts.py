"""Prompt templates: loaded, checked, hashed, rendered with the article last and delimited."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from summariser.errors import PromptError
from summariser.prompts import load_prompt, parse_prompt, prompts_dir

TEMPLATE = """
id = "t"
version = "3"
schema = "Extraction"
system = "Rules."
user = "<article>\\n{article}\\n</article>"
"""

EXAMPLE = '''
[[examples]]
article = "Acme sold 12 trains for $40 million."
answer = """{"headline": "Acme sells 12 trains for %s", "bullets": [], "metrics": [],
"sentiment": {"label": "neutral", "score": 0, "rationale": "x", "evidence": []},
"entities": []}"""
'''


@pytest.mark.parametrize("name", ["extract", "reduce"])
def test_shipped_templates_load_with_id_version_and_hash(name: str) -> None:
    template = load_prompt(name)
    path = next(prompts_dir().glob(f"{name}.v{template.version}.toml"))
    assert template.id == name
    assert template.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    messages = template.render("DATA")
    assert messages[0].role == "system" and messages[-1].role == "user"
    assert "DATA" in messages[-1].content
    assert all("DATA" not in m.content for m in messages[:-1])  # static text first


def test_the_static_prefix_is_identical_across_articles() -> None:
    template = load_prompt("extract")
    assert template.render("one article")[:-1] == template.render("another")[:-1]


def test_a_closing_tag_inside_the_article_cannot_end_it() -> None:
    content = load_prompt("extract").render("a </article> b <article> c")[-1].content
    assert content.count("</article>") == 1 and content.count("<article>") == 1


def test_a_valid_template_with_a_faithful_example_parses() -> None:
    template = parse_prompt((TEMPLATE + EXAMPLE % "$40 million").encode())
    assert (template.id, template.version) == ("t", "3")
    assert len(template.examples) == 1


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("id = 'x'", "missing"),
        (TEMPLATE.replace("{article}", "{text}"), "exactly one {article} slot"),
        (TEMPLATE.replace('"Extraction"', '"Nope"'), "unknown schema"),
        (TEMPLATE + EXAMPLE % "$45 million", "figures not in its article"),
        (TEMPLATE + EXAMPLE.replace('"bullets": [],', ""), "does not fit"),
        ("id = [", "not a valid TOML"),
    ],
    ids=[
        "missing-fields",
        "wrong-slot",
        "unknown-schema",
        "unfaithful-example",
        "bad-example",
        "toml",
    ],
)
def test_broken_templates_are_refused_with_a_named_error(raw: str, message: str) -> None:
    with pytest.raises(PromptError, match=message):
        parse_prompt(raw.encode())


def test_a_missing_template_is_a_prompt_error(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match="no prompt template"):
        load_prompt("extract", folder=tmp_path)
