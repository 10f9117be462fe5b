"""Key figures of an article as metrics: what each measures, whose it is, when, and how it moved.

Stage: pure core (no I/O). In: the article text, its sentences, its figures (from the
validator's parser) and its names. Out: :class:`MetricCandidate` values ranked by importance,
each holding only text of the article (the figure as written, the sentence that states it),
so that the validator finds every figure where the metric says it stands.
"""

# Article text is full of look-alike characters on purpose (curly quotes, en dashes, the
# full-width punctuation of Chinese): the patterns must spell them out.
# ruff: noqa: RUF001

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from summariser.figures import Figure, FigureKind
from summariser.offline import lexicon as lex
from summariser.offline.entities import EntityIndex
from summariser.offline.sentences import Sentence
from summariser.schema import Direction

_TOKEN = re.compile(r"[A-Za-z][\w'’&-]*(?:\.[A-Za-z]\.?)*|\d[\d.,]*%?")
_CLAUSE_BREAK = re.compile(r"[,;:(]\s|\s[-–—]\s|[，；：（]")
_PERIOD = re.compile(
    r"\b(?:Q[1-4](?:\s+(?:FY\s?)?(?:19|20)\d{2})?|H[12]|FY\s?'?\d{2,4}"
    r"|(?i:(?:first|second|third|fourth)[ -](?:quarter|half)(?:\s+of\s+(?:fiscal\s+)?\d{4})?"
    r"|(?:the\s+)?(?:january|february|march|april|may|june|july|august|september|october"
    r"|november|december)\s+quarter|full[ -]year(?:\s+\d{4})?|fiscal\s+(?:year\s+)?\d{4}"
    r"|(?:this|the|last|previous|prior|current|next|coming)\s+(?:quarter|year|fiscal\s+year)"
    r"|year[ -]end|year[ -]to[ -]date))\b"
)
_YEAR_IN = re.compile(r"\b(?:in|for|by|of|during)\s+((?:fiscal\s+)?(?:19|20)\d{2})\b")
# Adverbial hedges kept with the value ("more than 8 billion yuan"); verbs such as "exceeded"
# stay in the sentence, since a value starting with a verb reads badly.
_HEDGE_BEFORE = re.compile(
    r"(?i)(?:about|around|roughly|approximately|nearly|almost|more than|less than|over|under"
    r"|up to|at least|just over|just under|close to|some)\s+$"
)
_PER_SHARE = re.compile(r"(?i)\s*(?:a|per)\s+(?:diluted\s+|common\s+|basic\s+)*share")
_EPS_BEFORE = re.compile(
    r"(?i)\b(?:per\s+(?:diluted\s+|common\s+|basic\s+)*share|eps|earnings\s+per)\b"
)
_EPS_QUALIFIERS = ("non-gaap", "gaap", "adjusted", "diluted")
# Outlook sentences: Reuters-style summaries of results lead with guidance.
_GUIDANCE = re.compile(
    r"(?i)\b(?:guidance|outlook|expects?|expected|forecasts?|anticipates?|range of)\b"
)
_KEY_TERMS = frozenset(
    {"revenue", "revenues", "sales", "eps", "per share", "net income", "net profit", "profit",
     "earnings", "guidance", "outlook", "ebitda", "margin", "arr", "operating income"}
)  # fmt: skip
_PRIOR = re.compile(r"\b(?:from|compared\s+(?:with|to)|versus|vs\.?|against)\s+(?:\w+\s+){0,3}$")
_MAX_NAME_WORDS = 4
_PART_OF = frozenset({"share", "proportion", "percentage", "portion", "part", "half"})


@dataclass(frozen=True, slots=True)
class MetricCandidate:
    figure: Figure
    sentence: Sentence
    value: str  # the figure as written (with an adverbial hedge before it, if any)
    metric: str
    entity: str
    period: str | None
    change: tuple[Figure, Direction] | None
    score: float


@dataclass(slots=True)
class _Draft:
    figure: Figure
    sentence: Sentence
    is_change: bool
    direction: Direction | None
    metric: str = ""
    named: bool = False
    change: tuple[Figure, Direction] | None = None
    consumed: bool = False


def find_metrics(
    text: str,
    sentences: list[Sentence],
    figures: list[Figure],
    names: EntityIndex,
    limit: int = 15,
) -> list[MetricCandidate]:
    """The article's metrics, most important first, at most ``limit``."""
    by_sentence = _group(sentences, figures)
    drafts: list[_Draft] = []
    for sentence, found in by_sentence:
        kept = [f for i, f in enumerate(found) if _is_metric_figure(f)]
        kept = [f for i, f in enumerate(kept) if not (i and _conversion(text, kept[i - 1], f))]
        local = [_draft(text, sentence, f) for f in kept]
        _pair_changes(text, local)
        previous = ""
        for d in local:
            d.metric, d.named = _metric_name(text, d, previous)
            previous = d.metric
        drafts += [d for d in local if not d.consumed]
    repeats: dict[tuple[float, str | None], int] = {}
    for d in drafts:
        value_key = (round(d.figure.value, 6), d.figure.unit)
        repeats[value_key] = repeats.get(value_key, 0) + 1
    total = max(len(sentences), 1)
    main = names.main or "unspecified"
    best: dict[tuple[float, str | None, str], MetricCandidate] = {}
    key: tuple[float, str | None, str]
    for d in drafts:
        entity = names.near(d.sentence.start, d.sentence.end, d.figure.start) or main
        score = _score(text, d, total, repeats[(round(d.figure.value, 6), d.figure.unit)])
        score += 0.5 if entity.startswith(main) else 0.0  # "Alibaba Cloud" is Alibaba's
        candidate = MetricCandidate(
            figure=d.figure,
            sentence=d.sentence,
            value=_value_text(text, d.figure),
            metric=d.metric,
            entity=entity,
            period=_period(text, d.sentence, d.figure),
            change=d.change,
            score=score,
        )
        key = (round(d.figure.value, 6), d.figure.unit, _head(d.metric))
        if key not in best or best[key].score < score:
            best[key] = candidate
    ranked = sorted(best.values(), key=lambda c: (-c.score, c.figure.start))
    return ranked[:limit]


def _group(sentences: list[Sentence], figures: list[Figure]) -> list[tuple[Sentence, list[Figure]]]:
    starts = [s.start for s in sentences]
    groups: dict[int, list[Figure]] = {}
    for figure in figures:
        i = bisect_right(starts, figure.start) - 1
        if i >= 0 and figure.end <= sentences[i].end:
            groups.setdefault(i, []).append(figure)
    return [(sentences[i], groups[i]) for i in sorted(groups)]


def _is_metric_figure(figure: Figure) -> bool:
    """Amounts only, and not the small bare counts of prose ("two years", "3 to 12 months")."""
    if not figure.is_amount:
        return False
    if figure.kind is FigureKind.NUMBER:
        if figure.scale != 1.0:
            return True
        return not figure.spelled and abs(figure.value) >= 1000 and "," in figure.text
    if figure.kind is FigureKind.PERCENT:
        return not figure.spelled
    return True


def _conversion(text: str, previous: Figure, figure: Figure) -> bool:
    """ "$86m (£46m)": the bracketed amount restates the one before in another currency."""
    if previous.kind is not FigureKind.MONEY or figure.kind is not FigureKind.MONEY:
        return False
    return text[previous.end : figure.start].strip() == "(" and previous.unit != figure.unit


def _tokens_before(text: str, start: int, end: int) -> list[str]:
    return [t.rstrip(".").lower() for t in _TOKEN.findall(text, start, end)]


def _draft(text: str, sentence: Sentence, figure: Figure) -> _Draft:
    """Whether the figure is a change ("rose 12%", "a 40% increase"), and which way."""
    if figure.kind not in (
        FigureKind.PERCENT,
        FigureKind.POINTS,
        FigureKind.BASIS_POINTS,
        FigureKind.MULTIPLE,
    ):
        return _Draft(figure, sentence, False, _direction_near(text, sentence, figure))
    before = _tokens_before(text, max(sentence.start, figure.start - 60), figure.start)[-4:]
    after = _tokens_before(text, figure.end, min(sentence.end, figure.end + 40))[:3]
    if figure.kind is FigureKind.MULTIPLE and figure.text[:1].isalpha():
        # "doubling", "tenfold": the word is the change itself
        return _Draft(figure, sentence, True, "up")
    # "rose 12%", "up 5%", "grew by 40%", "growth to 40%", "a 123% increase"; but "rose to
    # 32.8%" gives the new level, not the change
    for i in range(len(before) - 1, -1, -1):
        word = before[i]
        if word in ("to",) and i > 0 and before[i - 1] not in lex.CHANGE_NOUNS:
            break
        if word in lex.UP_WORDS or word in lex.DOWN_WORDS:
            return _Draft(figure, sentence, True, "up" if word in lex.UP_WORDS else "down")
    for word in after:
        if word in lex.UP_WORDS or word in lex.DOWN_WORDS:
            return _Draft(figure, sentence, True, "up" if word in lex.UP_WORDS else "down")
        if word in ("year-over-year", "year-on-year", "yoy", "y/y", "annually"):
            return _Draft(figure, sentence, True, _direction_near(text, sentence, figure) or "up")
    return _Draft(figure, sentence, False, None)


def _direction_near(text: str, sentence: Sentence, figure: Figure) -> Direction | None:
    for word in reversed(
        _tokens_before(text, max(sentence.start, figure.start - 50), figure.start)
    ):
        if word in lex.UP_WORDS:
            return "up"
        if word in lex.DOWN_WORDS:
            return "down"
    return None


def _pair_changes(text: str, drafts: list[_Draft]) -> None:
    """Give a level figure the change its sentence pairs it with ("rose 12% to $4.2 billion",
    "$20 billion, up 5%"): the closest change within a short stretch, used once."""
    levels = [d for d in drafts if not d.is_change and d.figure.kind is not FigureKind.PERCENT]
    for change in (d for d in drafts if d.is_change and d.direction is not None):
        near = [lv for lv in levels if lv.change is None and _close(text, change.figure, lv.figure)]
        if near:
            level = min(near, key=lambda lv: _gap(change.figure, lv.figure))
            assert change.direction is not None
            level.change = (change.figure, change.direction)
            change.consumed = True


def _close(text: str, a: Figure, b: Figure) -> bool:
    """Near enough to be paired: adjacent, or a little apart within one clause."""
    gap = _gap(a, b)
    return gap <= 25 or (gap <= 70 and _CLAUSE_BREAK.search(text, *_between(a, b)) is None)


def _gap(a: Figure, b: Figure) -> int:
    return b.start - a.end if a.end <= b.start else a.start - b.end


def _between(a: Figure, b: Figure) -> tuple[int, int]:
    return (a.end, b.start) if a.end <= b.start else (b.end, a.start)


def _metric_name(text: str, draft: _Draft, previous: str) -> tuple[str, bool]:
    """A short name for what the figure measures, from the words before it in its clause
    (then after it, then the whole sentence), and whether a finance term was found."""
    figure, sentence = draft.figure, draft.sentence
    clause_start = sentence.start
    for match in _CLAUSE_BREAK.finditer(text, sentence.start, figure.start):
        clause_start = match.end()
    if _is_eps(text, sentence, figure):
        return _eps_name(text[max(sentence.start, figure.start - 80) : figure.start]), True
    phrase = _phrase_before(text, clause_start, figure.start)
    if phrase is None:
        phrase = _phrase_after(text, figure.end, sentence.end)
    if phrase is None and clause_start > sentence.start:
        phrase = _phrase_before(text, sentence.start, clause_start)
    if phrase is None:
        if previous:
            return previous, False
        return _generic(figure), False
    changed = draft.is_change and draft.direction is not None
    if changed and phrase.split()[-1].lower() not in lex.CHANGE_NOUNS:
        phrase += " growth" if draft.direction == "up" else " decline"
    return phrase, True


def _is_eps(text: str, sentence: Sentence, figure: Figure) -> bool:
    """A per-share amount: "$1.49 per share", "EPS of $1.01", "earnings per share were $8.71"."""
    if figure.kind is not FigureKind.MONEY or figure.scale != 1.0:
        return False
    if _PER_SHARE.match(text, figure.end, min(sentence.end, figure.end + 30)):
        return True
    return (
        _EPS_BEFORE.search(text, max(sentence.start, figure.start - 50), figure.start) is not None
    )


def _eps_name(before: str) -> str:
    """ "EPS" with the qualifiers written before it: "adjusted EPS", "GAAP diluted EPS"."""
    lowered = before.lower()
    words = set(_TOKEN.findall(lowered))
    qualifiers = [q for q in _EPS_QUALIFIERS if q in words]
    if "non-gaap" in qualifiers and "gaap" in qualifiers:
        qualifiers.remove("gaap")
    name = "loss per share" if re.search(r"\bloss", lowered) else "EPS"
    return " ".join([*(q.replace("gaap", "GAAP") for q in qualifiers), name])


def _phrase_before(text: str, start: int, end: int) -> str | None:
    words = _TOKEN.findall(text, start, end)
    lowered = [w.rstrip(".").lower() for w in words]
    change_noun: str | None = None
    for i in range(len(words) - 1, -1, -1):
        if i > 0 and f"{lowered[i - 1]} {lowered[i]}" in lex.METRIC_TERMS:
            j = i - 1
        elif lowered[i] in lex.METRIC_TERMS:
            j = i
        else:
            continue
        if lowered[i] in lex.CHANGE_NOUNS and change_noun is None:
            change_noun = lowered[i]
            if any(w in lex.METRIC_TERMS and w not in lex.CHANGE_NOUNS for w in lowered[:i]):
                continue  # "revenue ... growth to 40%": name what grew
        name = _grow(words, lowered, j, i)
        if change_noun is not None and not name.lower().endswith(change_noun):
            name += f" {change_noun}"
        return name
    return None


def _grow(words: list[str], lowered: list[str], first: int, last: int) -> str:
    """The noun phrase around a metric term: modifiers to its left, up to a possessive."""
    while first > 0:
        prev = words[first - 1]
        if prev.endswith(("'s", "’s", "'", "’")):
            break
        if lowered[first - 1] not in lex.METRIC_MODIFIERS and not _acronym(prev):
            break
        first -= 1
    picked = words[max(first, last + 1 - _MAX_NAME_WORDS) : last + 1]
    acronym = len(picked) > 1 and picked[-1].lower() in lex.ACRONYM_METRICS
    if acronym and picked[-2].lower() in lex.METRIC_TERMS:
        return picked[-1]  # "Annual Recurring Revenue (ARR)" is "ARR"
    # "Revenue" opening a sentence and "Annual Recurring Revenue" are plain metric words
    name = " ".join(w.lower() if w[1:].islower() else w for w in picked)
    if first >= 2 and lowered[first - 1] == "of" and lowered[first - 2] in _PART_OF:
        name = f"{lowered[first - 2]} of {name}"  # "the share of AI revenue will exceed 50%"
    return name


def _acronym(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    return len(letters) >= 2 and sum(c.isupper() for c in letters) >= 2


def _phrase_after(text: str, start: int, end: int) -> str | None:
    """Metric words just after the figure: "30% of external revenue", "$2bn in sales"."""
    words = _TOKEN.findall(text, start, min(end, start + 60))[:5]
    lowered = [w.rstrip(".").lower() for w in words]
    share = bool(lowered) and lowered[0] == "of"
    for i, word in enumerate(lowered):
        if word in lex.METRIC_TERMS and word not in lex.CHANGE_NOUNS:
            name = _grow(words, lowered, i, i)
            return f"share of {name}" if share else name
    return None


def _generic(figure: Figure) -> str:
    return {
        FigureKind.MONEY: "amount",
        FigureKind.PERCENT: "percentage",
        FigureKind.POINTS: "points",
        FigureKind.BASIS_POINTS: "basis points",
        FigureKind.MULTIPLE: "multiple",
    }.get(figure.kind, "count")


def _head(metric: str) -> str:
    """The word that says what a metric is (for de-duplication): its last word."""
    return metric.rsplit(" ", 1)[-1].lower()


def _value_text(text: str, figure: Figure) -> str:
    match = _HEDGE_BEFORE.search(text, max(0, figure.start - 16), figure.start)
    if match is not None and figure.hedge is not None:
        return text[match.start() : figure.end]
    if figure.text.startswith(("- ", "– ")):
        return figure.text[2:]  # a dash set off by spaces is punctuation ("revenues - £160m")
    return figure.text


def _period(text: str, sentence: Sentence, figure: Figure) -> str | None:
    """The period the sentence gives (nearest to the figure, before it preferred)."""
    best: tuple[int, str] | None = None
    for match in _PERIOD.finditer(text, sentence.start, sentence.end):
        distance = figure.start - match.end() if match.end() <= figure.start else 0
        if match.start() >= figure.end:
            distance = (match.start() - figure.end) * 2  # after the figure: less likely its own
        if best is None or distance < best[0]:
            best = (distance, match.group())
    if best is None:
        years = _YEAR_IN.findall(text, sentence.start, sentence.end)
        return years[0] if years else None
    return best[1]


def _score(text: str, d: _Draft, total: int, repeats: int) -> float:
    """Importance: money with a scale word first, then growth rates, then the rest; earlier
    and repeated figures, and the article's key metric terms, count for more."""
    figure = d.figure
    kind = figure.kind
    eps = d.metric.endswith(("EPS", "per share"))
    if kind is FigureKind.MONEY:
        score = 3.0 if figure.scale >= 1e6 or eps else 2.2
    elif kind is FigureKind.PERCENT:
        score = 2.2 if d.is_change else 1.7
    elif kind is FigureKind.NUMBER:
        score = 1.5 if figure.scale != 1.0 else 0.8
    else:
        score = 1.3
    score += 0.7 if d.change is not None else 0.0
    score += 0.6 if d.named else -0.6
    if d.named and any(term in d.metric.lower() for term in _KEY_TERMS):
        score += 0.5
    score += 1.2 * (1.0 - d.sentence.index / total)
    score += 0.5 if d.sentence.line or d.sentence.index < 3 else 0.0
    score += 0.25 * min(repeats - 1, 4)
    if kind is FigureKind.MONEY and _GUIDANCE.search(d.sentence.text):
        score += 0.4
    before = text[max(d.sentence.start, figure.start - 40) : figure.start].lower()
    if _PRIOR.search(before):
        score -= 1.0  # "up from 35%", "compared with $1.01": the earlier value, less news
    return score
