"""The command line, end to end: every exit code, every kind of bad input, JSONL streaming.

Most tests run the typer app in-process (``CliRunner``), so that ``check_claims`` can be
replaced; a few run ``python -m summariser`` as a real process. Every fixture text is written
here, in a temporary folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import summariser
from summariser import cli, validate_command

REPO_ROOT = Path(__file__).resolve().parents[1]

SOURCE = "Revenue rose to $5.2 billion in 2025. The group employs 2,400 people.\n"
GOOD = "Revenue was $5.2 billion"
BAD = "Revenue was $5.9 billion"

FIGURE_KEYS = {
    "text",
    "start",
    "end",
    "value",
    "unit",
    "kind",
    "hedge",
    "status",
    "reason",
    "evidence",
    "hints",
}
COUNT_KEYS = {
    "claims",
    "supported_claims",
    "unsupported_claims",
    "figures",
    "supported_figures",
    "unsupported_figures",
    "skipped_figures",
}


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary folder to run in, so that messages name files as the tests wrote them."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path: Path, content: str | bytes | object) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    return path


def run(*args: str, input: str | bytes | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli.app, list(args), input=input, env=env, catch_exceptions=False)


def assert_one_line_error(result: Result, *fragments: str) -> str:
    """A bad-input failure: exit 2, nothing on stdout, one line on stderr naming what's wrong."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    message = result.stderr
    assert "Traceback" not in message
    assert message.count("\n") == 1 and message.endswith("\n"), message
    assert message.startswith("summariser: "), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


def jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


# --------------------------------------------------------------------------------------------
# --source / --claims: exit 0 and 3


def test_supported_claims_exit_0(work: Path) -> None:
    write(work / "article.txt", SOURCE)
    write(work / "claims.json", [GOOD, {"id": "staff", "text": "It has 2,400 staff."}])

    result = run("validate", "--source", "article.txt", "--claims", "claims.json")

    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {"source", "claims", "counts"}
    assert document["source"] == "article.txt"
    first, second = document["claims"]
    assert first["text"] == GOOD and first["supported"] is True
    assert second["id"] == "staff"
    (figure,) = first["figures"]
    assert set(figure) >= FIGURE_KEYS
    assert figure["status"] == "supported"
    assert figure["text"] == "$5.2 billion"
    assert GOOD[figure["start"] : figure["end"]] == figure["text"]
    for span in figure["evidence"]:
        assert SOURCE[span["start"] : span["end"]] == span["text"]
    counts = document["counts"]
    assert set(counts) == COUNT_KEYS
    assert counts["claims"] == counts["supported_claims"] == 2
    assert counts["unsupported_claims"] == counts["unsupported_figures"] == 0


def test_unsupported_figure_exit_3(work: Path) -> None:
    write(work / "article.txt", SOURCE)
    write(work / "claims.json", [GOOD, {"id": "made-up", "text": BAD}])

    result = run("validate", "--source", "article.txt", "--claims", "claims.json")

    assert result.exit_code == 3, result.stderr
    document = json.loads(result.stdout)
    good, bad = document["claims"]
    assert good["supported"] is True
    assert bad["id"] == "made-up" and bad["supported"] is False
    assert [f["status"] for f in bad["figures"]] == ["unsupported"]
    assert document["counts"]["unsupported_claims"] == 1
    assert document["counts"]["unsupported_figures"] == 1


def test_structured_figures_and_quotes(work: Path) -> None:
    write(work / "article.txt", SOURCE)
    claims = [
        {"id": "rescaled", "figure": "$5,200 million"},
        {"id": "count", "value": 2400},
        {"id": "quoted", "text": GOOD, "quote": "rose to $5.2 billion"},
        {"id": 7, "figure": "$5.9 billion"},
    ]
    write(work / "claims.json", claims)

    result = run("validate", "-s", "article.txt", "-c", "claims.json")

    assert result.exit_code == 3, result.stderr
    verdicts = json.loads(result.stdout)["claims"]
    assert [v["id"] for v in verdicts] == ["rescaled", "count", "quoted", "7"]
    assert [v["supported"] for v in verdicts] == [True, True, True, False]


def test_non_ascii_output_is_utf8_not_escaped(work: Path) -> None:
    write(work / "article.txt", "Le chiffre d’affaires a atteint 37,6 M€ — en hausse.\n")
    write(work / "claims.json", ["Chiffre d’affaires — sans chiffre"])

    result = run("validate", "--source", "article.txt", "--claims", "claims.json")

    assert result.exit_code == 0, result.stderr
    assert "d’affaires —" in result.stdout


def test_byte_order_mark_is_dropped(work: Path) -> None:
    write(work / "article.txt", b"\xef\xbb\xbf" + SOURCE.encode())
    write(work / "claims.json", b"\xef\xbb\xbf" + json.dumps([GOOD]).encode())

    result = run("validate", "--source", "article.txt", "--claims", "claims.json")

    assert result.exit_code == 0, result.stderr


def test_source_from_stdin(work: Path) -> None:
    write(work / "claims.json", [BAD])

    result = run("validate", "--source", "-", "--claims", "claims.json", input=SOURCE)

    assert result.exit_code == 3, result.stderr
    assert json.loads(result.stdout)["source"] == "<stdin>"


def test_claims_from_stdin(work: Path) -> None:
    write(work / "article.txt", SOURCE)

    result = run("validate", "--source", "article.txt", "--claims", "-", input=json.dumps([GOOD]))

    assert result.exit_code == 0, result.stderr


def test_output_file(work: Path) -> None:
    write(work / "article.txt", SOURCE)
    write(work / "claims.json", [GOOD])

    result = run("validate", "--source", "article.txt", "--claims", "claims.json", "-o", "out.json")

    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert json.loads((work / "out.json").read_text("utf-8"))["counts"]["claims"] == 1


# --------------------------------------------------------------------------------------------
# exit 2: bad usage and bad input, always one line naming the file, never a traceback


@pytest.mark.parametrize(
    ("source", "fragments"),
    [
        pytest.param(None, ["missing.txt", "no such file"], id="missing"),
        pytest.param("", ["article.txt", "source is empty"], id="empty"),
        pytest.param(" \n\t\n", ["article.txt", "source is empty"], id="blank"),
        pytest.param(b"Revenue\nfell \xe9\n", ["article.txt:2:", "not UTF-8 text"], id="latin-1"),
        pytest.param(b"\xff\xfeR\x00", ["article.txt:1:", "not UTF-8 text"], id="utf-16"),
    ],
)
def test_bad_source(work: Path, source: str | bytes | None, fragments: list[str]) -> None:
    name = "missing.txt" if source is None else "article.txt"
    if source is not None:
        write(work / name, source)
    write(work / "claims.json", [GOOD])

    result = run("validate", "--source", name, "--claims", "claims.json")

    assert_one_line_error(result, *fragments)


def test_source_is_a_directory(work: Path) -> None:
    (work / "folder").mkdir()
    write(work / "claims.json", [GOOD])

    result = run("validate", "--source", "folder", "--claims", "claims.json")

    assert_one_line_error(result, "folder", "directory")


def test_empty_stdin_source(work: Path) -> None:
    write(work / "claims.json", [GOOD])

    result = run("validate", "--source", "-", "--claims", "claims.json", input="")

    assert_one_line_error(result, "<stdin>", "empty")


@pytest.mark.parametrize(
    ("claims", "fragments"),
    [
        pytest.param(None, ["claims.json", "no such file"], id="missing"),
        pytest.param("", ["claims.json", "empty"], id="empty-file"),
        pytest.param('["a",\n  oops]', ["claims.json:2:", "not valid JSON"], id="not-json"),
        pytest.param(b'["\xe9"]', ["claims.json:1:", "not UTF-8 text"], id="not-utf8"),
        pytest.param("[" * 100_000, ["claims.json", "not valid JSON"], id="too-deep"),
        pytest.param({"claims": [GOOD]}, ["claims.json", "must be a JSON list"], id="object"),
        pytest.param('"just text"', ["claims.json", "must be a JSON list"], id="string"),
        pytest.param([GOOD, 3], ["claims.json", "claims[1]", "a number"], id="number"),
        pytest.param([None], ["claims[0]", "null"], id="null"),
        pytest.param([[GOOD]], ["claims[0]", "a list"], id="nested-list"),
        pytest.param([{"id": "a"}], ["claims[0]", "needs 'text'"], id="no-text"),
        pytest.param([{"text": 5}], ["claims[0]", "text must be a string"], id="text-number"),
        pytest.param([{"text": GOOD, "qoute": "x"}], ["claims[0]", "'qoute'"], id="typo"),
        pytest.param([{"text": GOOD, "value": 1}], ["claims[0]", "'value'"], id="text-and-value"),
        pytest.param([{"value": "5.2"}], ["claims[0]", "value must be a number"], id="value-str"),
        pytest.param([{"value": True}], ["claims[0]", "a boolean"], id="value-bool"),
        pytest.param([{"figure": " "}], ["claims[0]", "figure is empty"], id="figure-blank"),
        pytest.param([{"text": GOOD, "id": [1]}], ["claims[0]", "id must be"], id="id-list"),
        pytest.param([{"text": GOOD, "quote": ""}], ["claims[0]", "quote is empty"], id="quote"),
        pytest.param([{"value": 1, "step": 0}], ["claims[0]", "step must be"], id="step"),
    ],
)
def test_bad_claims(work: Path, claims: object, fragments: list[str]) -> None:
    write(work / "article.txt", SOURCE)
    if claims is not None:
        write(work / "claims.json", claims)

    result = run("validate", "--source", "article.txt", "--claims", "claims.json")

    message = assert_one_line_error(result, *fragments)
    assert "claims.json" in message


def test_claims_file_is_a_directory(work: Path) -> None:
    write(work / "article.txt", SOURCE)
    (work / "claims.json").mkdir()

    result = run("validate", "--source", "article.txt", "--claims", "claims.json")

    assert_one_line_error(result, "claims.json", "directory")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        pytest.param([], "--source", id="neither"),
        pytest.param(["--source", "article.txt"], "--source needs --claims", id="no-claims"),
        pytest.param(["--claims", "claims.json"], "--claims needs --source", id="no-source"),
        pytest.param(
            ["--source", "article.txt", "--claims", "claims.json", "--jsonl", "r.jsonl"],
            "not both",
            id="both",
        ),
        pytest.param(["--jsonl", "r.jsonl", "--claims", "claims.json"], "not both", id="jsonl+c"),
        pytest.param(["--source", "-", "--claims", "-"], "stdin", id="two-stdins"),
    ],
)
def test_bad_usage(work: Path, args: list[str], fragment: str) -> None:
    write(work / "article.txt", SOURCE)
    write(work / "claims.json", [GOOD])
    write(work / "r.jsonl", "")

    result = run("validate", *args)

    assert_one_line_error(result, fragment)


def test_unknown_option_is_usage_error(work: Path) -> None:
    result = run("validate", "--bogus")

    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_output_into_missing_folder(work: Path) -> None:
    write(work / "article.txt", SOURCE)
    write(work / "claims.json", [GOOD])

    result = run("validate", "-s", "article.txt", "-c", "claims.json", "-o", "no/such/out.json")

    assert_one_line_error(result, "no/such/out.json", "cannot write")


# --------------------------------------------------------------------------------------------
# exit 1: internal errors are one line, with the traceback only under SUMMARISER_DEBUG


def _broken_check_claims(*args: object, **kwargs: object) -> list[Any]:
    raise RuntimeError("the validator fell over")


def test_internal_error_exit_1(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validate_command, "check_claims", _broken_check_claims)
    write(work / "article.txt", SOURCE)
    write(work / "claims.json", [GOOD])

    result = run("validate", "--source", "article.txt", "--claims", "claims.json")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert "internal error: RuntimeError: the validator fell over" in result.stderr
    assert "SUMMARISER_DEBUG=1" in result.stderr


def test_internal_error_traceback_under_debug(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validate_command, "check_claims", _broken_check_claims)
    write(work / "article.txt", SOURCE)
    write(work / "claims.json", [GOOD])

    result = run(
        "validate", "-s", "article.txt", "-c", "claims.json", env={"SUMMARISER_DEBUG": "1"}
    )

    assert result.exit_code == 1
    assert "Traceback" in result.stderr
    assert "the validator fell over" in result.stderr


# --------------------------------------------------------------------------------------------
# --jsonl


def request_lines(*lines: object) -> bytes:
    out = b""
    for line in lines:
        if isinstance(line, bytes):
            out += line
        elif isinstance(line, str):
            out += line.encode()
        else:
            out += json.dumps(line).encode()
        out += b"\n"
    return out


def test_jsonl_all_supported_exit_0(work: Path) -> None:
    write(work / "article.txt", SOURCE)
    write(
        work / "requests.jsonl",
        request_lines(
            {"id": "a", "source": SOURCE, "claims": [GOOD]},
            {"id": 2, "source_path": "article.txt", "claims": [{"id": "x", "value": 2400}]},
        ),
    )

    result = run("validate", "--jsonl", "requests.jsonl")

    assert result.exit_code == 0, result.stderr
    first, second = jsonl(result.stdout)
    assert first["id"] == "a" and second["id"] == 2
    assert set(first) == {"id", "claims"}
    assert first["claims"][0]["supported"] is True
    assert second["claims"][0]["id"] == "x"


def test_jsonl_unsupported_exit_3(work: Path) -> None:
    write(
        work / "requests.jsonl",
        request_lines(
            {"id": "a", "source": SOURCE, "claims": [GOOD]},
            {"id": "b", "source": SOURCE, "claims": [BAD]},
        ),
    )

    result = run("validate", "--jsonl", "requests.jsonl")

    assert result.exit_code == 3, result.stderr
    assert [line["claims"][0]["supported"] for line in jsonl(result.stdout)] == [True, False]


BROKEN_LINES: list[tuple[object, str]] = [
    ("{not json", "not valid JSON"),
    ([1, 2], "expected a JSON object"),
    ({"source": SOURCE, "claims": [GOOD]}, "missing field 'id'"),
    ({"id": "no-claims", "source": SOURCE}, "missing field 'claims'"),
    ({"id": "no-source", "claims": [GOOD]}, "give one of 'source'"),
    ({"id": "two", "source": SOURCE, "source_path": "a.txt", "claims": []}, "give one of"),
    ({"id": "blank", "source": "  ", "claims": [GOOD]}, "source is empty"),
    ({"id": "gone", "source_path": "gone.txt", "claims": [GOOD]}, "no such file"),
    ({"id": "dir", "source_path": "folder", "claims": [GOOD]}, "directory"),
    ({"id": "empty", "source_path": "empty.txt", "claims": [GOOD]}, "source is empty"),
    ({"id": "latin", "source_path": "latin.txt", "claims": [GOOD]}, "not UTF-8 text"),
    ({"id": "bad-claims", "source": SOURCE, "claims": [3]}, "claims[0]"),
    ({"id": True, "source": SOURCE, "claims": []}, "id must be"),
    (b'{"id": "\xe9", "source": "x", "claims": []}', "not UTF-8 text"),
]


def test_jsonl_broken_lines_are_reported_and_the_rest_checked(work: Path) -> None:
    (work / "folder").mkdir()
    write(work / "empty.txt", "")
    write(work / "latin.txt", b"caf\xe9 at 5.2\n")
    write(work / "article.txt", SOURCE)
    good = {"id": "good", "source_path": "article.txt", "claims": [GOOD]}
    lines = [good, *(line for line, _ in BROKEN_LINES), "", good]
    write(work / "requests.jsonl", request_lines(*lines))

    result = run("validate", "--jsonl", "requests.jsonl")

    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    records = jsonl(result.stdout)
    # one record per non-blank line, in order; the blank line is skipped
    assert len(records) == len(BROKEN_LINES) + 2
    assert records[0] == {"id": "good", "claims": records[0]["claims"]}
    assert records[-1]["id"] == "good" and "claims" in records[-1]
    assert records[-1]["claims"][0]["supported"] is True
    messages = result.stderr.splitlines()
    assert len(messages) == len(BROKEN_LINES)
    for offset, ((line, fragment), record, message) in enumerate(
        zip(BROKEN_LINES, records[1:-1], messages, strict=True)
    ):
        number = offset + 2
        assert set(record) == {"id", "line", "error"}, record
        assert record["line"] == number
        assert fragment in record["error"], record
        assert "\n" not in record["error"]
        assert message.startswith(f"summariser: requests.jsonl:{number}: "), message
        assert fragment in message
        expected_id = line.get("id") if isinstance(line, dict) else None
        assert record["id"] == (expected_id if isinstance(expected_id, str) else None)


def test_jsonl_source_path_is_relative_to_the_jsonl_folder(work: Path) -> None:
    (work / "batch").mkdir()
    write(work / "batch" / "article.txt", SOURCE)
    write(
        work / "batch" / "requests.jsonl",
        request_lines({"id": 1, "source_path": "article.txt", "claims": [BAD]}),
    )

    result = run("validate", "--jsonl", "batch/requests.jsonl")

    assert result.exit_code == 3, result.stderr
    assert jsonl(result.stdout)[0]["id"] == 1


def test_jsonl_absolute_source_path_and_missing_one_named(work: Path) -> None:
    (work / "batch").mkdir()
    article = write(work / "article.txt", SOURCE)
    write(
        work / "batch" / "requests.jsonl",
        request_lines(
            {"id": 1, "source_path": str(article), "claims": [GOOD]},
            {"id": 2, "source_path": "article.txt", "claims": [GOOD]},
        ),
    )

    result = run("validate", "--jsonl", "batch/requests.jsonl")

    assert result.exit_code == 2
    ok, missing = jsonl(result.stdout)
    assert "claims" in ok
    assert missing["error"] == f"{Path('batch/article.txt')}: no such file"
    assert "requests.jsonl:2:" in result.stderr


def test_jsonl_reads_a_source_once_for_consecutive_lines(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(work / "a.txt", SOURCE)
    write(work / "b.txt", SOURCE)
    reads: list[str] = []
    real_read: Callable[[Path], bytes] = validate_command._read_file

    def counting_read(path: Path) -> bytes:
        reads.append(path.name)
        return real_read(path)

    monkeypatch.setattr(validate_command, "_read_file", counting_read)
    names = ["a.txt", "a.txt", "a.txt", "b.txt", "a.txt"]
    lines = [{"id": i, "source_path": n, "claims": [GOOD]} for i, n in enumerate(names)]
    write(work / "requests.jsonl", request_lines(*lines))

    result = run("validate", "--jsonl", "requests.jsonl")

    assert result.exit_code == 0, result.stderr
    assert reads == ["a.txt", "b.txt", "a.txt"]
    assert len(jsonl(result.stdout)) == 5


def test_jsonl_output_file_and_stdin(work: Path) -> None:
    lines = request_lines({"id": "a", "source": SOURCE, "claims": [GOOD]})

    result = run("validate", "--jsonl", "-", "-o", "out.jsonl", input=lines)

    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert [r["id"] for r in jsonl((work / "out.jsonl").read_text("utf-8"))] == ["a"]


def test_jsonl_output_may_not_overwrite_its_input(work: Path) -> None:
    write(work / "r.jsonl", request_lines({"id": "a", "source": SOURCE, "claims": [GOOD]}))

    result = run("validate", "--jsonl", "r.jsonl", "-o", "./r.jsonl")

    assert_one_line_error(result, "r.jsonl", "input")
    assert (work / "r.jsonl").read_text("utf-8").startswith('{"id": "a"')


@pytest.mark.parametrize("name", ["missing.jsonl", "folder"])
def test_jsonl_unreadable_file(work: Path, name: str) -> None:
    (work / "folder").mkdir()

    result = run("validate", "--jsonl", name, "-o", "out.jsonl")

    assert_one_line_error(result, name)
    assert not (work / "out.jsonl").exists(), "a failed start must not create the output"


def test_jsonl_lines_written_before_a_kill_are_kept(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_check = validate_command.check_claims
    calls = 0

    def check_then_die(source: str, claims: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt
        return real_check(source, claims)

    monkeypatch.setattr(validate_command, "check_claims", check_then_die)
    lines = [{"id": i, "source": SOURCE, "claims": [GOOD]} for i in range(5)]
    write(work / "r.jsonl", request_lines(*lines))

    result = run("validate", "--jsonl", "r.jsonl", "-o", "out.jsonl")

    assert result.exit_code == 130
    assert [r["id"] for r in jsonl((work / "out.jsonl").read_text("utf-8"))] == [0, 1]


def test_jsonl_internal_error_on_one_line(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_check = validate_command.check_claims

    def check_or_fail(source: str, claims: Any) -> Any:
        if "boom" in source:
            raise RuntimeError("bad day")
        return real_check(source, claims)

    monkeypatch.setattr(validate_command, "check_claims", check_or_fail)
    write(
        work / "r.jsonl",
        request_lines(
            {"id": "a", "source": "boom " + SOURCE, "claims": [GOOD]},
            {"id": "b", "source": SOURCE, "claims": [GOOD]},
        ),
    )

    result = run("validate", "--jsonl", "r.jsonl")

    assert result.exit_code == 1
    failed, ok = jsonl(result.stdout)
    assert failed == {"id": "a", "line": 1, "error": "internal error: RuntimeError: bad day"}
    assert "claims" in ok
    assert "Traceback" not in result.stderr
    assert "r.jsonl:1: internal error" in result.stderr


# --------------------------------------------------------------------------------------------
# the real process: python -m summariser


def run_module(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("SUMMARISER_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "summariser", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


def test_version() -> None:
    process = run_module("--version")

    assert process.returncode == 0
    assert process.stdout.strip() == f"summariser {summariser.__version__}"


def test_bad_input_in_a_real_process(tmp_path: Path) -> None:
    process = run_module("validate", "--source", str(tmp_path / "nope.txt"), "--claims", "x.json")

    assert process.returncode == 2
    assert process.stdout == ""
    assert process.stderr == f"summariser: error: {tmp_path / 'nope.txt'}: no such file\n"


def test_the_readme_example() -> None:
    """The Quick start promises exit 3 and one caught figure for the example."""
    process = run_module(
        "validate", "--source", "examples/article.txt", "--claims", "examples/claims.json"
    )

    assert process.returncode == 3, process.stderr
    document = json.loads(process.stdout)
    counts = document["counts"]
    assert counts["unsupported_figures"] == 1, [
        (c.get("id"), f["text"], f["reason"])
        for c in document["claims"]
        for f in c["figures"]
        if f["status"] != "supported"
    ]
    assert counts["unsupported_claims"] == 1
    (bad,) = [claim for claim in document["claims"] if not claim["supported"]]
    assert bad["id"] == "guidance"
