"""Shared test set-up: a clean environment for every test, the ``data`` marker, and real servers.

Tests marked ``data`` read the shared data folder beside the checkout (``../shared``); they are
skipped, with the reason shown, when it is absent.

``redis_url`` and ``postgres_admin_url`` (one per session) and ``postgres_url`` (a fresh database
per test) are real servers, found running or started on free ports (see tests/servers.py);
without them the tests that use them skip, or fail when ``SUMMARISER_REQUIRE_SERVERS=1``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests import servers

# Property tests draw the same examples on every run: a CI result must not depend on luck. New
# cases are found by hand, with more max_examples or with this profile switched off.
settings.register_profile("repeatable", derandomize=True)
settings.load_profile("repeatable")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"

# Variables that change what summariser prints; no test should inherit them from the shell.
_ENV_VARS = (
    "SUMMARISER_DEBUG",
    "SUMMARISER_BACKEND",
    "SUMMARISER_MODEL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    # a developer's shell may point at a real deployment: tests name their own
    "SUMMARISER_BROKER_URL",
    "SUMMARISER_BROKER_NAMESPACE",
    "SUMMARISER_DATABASE_URL",
    "SUMMARISER_JOBS_DB",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def shared_dir() -> Path:
    """The shared data folder (tests that use it should be marked ``data``)."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent")
    return SHARED


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if SHARED.is_dir():
        return
    skip = pytest.mark.skip(reason=f"data test: {SHARED} is absent")
    for item in items:
        if "data" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis for the session: the one on 127.0.0.1:6379, or a ``redis-server`` started here.

    Shared by all tests: use keys of your own and delete them afterwards.
    """
    with servers.redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def redis_namespace(redis_url: str) -> Iterator[str]:
    """A Redis key prefix of this test's own (a Dramatiq namespace), its keys deleted after."""
    name = f"summariser-test-{uuid.uuid4().hex}"
    yield name
    servers.delete_keys(redis_url, name)


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """A PostgreSQL superuser URL: the server on 127.0.0.1:5432, or a cluster started here."""
    with servers.postgres_server() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test (``postgresql://...``), dropped after it."""
    with servers.fresh_database(postgres_admin_url) as url:
        yield url
