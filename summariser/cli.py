"""The command line: ``summariser summarise``, ``summariser validate``, ``summariser --version``.

Stage: edge (I/O), a thin layer over :func:`summariser.check_claims`. In: an article and a
claims file, or a JSONL file of requests, from paths or stdin. Out: JSON on stdout (or ``-o``),
one-line messages on stderr, and an exit code:

    0  every claim is supported
    3  some figure is unsupported
    2  bad usage or bad input (the message names the file, and the line where there is one)
    1  internal error (one line; ``SUMMARISER_DEBUG=1`` shows the traceback)

This is the one place where lower-level errors (OSError, UnicodeDecodeError, JSON decoding) are
translated into :class:`~summariser.errors.InputError`.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO

import typer

from summariser import __version__, inputs
from summariser.batch_command import batch_app
from summariser.errors import BackendError, ConfigurationError, EmptySourceError, InputError
from summariser.eval_command import eval_app
from summariser.serve_command import serve

if TYPE_CHECKING:
    from summariser.pipeline import SourceFormatOption
    from summariser.summarise_command import OutputFormat
from summariser.validation import Claim, ClaimVerdict, FigureClaim, Status, check_claims

STDIN = "-"
_BOM = b"\xef\xbb\xbf"


class ExitCode(IntEnum):
    OK = 0
    INTERNAL_ERROR = 1
    BAD_INPUT = 2
    UNSUPPORTED = 3
    BACKEND_FAILURE = 4


# When a JSONL run meets several outcomes, the exit code is the most serious one.
_SEVERITY = [
    ExitCode.OK,
    ExitCode.UNSUPPORTED,
    ExitCode.BAD_INPUT,
    ExitCode.BACKEND_FAILURE,
    ExitCode.INTERNAL_ERROR,
]


def _worse(a: ExitCode, b: ExitCode) -> ExitCode:
    return max(a, b, key=_SEVERITY.index)


# --- reading inputs ----------------------------------------------------------------------------


def _shown(name: str) -> str:
    return "<stdin>" if name == STDIN else name


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise _os_error(err, str(path), "read") from err


def _read(name: str) -> bytes:
    """The bytes of file ``name``, or of stdin for ``-``."""
    return sys.stdin.buffer.read() if name == STDIN else _read_file(Path(name))


def _os_error(err: OSError, name: str, verb: str) -> InputError:
    """An OSError from reading or writing file ``name``, as a one-line InputError."""
    if isinstance(err, IsADirectoryError):
        reason = "is a directory, not a file"
    elif isinstance(err, FileNotFoundError):
        reason = "no such file" if verb == "read" else "cannot write: no such folder"
    elif isinstance(err, PermissionError):
        reason = f"cannot {verb}: permission denied"
    else:
        reason = f"cannot {verb}: {err.strerror or err}"
    return InputError(reason, path=name)


def _decode(data: bytes, name: str | None) -> str:
    """UTF-8 text (a leading byte order mark dropped); anything else is an InputError."""
    skip = len(_BOM) if data.startswith(_BOM) else 0
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as err:
        at = skip + err.start
        line = data.count(b"\n", 0, at) + 1
        column = at - data.rfind(b"\n", 0, at)
        raise InputError(
            f"not UTF-8 text (byte 0x{data[at]:02x} at column {column})", path=name, line=line
        ) from err


def _source_text(data: bytes, shown: str) -> str:
    text = _decode(data, shown)
    if not text.strip():
        raise EmptySourceError("source is empty", path=shown)
    return text


def read_source(name: str) -> str:
    """The article in file ``name`` (``-`` for stdin): UTF-8 text that is not blank."""
    return _source_text(_read(name), _shown(name))


def _load_json(text: str, name: str | None) -> Any:
    if not text.strip():
        raise InputError("empty, expected JSON", path=name)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(
            f"not valid JSON: {err.msg} (column {err.colno})", path=name, line=err.lineno
        ) from err
    except RecursionError as err:
        raise InputError("not valid JSON: nested too deeply", path=name) from err


# --- checking and reporting -------------------------------------------------------------------


def _check(
    source: str,
    claims: Sequence[Claim | FigureClaim],
    *,
    source_name: str | None = None,
    claims_name: str | None = None,
) -> list[ClaimVerdict]:
    """check_claims, with an InputError it raises pointed at the file it is about."""
    try:
        return check_claims(source, claims)
    except InputError as err:
        if err.path is not None:
            raise
        name = source_name if isinstance(err, EmptySourceError) else claims_name
        if name is None:
            raise
        raise type(err)(str(err), path=name) from err


def count(verdicts: Sequence[ClaimVerdict]) -> dict[str, int]:
    """How many claims and figures were supported, unsupported and skipped."""
    statuses = Counter(figure.status for verdict in verdicts for figure in verdict.figures)
    supported = sum(verdict.supported for verdict in verdicts)
    return {
        "claims": len(verdicts),
        "supported_claims": supported,
        "unsupported_claims": len(verdicts) - supported,
        "figures": statuses.total(),
        "supported_figures": statuses[Status.SUPPORTED],
        "unsupported_figures": statuses[Status.UNSUPPORTED],
        "skipped_figures": statuses[Status.SKIPPED],
    }


def _verdict_code(verdicts: Sequence[ClaimVerdict]) -> ExitCode:
    return ExitCode.OK if all(v.supported for v in verdicts) else ExitCode.UNSUPPORTED


def _one_line(message: object) -> str:
    return " ".join(str(message).splitlines())


def _say(message: str) -> None:
    print(f"summariser: {_one_line(message)}", file=sys.stderr, flush=True)


def _debug() -> bool:
    return os.environ.get("SUMMARISER_DEBUG", "").strip() not in ("", "0")


def _internal_error(err: Exception, where: str = "") -> str:
    """Report a bug in one line (the traceback too under SUMMARISER_DEBUG); return the line."""
    if _debug():
        traceback.print_exception(err, file=sys.stderr)
    message = f"internal error: {type(err).__name__}" + (f": {_one_line(err)}" if str(err) else "")
    hint = "" if _debug() else " (SUMMARISER_DEBUG=1 shows the traceback)"
    _say(f"{where}{message}{hint}")
    return message


@contextmanager
def _output(name: str | None, *, not_same_as: str | None = None) -> Iterator[BinaryIO]:
    """The binary stream results go to: stdout, or file ``name`` opened for writing."""
    if name is None or name == STDIN:
        sys.stdout.flush()
        yield sys.stdout.buffer
        return
    if not_same_as not in (None, STDIN) and _same_file(name, str(not_same_as)):
        raise InputError("is the input file; give another output", path=name)
    try:
        stream = open(name, "wb")  # noqa: SIM115 - closed below, after the last line is written
    except OSError as err:
        raise _os_error(err, name, "write") from err
    with stream:
        yield stream


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _write(out: BinaryIO, document: dict[str, Any], *, indent: int | None = None) -> None:
    out.write(json.dumps(document, ensure_ascii=False, indent=indent).encode() + b"\n")
    out.flush()


# --- the two modes ----------------------------------------------------------------------------


def validate_files(source: str, claims: str, output: str | None = None) -> ExitCode:
    """``--source`` and ``--claims``: one JSON document with every verdict and the counts."""
    if source == STDIN and claims == STDIN:
        raise InputError("--source and --claims cannot both be - (stdin)")
    text = read_source(source)
    claims_name = _shown(claims)
    data = _load_json(_decode(_read(claims), claims_name), claims_name)
    claim_list = inputs.parse_claims(data, path=claims_name)
    verdicts = _check(text, claim_list, source_name=_shown(source), claims_name=claims_name)
    document = {
        "source": _shown(source),
        "claims": [verdict.to_dict() for verdict in verdicts],
        "counts": count(verdicts),
    }
    with _output(output) as out:
        _write(out, document, indent=2)
    return _verdict_code(verdicts)


def validate_jsonl(requests: str, output: str | None = None) -> ExitCode:
    """``--jsonl``: one output line per request line, each written as soon as it is checked.

    A broken line gets an error record (and a message on stderr) and the others go on. Only the
    last source_path read is kept, for the lines that follow it: memory stays flat.
    """
    name = _shown(requests)
    base = Path(".") if requests == STDIN else Path(requests).parent
    lines: AbstractContextManager[BinaryIO]
    if requests == STDIN:
        lines = nullcontext(sys.stdin.buffer)
    else:
        try:
            lines = open(requests, "rb")  # noqa: SIM115 - closed by the with below
        except OSError as err:
            raise _os_error(err, name, "read") from err
    code = ExitCode.OK
    last_source: tuple[Path, str] | None = None
    with lines as stream, _output(output, not_same_as=requests) as out:
        for number, raw in enumerate(stream, start=1):
            if not raw.strip():
                continue
            request_id: str | int | None = None
            try:
                data = _load_json(_decode(raw, None), None)
                request_id = inputs.request_id(data)
                request = inputs.parse_request(data)
                if request.source_path is not None:
                    path = base / request.source_path
                    if last_source is None or last_source[0] != path:
                        last_source = (path, _source_text(_read_file(path), str(path)))
                    text = last_source[1]
                else:
                    assert request.source is not None  # parse_request gives one or the other
                    text = request.source
                verdicts = _check(text, request.claims)
            except InputError as err:
                _say(f"{name}:{number}: {err}")
                _write(out, {"id": request_id, "line": number, "error": _one_line(err)})
                code = _worse(code, ExitCode.BAD_INPUT)
                continue
            except Exception as err:  # a bug on one line must not lose the rest of the batch
                message = _internal_error(err, where=f"{name}:{number}: ")
                _write(out, {"id": request_id, "line": number, "error": message})
                code = _worse(code, ExitCode.INTERNAL_ERROR)
                continue
            _write(out, {"id": request.id, "claims": [v.to_dict() for v in verdicts]})
            code = _worse(code, _verdict_code(verdicts))
    return code


# --- the typer app ----------------------------------------------------------------------------

app = typer.Typer(
    name="summariser",
    help="LLM-assisted financial news summaries: no number is shown as fact unless the source "
    "supports it.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(eval_app, name="eval")
app.add_typer(batch_app, name="batch")
app.command()(serve)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"summariser {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """LLM-assisted financial news summaries: no number is shown as fact unless the source
    supports it."""


@app.command()
def validate(
    source: Annotated[
        str | None,
        typer.Option("--source", "-s", metavar="ARTICLE", help="The article text (- for stdin)."),
    ] = None,
    claims: Annotated[
        str | None,
        typer.Option("--claims", "-c", metavar="CLAIMS.json", help="A JSON list of claims."),
    ] = None,
    jsonl: Annotated[
        str | None,
        typer.Option(
            "--jsonl",
            metavar="REQUESTS.jsonl",
            help='Many requests, one a line: {"id", "source" | "source_path", "claims"}.',
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", metavar="OUT", help="Write the JSON here, not stdout."),
    ] = None,
) -> None:
    """Check every figure of every claim against the source, by value.

    Exit 0 when all are supported, 3 when some figure is not, 2 for bad input, 1 for a bug.
    """

    def job() -> ExitCode:
        if jsonl is not None:
            if source is not None or claims is not None:
                raise InputError("give --source with --claims, or --jsonl, not both")
            return validate_jsonl(jsonl, output)
        if source is None and claims is None:
            raise InputError("give --source ARTICLE with --claims CLAIMS.json, or --jsonl FILE")
        if source is None or claims is None:
            raise InputError(
                "--source needs --claims" if claims is None else "--claims needs --source"
            )
        return validate_files(source, claims, output)

    raise typer.Exit(_guarded(job))


@app.command()
def summarise(
    article: Annotated[str, typer.Argument(metavar="FILE", help="The article (- for stdin).")],
    backend: Annotated[
        str | None,
        typer.Option(help="openai or offline; default: openai when a key or base URL is set"),
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model name (SUMMARISER_MODEL).")] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="OpenAI-compatible server (OPENAI_BASE_URL).")
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="json or markdown.", metavar="FORMAT")
    ] = "json",
    input_format: Annotated[
        str, typer.Option("--input-format", help="auto, text, markdown or html.")
    ] = "auto",
    html: Annotated[
        str | None, typer.Option("--html", metavar="FILE", help="Also write an HTML report.")
    ] = None,
    output: Annotated[
        str | None, typer.Option("--output", "-o", metavar="OUT", help="Write here, not stdout.")
    ] = None,
    drop_unsupported: Annotated[
        bool, typer.Option("--drop-unsupported", help="Remove items with unsupported figures.")
    ] = False,
) -> None:
    """Summarise one article into checked JSON: every figure verified against the article.

    Exit 0 ok, 3 when unsupported figures remain, 2 bad input, 4 backend failure.
    """

    def job() -> ExitCode:
        from dataclasses import replace

        from summariser.settings import Settings
        from summariser.summarise_command import summarise_file

        out_format = _OUTPUT_FORMATS.get(output_format)
        in_format = _INPUT_FORMATS.get(input_format)
        if out_format is None:
            raise InputError(f"--format must be json or markdown, not {output_format!r}")
        if in_format is None:
            raise InputError(
                f"--input-format must be auto, text, markdown or html, not {input_format!r}"
            )
        settings = Settings.from_env(
            backend=backend, model=model, base_url=base_url, allow_fake=False
        )
        settings = replace(settings, drop_unsupported=drop_unsupported)
        if settings.backend_was_defaulted:
            _say(
                "no OPENAI_API_KEY or OPENAI_BASE_URL set: using the offline backend "
                "(deterministic, no model, no network)"
            )
        _, code = summarise_file(
            article,
            settings,
            output_format=out_format,
            output=output,
            html=html,
            input_format=in_format,
        )
        return ExitCode(code)

    raise typer.Exit(_guarded(job))


_OUTPUT_FORMATS: dict[str, OutputFormat] = {"json": "json", "markdown": "markdown"}
_INPUT_FORMATS: dict[str, SourceFormatOption] = {
    "auto": "auto",
    "text": "text",
    "markdown": "markdown",
    "html": "html",
}


def _guarded(job: Callable[[], ExitCode]) -> ExitCode:
    """Run ``job``, turning errors into a one-line message and an exit code."""
    try:
        return job()
    except (InputError, ConfigurationError) as err:
        _say(f"error: {err}")
        return ExitCode.BAD_INPUT
    except BackendError as err:
        _say(f"backend error: {err}")
        return ExitCode.BACKEND_FAILURE
    except BrokenPipeError:
        raise  # the reader went away (`| head`): typer exits quietly
    except Exception as err:
        _internal_error(err)
        return ExitCode.INTERNAL_ERROR


def main() -> None:
    """The ``summariser`` console script."""
    logging.basicConfig(format="summariser: %(message)s", level=logging.WARNING)
    app(prog_name="summariser")
