"""Shared test set-up: a clean environment for every test, and the ``data`` marker.

Tests marked ``data`` read the shared data folder beside the checkout (``../shared``); they are
skipped, with the reason shown, when it is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

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
