"""One frozen settings object, built once at the edge (CLI, service, worker) and passed down.

Precedence: explicit arguments, then environment variables, then defaults. Nothing in the
package reads the environment at import time; ``Settings.from_env`` is the one place it does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from summariser.errors import ConfigurationError

BackendName = Literal["openai", "offline", "fake"]

DEFAULT_MODEL = "gpt-4o-mini"


@dataclass(frozen=True, slots=True)
class Settings:
    backend: BackendName = "offline"
    model: str = DEFAULT_MODEL
    base_url: str | None = None
    api_key: str | None = None
    timeout_s: float = 60.0
    max_retries: int = 4  # transport retries, done by the OpenAI SDK
    chunk_tokens: int = 3000  # token budget of one chunk of article text
    chunk_overlap_tokens: int = 100
    max_output_tokens: int = 2048
    max_reasks: int = 2  # re-asks for invalid JSON or schema errors, per chunk
    reask_token_budget: int = 40_000  # all attempts of one article together
    concurrency: int = 4  # chunks in flight at once
    drop_unsupported: bool = False
    backend_was_defaulted: bool = False  # offline chosen because nothing was configured

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        backend: str | None = None,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        allow_fake: bool = True,
    ) -> Settings:
        """Settings from arguments, then ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL`` /
        ``SUMMARISER_MODEL`` / ``SUMMARISER_BACKEND``, then defaults. With no backend named
        and neither a key nor a base URL, the backend is ``offline`` (and says so).
        The command line passes ``allow_fake=False``: the fake backend answers only scripted
        tests. Other fields are set with ``dataclasses.replace``."""
        env = os.environ if env is None else env
        key = api_key or env.get("OPENAI_API_KEY") or None
        url = base_url or env.get("OPENAI_BASE_URL") or None
        chosen = backend or env.get("SUMMARISER_BACKEND") or None
        defaulted = False
        if chosen is None:
            chosen = "openai" if (key or url) else "offline"
            defaulted = chosen == "offline"
        if chosen not in _BACKENDS or (chosen == "fake" and not allow_fake):
            choices = "openai, offline or fake" if allow_fake else "openai or offline"
            raise ConfigurationError(f"unknown backend {chosen!r}: choose {choices}")
        if chosen == "openai" and not key and not url:
            raise ConfigurationError(
                "the openai backend needs OPENAI_API_KEY (or --base-url for a local server)"
            )
        return cls(
            backend=_BACKENDS[chosen],
            model=model or env.get("SUMMARISER_MODEL") or DEFAULT_MODEL,
            base_url=url,
            api_key=key,
            backend_was_defaulted=defaulted,
        )


_BACKENDS: dict[str, BackendName] = {"openai": "openai", "offline": "offline", "fake": "fake"}
