"""``summariser batch`` through typer's CliRunner: exit codes, messages, the JSON report."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from summariser.batch_command import batch_app


def _app() -> typer.Typer:
    """The real CLI when it has the batch command, else an app holding only it."""
    from summariser.cli import app

    if any(group.name == "batch" for group in app.registered_groups):
        return app
    local = typer.Typer()

    @local.callback()
    def _root() -> None:
        """Test app."""

    local.add_typer(batch_app, name="batch")
    return local


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(_app(), ["batch", *args])
    return result.exit_code, result.output


TEXT = "Acme Corp said revenue rose 18 percent to $1.2 billion. Profit was $210 million."


def jsonl(path: Path, *rows: object) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_a_clean_job_exits_0_and_writes_the_json_report(tmp_path: Path) -> None:
    source = jsonl(tmp_path / "in.jsonl", {"id": "a", "text": TEXT}, {"id": "b", "text": TEXT})
    code, _ = invoke(
        str(source),
        "-o",
        str(tmp_path / "out.jsonl"),
        "--backend",
        "offline",
        "--json-report",
        str(tmp_path / "report.json"),
        "--quiet",
    )
    assert code == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["run"]["ok"] == 2 and report["run"]["cache_hits"] == 1
    assert report["job"]["done"] == 2 and report["exit_code"] == 0


def test_batch_run_is_the_same_command(tmp_path: Path) -> None:
    source = jsonl(tmp_path / "in.jsonl", {"id": "a", "text": TEXT})
    code, _ = invoke(
        "run", str(source), "-o", str(tmp_path / "out.jsonl"), "--backend", "offline", "-q"
    )
    assert code == 0


def test_error_records_exit_7_and_the_report_names_the_reasons(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "a", "text": TEXT}) + "\n{oops\n", encoding="utf-8")
    code, output = invoke(str(source), "-o", str(tmp_path / "out.jsonl"), "--backend", "offline")
    assert code == 7
    assert "invalid_json_line" in output and "1 articles failed" in output
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    [error] = [r for r in map(json.loads, lines) if r["status"] == "error"]
    assert error["message"].startswith("line 2: not JSON")
    assert error == {
        "id": None,
        "status": "error",
        "reason": "invalid_json_line",
        "message": error["message"],
        "line": 2,
        "metadata": {},
    }


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "absent.jsonl", "no such file"),
        (lambda d: jsonl(d / "in.jsonl"), "no articles"),
        (
            lambda d: jsonl(d / "in.jsonl", {"id": 1, "text": TEXT}, {"id": "1", "text": TEXT}),
            "appears on line 1 and line 2",
        ),
    ],
    ids=["missing", "empty", "duplicate"],
)
def test_bad_input_exits_2_before_anything_runs(tmp_path: Path, make: object, message: str) -> None:
    source = make(tmp_path)  # type: ignore[operator]
    code, output = invoke(str(source), "-o", str(tmp_path / "out.jsonl"), "--backend", "offline")
    assert code == 2 and message in output
    assert not (tmp_path / "out.jsonl").exists()


def test_an_output_folder_that_does_not_exist_exits_2(tmp_path: Path) -> None:
    source = jsonl(tmp_path / "in.jsonl", {"id": "a", "text": TEXT})
    code, output = invoke(
        str(source), "-o", str(tmp_path / "no" / "out.jsonl"), "--backend", "offline"
    )
    assert code == 2 and "no such folder" in output


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_output_folder_exits_2(tmp_path: Path) -> None:
    source = jsonl(tmp_path / "in.jsonl", {"id": "a", "text": TEXT})
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, output = invoke(str(source), "-o", str(locked / "out.jsonl"), "--backend", "offline")
    assert code == 2 and "permission denied" in output


def test_a_resume_with_another_backend_exits_2(tmp_path: Path) -> None:
    source = jsonl(tmp_path / "in.jsonl", {"id": "a", "text": TEXT})
    out = str(tmp_path / "out.jsonl")
    assert invoke(str(source), "-o", out, "--backend", "offline", "-q")[0] == 0
    # refused before any request is sent: nothing listens on port 9, and nothing is asked
    other = ("--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "-q")
    code, output = invoke(str(source), "-o", out, *other)
    assert code == 2 and "started with backend 'offline'" in output


def test_the_fake_backend_is_not_offered_on_the_command_line(tmp_path: Path) -> None:
    source = jsonl(tmp_path / "in.jsonl", {"id": "a", "text": TEXT})
    code, output = invoke(str(source), "-o", str(tmp_path / "out.jsonl"), "--backend", "fake")
    assert code == 2 and "choose openai or offline" in output


def test_a_prices_file_prices_the_model(tmp_path: Path) -> None:
    source = jsonl(tmp_path / "in.jsonl", {"id": "a", "text": TEXT})
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"offline-v1": [1.0, 0.5, 2.0]}))
    code, _ = invoke(
        str(source),
        "-o",
        str(tmp_path / "out.jsonl"),
        "--backend",
        "offline",
        "--prices",
        str(prices),
        "--json-report",
        str(tmp_path / "r.json"),
        "-q",
    )
    report = json.loads((tmp_path / "r.json").read_text())
    assert code == 0 and report["run"]["estimated_cost_usd"] > 0


def test_help_lists_the_options(tmp_path: Path) -> None:
    code, output = invoke("run", "--help")
    assert code == 0
    for option in (
        "--concurrency",
        "--rpm",
        "--tpm",
        "--state",
        "--dedupe",
        "--json-report",
        "--cache",
    ):
        assert option in output
