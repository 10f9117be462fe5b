"""``summariser validate``: claims against an article, or a JSONL file of such requests.

Stage: edge (I/O), a thin layer over :func:`summariser.check_claims`. In: an article and a
claims file, or a JSONL file of requests, from paths or stdin. Out: JSON on stdout (or ``-o``)
and an exit code. This is the one place where lower-level errors of reading them (OSError,
UnicodeDecodeError, JSON decoding) are translated into :class:`~summariser.errors.InputError`.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, BinaryIO

from summariser import inputs
from summariser.console import ExitCode, internal_error, one_line, say, worse
from summariser.errors import EmptySourceError, InputError
from summariser.validation import Claim, ClaimVerdict, FigureClaim, Status, check_claims

STDIN = "-"
_BOM = b"\xef\xbb\xbf"


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
                say(f"{name}:{number}: {err}")
                _write(out, {"id": request_id, "line": number, "error": one_line(err)})
                code = worse(code, ExitCode.BAD_INPUT)
                continue
            except Exception as err:  # a bug on one line must not lose the rest of the batch
                message = internal_error(err, where=f"{name}:{number}: ")
                _write(out, {"id": request_id, "line": number, "error": message})
                code = worse(code, ExitCode.INTERNAL_ERROR)
                continue
            _write(out, {"id": request.id, "claims": [v.to_dict() for v in verdicts]})
            code = worse(code, _verdict_code(verdicts))
    return code
