"""Non-amounts read whole by the scanner: dates, periods, clock times, phone numbers."""

from __future__ import annotations

import re

from summariser.figures.context import _step_of
from summariser.figures.model import Figure, FigureKind

_MONTHS = (
    r"Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?"
)


_MONTH_NUMBER = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
# Words that can open a figure. Fractions that need a number before them ("two-thirds",
# "three quarters") are read from that number; "first"/"second" only open periods.


def _read_fixed(text: str, scan: str, group: str, match: re.Match[str]) -> Figure | None:
    """Non-amounts whose whole form the scanner matched: phone, date, time, period, marker."""
    start, end = match.span()
    raw = scan[start:end]
    if group == "phone":
        return Figure(text[start:end], start, end, FigureKind.PHONE, 0.0, step=0.0, key=raw)
    if group == "time":
        # A clock time is compared as the number it is written as ("10.38 am" -> 10.38), so
        # that "about 10.4 am" is checked like any rounded figure.
        clock = re.match(r"(\d+)(?:[:.](\d+))?", raw)
        digits = f"{clock.group(1)}.{clock.group(2)}" if clock and clock.group(2) else raw[:2]
        digits = digits if clock else "0"
        value = float(digits.rstrip(" ") or 0)
        return Figure(text[start:end], start, end, FigureKind.TIME, value, step=_step_of(digits))
    if group == "date":
        key = _date_key(raw)
        day = re.search(r"\d+", raw)
        value = float(day.group()) if day else 0.0
        return Figure(text[start:end], start, end, FigureKind.DATE, value, key=key)
    key = _period_key(raw)
    year = re.search(r"\d{4}|\d{2}$", key)
    value = float(year.group()) if year else float(key[-1])
    return Figure(
        text[start:end],
        start,
        end,
        FigureKind.PERIOD,
        value,
        key=key,
        hedge=None,
    )


def _date_key(raw: str) -> str:
    """``May 13`` / ``13th of May`` -> ``05-13``; ``13/05/2026`` and ISO dates kept whole."""
    if "/" in raw or re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        return raw
    month = re.search(r"[A-Za-z]{3}", re.sub(r"(?:st|nd|rd|th)?\s+(?:of\s+)?", " ", raw))
    day = re.search(r"\d{1,2}", raw)
    month_number = _MONTH_NUMBER.get(month.group().lower(), 0) if month else 0
    return f"{month_number:02d}-{int(day.group()) if day else 0:02d}"


_QUARTER_WORDS = {"first": "1", "second": "2", "third": "3", "fourth": "4"}


def _period_key(raw: str) -> str:
    """``Q4``/``4Q``/``fourth quarter`` -> ``Q4``; ``FY26`` -> ``FY2026``;
    ``2005/06`` -> ``2005-06``."""
    lowered = raw.lower()
    if lowered.startswith("fy"):
        year = re.sub(r"\D", "", lowered)
        if len(year) == 2:
            year = ("20" if int(year) < 70 else "19") + year
        return f"FY{year}"
    if re.fullmatch(r"\d{4}[-/]\d{2}", lowered):
        return lowered.replace("/", "-")
    words = re.split(r"\s+|-", lowered)
    if len(words) == 2:
        number = _QUARTER_WORDS.get(words[0], words[0][:1])
        return ("H" if words[1] == "half" else "Q") + number
    letter = "Q" if "q" in lowered else "H"
    return letter + re.sub(r"\D", "", lowered)
