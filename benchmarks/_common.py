"""Shared helpers for the benchmark scripts in this folder (not a benchmark itself).

Importing this module puts the repository root on ``sys.path``, so that the scripts can be run
as ``python benchmarks/NAME.py`` from anywhere without installing the package. It also holds
the default data locations (``../shared`` relative to the repository root), table formatting,
JSON-lines reading and a plain serialiser for verdicts.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
DATA_DIR = SHARED / "data"
VALIDATOR_SUITE_DIR = SHARED / "validator_suite"
PARAPHRASE_SUITE_DIR = SHARED / "paraphrase_suite"

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


def die(message: str, code: int = 2) -> NoReturn:
    """Print ``message`` to stderr and exit (2: the data is absent or unusable)."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(code)


def require_file(path: Path, what: str) -> Path:
    if not path.is_file():
        die(f"{what} not found at {path} (pass its location with the matching option)")
    return path


def require_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        die(f"{what} not found at {path} (pass its location with the matching option)")
    return path


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                die(f"{path}:{number}: not valid JSON ({exc})")


def pct(part: int | float, whole: int | float) -> str:
    """``part`` as a percentage of ``whole``, or ``-`` when ``whole`` is zero."""
    return f"{100.0 * part / whole:.1f}%" if whole else "-"


def ratio(part: int | float, whole: int | float) -> float | None:
    return part / whole if whole else None


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], title: str = "") -> str:
    """A plain text table; columns holding only numbers (or ``-``) are right-aligned."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    numeric = [
        all(_looks_numeric(r[i]) for r in cells[1:]) and len(cells) > 1 for i in range(len(headers))
    ]

    def fmt(row: list[str]) -> str:
        parts = [
            row[i].rjust(widths[i]) if numeric[i] else row[i].ljust(widths[i])
            for i in range(len(row))
        ]
        return "  ".join(parts).rstrip()

    lines = [title] if title else []
    lines.append(fmt(cells[0]))
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(fmt(r) for r in cells[1:])
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.3f}" if abs(value) >= 1 or value == 0 else f"{value:.3g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _looks_numeric(text: str) -> bool:
    stripped = text.replace(",", "").replace("%", "").replace("x", "").replace("-", "").strip()
    if not stripped:
        return text.strip() == "-"
    try:
        float(stripped.lstrip("<>=≥≤ "))
    except ValueError:
        return False
    return True


def shorten(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def fmt_value(value: float) -> str:
    if value != value:  # NaN
        return "nan"
    if value == int(value) and abs(value) < 1e16:
        return f"{int(value):,}"
    return f"{value:,.6g}" if abs(value) >= 1e6 else repr(value)


def span_text(span: Any) -> str:
    return str(getattr(span, "text", span))


def figure_to_dict(figure: Any) -> dict[str, Any]:
    """A :class:`summariser.Figure` as plain JSON data (independent of any ``to_dict``)."""
    return {
        "text": figure.text,
        "start": figure.start,
        "end": figure.end,
        "kind": str(figure.kind),
        "value": figure.value,
        "unit": figure.unit,
        "scale": getattr(figure, "scale", None),
        "step": getattr(figure, "step", None),
        "hedge": figure.hedge,
        "key": getattr(figure, "key", None),
    }


def figure_verdict_to_dict(verdict: Any) -> dict[str, Any]:
    return {
        "figure": figure_to_dict(verdict.figure),
        "status": str(verdict.status),
        "reason": str(verdict.reason),
        "evidence": [span_text(s) for s in verdict.evidence],
        "hints": [span_text(s) for s in verdict.hints],
    }


def describe_figure_verdict(verdict: Any, indent: str = "    ") -> str:
    """One line for a figure verdict: text, value, unit, status, reason, hints."""
    fig = verdict.figure
    line = (
        f"{indent}{fig.text!r:<24} value={fmt_value(fig.value)} unit={fig.unit or '-'} "
        f"kind={fig.kind} {verdict.status}/{verdict.reason}"
    )
    if fig.hedge:
        line += f" hedge={fig.hedge!r}"
    if verdict.hints:
        line += " hints=" + ", ".join(repr(span_text(s)) for s in verdict.hints[:6])
    elif verdict.evidence:
        line += " evidence=" + ", ".join(repr(span_text(s)) for s in verdict.evidence[:3])
    return line


def write_json(path: str, payload: dict[str, Any]) -> None:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {out}")
