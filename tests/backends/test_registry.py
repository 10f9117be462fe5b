"""make_backend: the backend that settings name, imported only when chosen."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from summariser.backends.base import Backend
from summariser.backends.fake import FakeBackend
from summariser.backends.openai import OpenAIBackend
from summariser.backends.registry import make_backend
from summariser.errors import ConfigurationError
from summariser.settings import Settings


def test_fake() -> None:
    backend = make_backend(Settings(backend="fake"))
    assert isinstance(backend, FakeBackend)
    assert backend.pending == 0


def test_openai_is_configured_from_settings() -> None:
    settings = Settings(backend="openai", model="gpt-4.1-mini", api_key="sk-x", max_retries=1)
    backend = make_backend(settings)
    assert isinstance(backend, OpenAIBackend)
    assert backend.model == "gpt-4.1-mini"
    assert backend.client.max_retries == 1
    asyncio.run(backend.aclose())


def test_offline() -> None:
    offline = pytest.importorskip("summariser.backends.offline")
    backend = make_backend(Settings(backend="offline"))
    assert isinstance(backend, offline.OfflineBackend)
    assert isinstance(backend, Backend)
    assert backend.name == "offline"


def test_an_unknown_name_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="unknown backend 'gemini'"):
        make_backend(Settings(backend=cast(Any, "gemini")))  # built wrong on purpose
