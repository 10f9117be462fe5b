"""Token-budget chunks of an article, with offsets into it.

Stage: chunking (pure core: no I/O, no tiktoken; the counter is passed in, usually
``summariser.tokens.encoding_for_model(model).count``). In: the cleaned text, a token budget,
an overlap, a counting function. Out: :class:`Chunk` values in order, each with
``text[chunk.start:chunk.end] == chunk.text`` and ``chunk.tokens <= budget`` as counted by the
same function.

How a text is cut, from the best boundary to the last resort: blank lines (paragraphs); line
ends after a sentence, and the rows of tables and lists; sentence ends (``. ! ?`` followed by a
capital or a digit, not after ``Inc.``, ``U.S.``, ``Mr.``...; the Chinese full stop,
exclamation and question marks with no space needed); hard line wraps, clauses (``, ; :`` and
their full-width Chinese forms); spaces between words; and, for a "word" longer than the budget
(a URL, a 10,000-digit string, Chinese without punctuation), the longest prefix that fits. A
finer boundary is looked for only inside a piece too long for the budget, so a chunk ends at a
paragraph or a sentence whenever the text allows. No cut falls inside a figure (``$1.2
billion``, ``89.71亿元``, ``40%``, as :func:`find_figures` reads them, checked in a window of
64 characters around each cut) unless the figure, with the space and stop around it, is alone
over the budget; nor inside a table row unless the row alone is.

Speed: each piece is counted once, on its own; a chunk's estimate is the sum of its pieces'
counts, and every chunk is counted exactly once more before it is given out (cuts are placed
before the space that starts a word, or after a line end, where tiktoken's counts of the parts
add up exactly, so the estimate is nearly always right). Memory: the text is walked with
generators, so only the current chunk's pieces are held beside the output.

The empty text gives no chunks; any other text, whitespace included, is covered.

Modules: ``packer`` (:class:`Chunk`, the entry points, and the packer that fills each chunk
and places its overlap), ``pieces`` (the text cut into pieces that each fit the budget, by the
first boundary finder that finds a cut, with the longest-prefix last resort) and
``boundaries`` (where a text may be cut, and how strong each cut is; no token counting).
"""

from summariser.chunking.packer import Chunk, chunk_text, iter_chunks

__all__ = ["Chunk", "chunk_text", "iter_chunks"]
