"""``summariser summarise`` end to end with the offline backend: outputs, exit codes, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from summariser import cli

ARTICLE = (
    "Corvel Systems reported fourth-quarter revenue of $812 million, up 9% from a year earlier, "
    "and net income of $96 million. The company said its cloud division grew 31% and now makes "
    "up 40% of sales.\n\nCorvel raised its dividend to 45 cents a share and expects full-year "
    "revenue of $3.4 billion to $3.5 billion. Shares rose 5% after the results."
)


def run(*args: str, input: str | bytes | None = None) -> Result:
    return CliRunner().invoke(cli.app, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def article(tmp_path: Path) -> Path:
    path = tmp_path / "article.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    return path


def test_offline_by_default_says_so_and_checks_every_figure(article: Path) -> None:
    result = run("summarise", str(article))
    assert result.exit_code == 0, result.stderr
    assert "offline backend" in result.stderr
    summary = json.loads(result.stdout)
    assert summary["provenance"]["backend"] == "offline"
    assert summary["validation"]["figures_unsupported"] == 0
    assert summary["metrics"] and all(m["status"] == "supported" for m in summary["metrics"])
    values = {round(m["value"] or 0) for m in summary["metrics"]}
    assert 812_000_000 in values


def test_markdown_and_html_outputs(article: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    result = run("summarise", str(article), "--format", "markdown", "--html", str(report))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.lstrip().startswith("#")
    page = report.read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<!doctype html") and "$812 million" in page


def test_stdin_and_output_file(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    result = run("summarise", "-", "-o", str(out), input=ARTICLE)
    assert result.exit_code == 0, result.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["headline"]["text"]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "empty"),
        (b"   \n\t ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"caf\xe9 revenue", "not UTF-8"),
        (b"<html><body><script>var x = 1;</script></body></html>", "no article text"),
    ],
    ids=["empty", "blank", "binary", "latin-1", "html-without-text"],
)
def test_bad_input_is_exit_2_with_one_line(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "input.txt"
    path.write_bytes(content)
    result = run("summarise", str(path))
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert fragment in result.stderr and "Traceback" not in result.stderr
    assert str(path) in result.stderr


def test_missing_file_and_bad_options(tmp_path: Path, article: Path) -> None:
    assert run("summarise", str(tmp_path / "nope.txt")).exit_code == 2
    assert run("summarise", str(article), "--format", "yaml").exit_code == 2
    assert run("summarise", str(article), "--backend", "nonsense").exit_code == 2


def test_text_without_figures_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "plain.txt"
    path.write_text(
        "The board met on Tuesday to discuss the strategy. Analysts were cautious about the plan.",
        encoding="utf-8",
    )
    result = run("summarise", str(path))
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["metrics"] == [] and summary["validation"]["figures_unsupported"] == 0


def test_openai_backend_without_a_key_is_a_configuration_error(article: Path) -> None:
    result = run("summarise", str(article), "--backend", "openai")
    assert result.exit_code == 2
    assert "OPENAI_API_KEY" in result.stderr


def test_a_backend_failure_is_exit_4(article: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from summariser import summarise_command
    from summariser.errors import QuotaExceededError

    def fail(*args: object, **kwargs: object) -> object:
        raise QuotaExceededError("insufficient_quota: add credit", provider="openai")

    monkeypatch.setattr(summarise_command, "summarise", fail)
    result = run("summarise", str(article))
    assert result.exit_code == 4
    assert "insufficient_quota" in result.stderr and "Traceback" not in result.stderr
