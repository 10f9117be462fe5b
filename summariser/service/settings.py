"""Service settings: where the API listens, who may call it, its limits and its job store.

Stage: edge (configuration). In: arguments from ``summariser serve``, then environment
variables, then defaults. Out: a frozen :class:`ServiceSettings`, built once at the edge (the
``serve`` command, or a test) and passed to :func:`summariser.service.app.create_app`.
Nothing here reads the environment at import time; ``ServiceSettings.from_env`` is the one
place it does.

Environment variables: ``SUMMARISER_HOST``, ``SUMMARISER_PORT``, ``SUMMARISER_API_KEYS``
(comma-separated keys), ``SUMMARISER_API_KEY_HASHES`` (comma-separated SHA-256 hex digests of
keys), ``SUMMARISER_DATABASE_URL`` (``postgresql://...`` or ``sqlite:///...``),
``SUMMARISER_JOBS_DB`` (SQLite file, default ``./summariser-jobs.sqlite``),
``SUMMARISER_MAX_BODY_BYTES``, ``SUMMARISER_MAX_ARTICLE_CHARS``, ``SUMMARISER_SYNC_MAX_CHARS``,
``SUMMARISER_SYNC_TIMEOUT_S``, ``SUMMARISER_RATE_PER_MINUTE``, ``SUMMARISER_WORKERS``,
``SUMMARISER_JOB_TIMEOUT_S``. The Slack bot (:mod:`summariser.service.slack`) is mounted when
both ``SLACK_SIGNING_SECRET`` and ``SLACK_BOT_TOKEN`` are set; ``SUMMARISER_SLACK_API_URL``
(default ``https://slack.com/api/``) points its Web API calls elsewhere (a fake, in tests).
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import urlsplit

from summariser.errors import ConfigurationError

DEFAULT_JOBS_DB = "./summariser-jobs.sqlite"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
_T = TypeVar("_T", int, float)


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """Everything the service needs besides the pipeline's own :class:`~summariser.Settings`.

    ``api_key_hashes`` holds SHA-256 digests only: a plain key is hashed when read and never
    kept. An empty tuple means the API is open, which :meth:`check_exposure` allows only on a
    loopback host or with ``open_without_keys`` (``summariser serve --open``).
    """

    host: str = "127.0.0.1"
    port: int = 8000
    open_without_keys: bool = False
    api_key_hashes: tuple[bytes, ...] = ()
    database_url: str | None = None  # wins over jobs_db when set
    jobs_db: str = DEFAULT_JOBS_DB
    max_body_bytes: int = 2_000_000
    max_article_chars: int = 400_000
    sync_max_chars: int = 20_000  # texts up to this long may get their summary in the reply
    sync_timeout_s: float = 20.0  # how long a request waits for that summary before 202
    rate_per_minute: int = 60  # per API key (per client address when the API is open)
    rate_burst: int = 60
    workers: int = 4  # jobs run at once
    job_timeout_s: float = 600.0
    # The Slack bot: on when both secrets are set (kept out of repr, so out of logs).
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_api_url: str = DEFAULT_SLACK_API_URL

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        host: str | None = None,
        port: int | None = None,
        open_without_keys: bool = False,
    ) -> ServiceSettings:
        """Settings from arguments, then ``SUMMARISER_*`` variables, then defaults."""
        env = os.environ if env is None else env
        hashes = [hash_key(k) for k in _split(env.get("SUMMARISER_API_KEYS", ""))]
        for text in _split(env.get("SUMMARISER_API_KEY_HASHES", "")):
            hashes.append(_parse_hash(text))
        rate = _number(env, "SUMMARISER_RATE_PER_MINUTE", int, 60)
        return cls(
            host=host or env.get("SUMMARISER_HOST") or "127.0.0.1",
            port=port if port is not None else _number(env, "SUMMARISER_PORT", int, 8000),
            open_without_keys=open_without_keys,
            api_key_hashes=tuple(dict.fromkeys(hashes)),
            database_url=env.get("SUMMARISER_DATABASE_URL") or None,
            jobs_db=env.get("SUMMARISER_JOBS_DB") or DEFAULT_JOBS_DB,
            max_body_bytes=_number(env, "SUMMARISER_MAX_BODY_BYTES", int, 2_000_000),
            max_article_chars=_number(env, "SUMMARISER_MAX_ARTICLE_CHARS", int, 400_000),
            sync_max_chars=_number(env, "SUMMARISER_SYNC_MAX_CHARS", int, 20_000),
            sync_timeout_s=_number(env, "SUMMARISER_SYNC_TIMEOUT_S", float, 20.0),
            rate_per_minute=rate,
            rate_burst=rate,
            workers=_number(env, "SUMMARISER_WORKERS", int, 4),
            job_timeout_s=_number(env, "SUMMARISER_JOB_TIMEOUT_S", float, 600.0),
            slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
            slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
            slack_api_url=slack_api_url(env.get("SUMMARISER_SLACK_API_URL") or None),
        )

    @property
    def auth_required(self) -> bool:
        return bool(self.api_key_hashes)

    @property
    def slack_enabled(self) -> bool:
        """Both Slack secrets are set: mount ``POST /slack/events``."""
        return bool(self.slack_signing_secret and self.slack_bot_token)

    @property
    def store_url(self) -> str:
        """The SQLAlchemy URL of the job store."""
        return self.database_url or f"sqlite:///{self.jobs_db}"

    def check_exposure(self) -> None:
        """Refuse an open API (no key configured) on a host other than loopback, unless the
        operator said so explicitly (``--open``); refuse half a Slack configuration."""
        if bool(self.slack_signing_secret) != bool(self.slack_bot_token):
            missing = "SLACK_BOT_TOKEN" if self.slack_signing_secret else "SLACK_SIGNING_SECRET"
            raise ConfigurationError(
                f"the Slack bot needs both SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN: {missing} "
                "is not set"
            )
        if self.auth_required or self.open_without_keys or is_loopback(self.host):
            return
        raise ConfigurationError(
            f"no API key configured and host {self.host!r} is not loopback: set "
            "SUMMARISER_API_KEYS (or SUMMARISER_API_KEY_HASHES), or pass --open to serve "
            "without authentication"
        )


def hash_key(key: str) -> bytes:
    """The SHA-256 digest of an API key (what is kept and compared)."""
    return hashlib.sha256(key.encode("utf-8")).digest()


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def slack_api_url(value: str | None) -> str:
    """The Slack Web API base URL, ending in ``/``: https, or http on a loopback host only."""
    if value is None or not value.strip():
        return DEFAULT_SLACK_API_URL
    url = value.strip()
    parts = urlsplit(url)
    host = parts.hostname or ""
    secure = parts.scheme == "https" or (parts.scheme == "http" and is_loopback(host))
    if not host or not secure or parts.query or parts.fragment:
        raise ConfigurationError(
            f"SUMMARISER_SLACK_API_URL must be an https URL (http on loopback), not {value!r}"
        )
    return url if url.endswith("/") else url + "/"


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _parse_hash(text: str) -> bytes:
    try:
        digest = bytes.fromhex(text)
    except ValueError:
        digest = b""
    if len(digest) != hashlib.sha256().digest_size:
        raise ConfigurationError(
            "SUMMARISER_API_KEY_HASHES must hold SHA-256 hex digests (64 hex digits each)"
        )
    return digest


def _number(env: Mapping[str, str], name: str, kind: Callable[[str], _T], default: _T) -> _T:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = kind(raw.strip())
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise ConfigurationError(f"{name} must be positive, not {raw!r}")
    return value
