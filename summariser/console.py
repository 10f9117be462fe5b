"""The command line's shared edge: exit codes, one-line messages, and turning errors into them.

Stage: edge. Every command (summarise, validate, batch, eval, serve) reports through these, so
that bad input is one line and a distinct exit code, never a traceback.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from enum import IntEnum

from summariser.errors import BackendError, ConfigurationError, InputError


class ExitCode(IntEnum):
    OK = 0
    INTERNAL_ERROR = 1
    BAD_INPUT = 2
    UNSUPPORTED = 3
    BACKEND_FAILURE = 4


# When a JSONL run meets several outcomes, the exit code is the most serious one.
SEVERITY = [
    ExitCode.OK,
    ExitCode.UNSUPPORTED,
    ExitCode.BAD_INPUT,
    ExitCode.BACKEND_FAILURE,
    ExitCode.INTERNAL_ERROR,
]


def worse(a: ExitCode, b: ExitCode) -> ExitCode:
    return max(a, b, key=SEVERITY.index)


def one_line(message: object) -> str:
    return " ".join(str(message).splitlines())


def say(message: str) -> None:
    print(f"summariser: {one_line(message)}", file=sys.stderr, flush=True)


def debug() -> bool:
    return os.environ.get("SUMMARISER_DEBUG", "").strip() not in ("", "0")


def internal_error(err: Exception, where: str = "") -> str:
    """Report a bug in one line (the traceback too under SUMMARISER_DEBUG); return the line."""
    if debug():
        traceback.print_exception(err, file=sys.stderr)
    message = f"internal error: {type(err).__name__}" + (f": {one_line(err)}" if str(err) else "")
    hint = "" if debug() else " (SUMMARISER_DEBUG=1 shows the traceback)"
    say(f"{where}{message}{hint}")
    return message


def guarded(job: Callable[[], ExitCode]) -> ExitCode:
    """Run ``job``, turning errors into a one-line message and an exit code."""
    try:
        return job()
    except (InputError, ConfigurationError) as err:
        say(f"error: {err}")
        return ExitCode.BAD_INPUT
    except BackendError as err:
        say(f"backend error: {err}")
        return ExitCode.BACKEND_FAILURE
    except BrokenPipeError:
        raise  # the reader went away (`| head`): typer exits quietly
    except Exception as err:
        internal_error(err)
        return ExitCode.INTERNAL_ERROR
