"""The run folder on disk: ``samples.jsonl``, ``summary.json`` and ``report.html``.

Stage: evals, I/O. In: a folder path. Out: :class:`~evals.core.Sample` lists and summary dicts,
read back the way the runner wrote them.

Samples are appended one complete line per ``write`` call and flushed at once, so a crash
leaves at most one torn line, at the end; :func:`read_samples` ignores it and
:func:`repair_samples` cuts it off before a resumed run appends. The summary is replaced
atomically (written beside, then renamed), so a reader never sees half of one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from evals.core import Sample
from summariser.errors import InputError

SAMPLES = "samples.jsonl"
SUMMARY = "summary.json"
REPORT = "report.html"
RUN_FILES = (SAMPLES, SUMMARY, REPORT)


class RunError(InputError):
    """A run folder that cannot be read (missing files, broken JSON): exit code 2."""


@dataclass(frozen=True, slots=True)
class Run:
    """A finished (or partial) run read back from its folder."""

    folder: Path
    summary: dict[str, Any]
    samples: list[Sample]

    @property
    def header(self) -> dict[str, Any]:
        header = self.summary.get("header")
        return header if isinstance(header, dict) else {}


def _parse_lines(data: bytes, path: Path) -> tuple[list[Sample], int]:
    """The samples in ``data`` and the byte length of its good part (a torn tail excluded)."""
    samples: list[Sample] = []
    good = 0
    lines = data.split(b"\n")
    for number, raw in enumerate(lines, start=1):
        last = number == len(lines)
        end = good + len(raw) + (0 if last else 1)
        if not raw.strip():
            good = end
            continue
        try:
            record = json.loads(raw)
            if not isinstance(record, dict):
                raise TypeError("not an object")
            sample = Sample.from_dict(record)
        except (ValueError, TypeError) as err:
            if last or not any(rest.strip() for rest in lines[number:]):
                break  # a torn final line from a crash: drop it, keep the rest
            raise RunError(f"line {number} is not a sample: {err}", path=str(path)) from err
        samples.append(sample)
        good = end
    return samples, good


def read_samples(path: Path) -> list[Sample]:
    """Every complete sample in ``path`` (none when it is absent); a torn last line is ignored.
    When an id occurs twice the later line wins."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as err:
        raise RunError(f"cannot read: {err.strerror or err}", path=str(path)) from err
    samples, _ = _parse_lines(data, path)
    return list({sample.id: sample for sample in samples}.values())


def repair_samples(path: Path) -> None:
    """Cut a torn last line off ``path`` and make it end with a newline, ready to append."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    _, good = _parse_lines(data, path)
    kept = data[:good]
    if kept and not kept.endswith(b"\n"):
        kept += b"\n"
    if kept != data:
        with open(path, "wb") as stream:
            stream.write(kept)


class SampleWriter:
    """Appends samples to ``samples.jsonl``, one whole line per write, flushed each time."""

    def __init__(self, path: Path) -> None:
        self._stream: IO[str] = open(path, "a", encoding="utf-8")  # noqa: SIM115 - see close

    def write(self, sample: Sample) -> None:
        line = json.dumps(sample.to_dict(), ensure_ascii=False, default=str) + "\n"
        self._stream.write(line)
        self._stream.flush()

    def close(self) -> None:
        self._stream.close()


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def read_summary(folder: Path) -> dict[str, Any] | None:
    """The summary in ``folder``, or None when there is none yet."""
    path = folder / SUMMARY
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise RunError(f"cannot read: {err}", path=str(path)) from err
    try:
        summary = json.loads(text)
    except json.JSONDecodeError as err:
        raise RunError(f"not valid JSON: {err.msg}", path=str(path), line=err.lineno) from err
    if not isinstance(summary, dict):
        raise RunError("not a run summary (expected a JSON object)", path=str(path))
    return summary


def load_run(folder: str | Path) -> Run:
    """The run in ``folder``: its summary (required) and its samples."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RunError("no such run folder", path=str(folder))
    summary = read_summary(folder)
    if summary is None:
        raise RunError(
            f"no {SUMMARY}: not a run folder, or a run that never started", path=str(folder)
        )
    return Run(folder, summary, read_samples(folder / SAMPLES))
