"""The job store the service tests share: SQLite, and PostgreSQL (tests/conftest.py's
``postgres_url``: the local server, or one the tests start)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from summariser.service.store import JobStore


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JobStore]:
    """An empty job store, on each database in turn."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_url")
    made = JobStore(url)
    made.create_schema()
    yield made
    made.close()
