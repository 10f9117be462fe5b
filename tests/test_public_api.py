"""The public API is what ``summariser.__all__`` lists: complete, sorted, and every name real."""

from __future__ import annotations

import importlib
import types
from pathlib import Path

import summariser

# Dunder names that belong in __all__ on purpose.
PUBLIC_DUNDERS = {"__version__"}


def public_members() -> set[str]:
    """Names bound in ``summariser`` that are meant for users: not private, not a submodule,
    not a ``from __future__`` feature."""
    return {
        name
        for name, value in vars(summariser).items()
        if (not name.startswith("_") or name in PUBLIC_DUNDERS)
        and not isinstance(value, types.ModuleType)
        and type(value).__module__ != "__future__"
    }


def test_all_is_complete() -> None:
    # the summarise API is loaded on first use (see summariser._LAZY), so it is not bound yet
    assert set(summariser.__all__) == public_members() | set(summariser._LAZY)


def test_all_is_sorted_without_duplicates() -> None:
    assert summariser.__all__ == sorted(set(summariser.__all__))


def test_every_name_resolves_and_is_our_own() -> None:
    for name in summariser.__all__:
        value = getattr(summariser, name)
        if isinstance(value, type | types.FunctionType):
            assert value.__module__.startswith("summariser."), (name, value.__module__)


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from summariser import *", namespace)
    namespace.pop("__builtins__")
    assert set(namespace) == set(summariser.__all__)


def test_version_is_a_string() -> None:
    assert isinstance(summariser.__version__, str)
    assert summariser.__version__.count(".") >= 2


def test_package_is_typed() -> None:
    assert (Path(summariser.__file__).parent / "py.typed").is_file()


def test_cli_is_importable_as_a_module() -> None:
    assert callable(importlib.import_module("summariser.cli").main)
    importlib.import_module("summariser.__main__")
