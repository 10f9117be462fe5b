"""The server fixtures (tests/servers.py): what they hand out answers, servers started for the
session are real and go away afterwards, and a missing server skips, or fails under
``SUMMARISER_REQUIRE_SERVERS=1``."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests import servers

psycopg = pytest.importorskip("psycopg")
redis = pytest.importorskip("redis")


def _closed_port() -> int:
    return servers.free_port()  # nothing listens on it once the probe socket is closed


def test_redis_url_answers(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    key = f"summariser-test-{uuid.uuid4().hex}"
    try:
        assert client.ping()
        client.set(key, "1", ex=60)
        assert client.get(key) == b"1"
    finally:
        client.delete(key)
        client.close()


def test_postgres_url_is_a_fresh_database(postgres_url: str, postgres_admin_url: str) -> None:
    name = postgres_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        assert conn.execute("SELECT current_database()").fetchone() == (name,)
        assert conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone() == (0,)
        conn.execute("CREATE TABLE t (n int)")
    with psycopg.connect(postgres_admin_url) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        assert found == (1,)


def test_a_redis_server_is_started_when_none_answers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(servers.REDIS_URL_ENV, f"redis://127.0.0.1:{_closed_port()}/0")
    with servers.redis_server(tmp_path) as url:
        assert url != servers.LOCAL_REDIS_URL
        client = redis.Redis.from_url(url)
        try:
            assert client.ping()
        finally:
            client.close()
    assert not servers.redis_answers(url)  # stopped at the end


def test_a_postgres_cluster_is_started_when_none_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    port = _closed_port()
    monkeypatch.setenv(servers.POSTGRES_URL_ENV, f"postgresql://postgres@127.0.0.1:{port}/postgres")
    with servers.postgres_server() as admin_url:
        assert ":5432/" not in admin_url
        with servers.fresh_database(admin_url) as url, psycopg.connect(url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    assert servers.postgres_problem(admin_url) is not None  # stopped at the end


@pytest.mark.parametrize("require", ["", "1"])
def test_no_server_and_nothing_to_start_skips_or_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, require: str
) -> None:
    monkeypatch.setenv(servers.REQUIRE_ENV, require)
    monkeypatch.setenv(servers.SERVER_PATH_ENV, str(tmp_path))  # no binaries in it
    monkeypatch.setenv(servers.REDIS_URL_ENV, f"redis://127.0.0.1:{_closed_port()}/0")
    monkeypatch.setenv(
        servers.POSTGRES_URL_ENV, f"postgresql://postgres@127.0.0.1:{_closed_port()}/postgres"
    )
    outcome = pytest.fail.Exception if require else pytest.skip.Exception
    with pytest.raises(outcome, match="no redis-server to start"), servers.redis_server(tmp_path):
        pass
    with pytest.raises(outcome, match="no initdb and pg_ctl"), servers.postgres_server():
        pass


def test_server_binaries_are_searched_in_path_then_debian_folders(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(servers.SERVER_PATH_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert servers.search_path()[0] == str(tmp_path)
    assert all("/usr/lib/postgresql/" in folder for folder in servers.search_path()[1:])
    (tmp_path / "redis-server").write_text("#!/bin/sh\n")
    (tmp_path / "redis-server").chmod(0o755)
    assert servers.find_binary("redis-server") == str(tmp_path / "redis-server")


def test_with_database_replaces_only_the_database() -> None:
    url = "postgresql://postgres@127.0.0.1:5433/postgres?sslmode=disable"
    assert (
        servers.with_database(url, "x") == "postgresql://postgres@127.0.0.1:5433/x?sslmode=disable"
    )
