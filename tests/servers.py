"""Real servers for the integration tests: Redis and PostgreSQL, found running or started.

Each server is looked for first where a developer's machine has it (Redis on 127.0.0.1:6379,
PostgreSQL on 127.0.0.1:5432 as user ``postgres`` without a password); when nothing usable
answers there, a throw-away one is started on a free port for the test session and removed at
its end: ``redis-server`` without persistence, or a PostgreSQL cluster made by ``initdb`` in a
temporary folder and run by ``pg_ctl`` (as the ``postgres`` user when the tests run as root,
which PostgreSQL refuses). When neither works the tests that need the server are skipped, with
the reason, or fail with it when ``SUMMARISER_REQUIRE_SERVERS=1`` (CI, where a skip would hide
that nothing was tested).

Environment, for CI and for testing these fixtures themselves:

``SUMMARISER_REQUIRE_SERVERS=1``
    fail instead of skip when a server can be neither found nor started;
``SUMMARISER_TEST_REDIS_URL``, ``SUMMARISER_TEST_POSTGRES_URL``
    where to look for a running server (default the local ports above); a closed port makes
    the fixtures start their own;
``SUMMARISER_TEST_SERVER_PATH``
    the folders (``os.pathsep``-separated) searched for ``redis-server``, ``initdb`` and
    ``pg_ctl``, instead of ``PATH`` then ``/usr/lib/postgresql/*/bin``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

import pytest

REQUIRE_ENV = "SUMMARISER_REQUIRE_SERVERS"
REDIS_URL_ENV = "SUMMARISER_TEST_REDIS_URL"
POSTGRES_URL_ENV = "SUMMARISER_TEST_POSTGRES_URL"
SERVER_PATH_ENV = "SUMMARISER_TEST_SERVER_PATH"

LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"
LOCAL_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
START_TIMEOUT = 30.0


def required() -> bool:
    """Whether a missing server is a failure (CI) rather than a skip."""
    return os.environ.get(REQUIRE_ENV, "") == "1"


def unavailable(reason: str) -> NoReturn:
    """Skip the test that needs the server, or fail it when servers are required."""
    if required():
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def search_path() -> list[str]:
    """Where server binaries are looked for: PATH, then Debian's PostgreSQL folders."""
    override = os.environ.get(SERVER_PATH_ENV)
    if override is not None:
        return [folder for folder in override.split(os.pathsep) if folder]
    folders = [folder for folder in os.environ.get("PATH", "").split(os.pathsep) if folder]
    versioned = glob.glob("/usr/lib/postgresql/*/bin")

    def version(folder: str) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", Path(folder).parent.name))

    return folders + sorted(versioned, key=version, reverse=True)


def searched() -> str:
    """Where :func:`find_binary` looks, for messages."""
    override = os.environ.get(SERVER_PATH_ENV)
    if override is not None:
        return f"{SERVER_PATH_ENV}={override!r}"
    return "PATH and /usr/lib/postgresql/*/bin"


def find_binary(name: str) -> str | None:
    for folder in search_path():
        path = os.path.join(folder, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def _tail(path: Path, chars: int = 1500) -> str:
    try:
        return path.read_text(errors="replace")[-chars:].strip()
    except OSError:
        return ""


# --- Redis ----------------------------------------------------------------------------------


def redis_answers(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except redis.RedisError:
        return False


@contextlib.contextmanager
def redis_server(tmp: Path) -> Iterator[str]:
    """The URL of a Redis that answers: the running one, or one started here until exit."""
    try:
        import redis  # noqa: F401
    except ImportError:
        unavailable("the redis package is not installed")
    url = os.environ.get(REDIS_URL_ENV) or LOCAL_REDIS_URL
    if redis_answers(url):
        yield url
        return
    binary = find_binary("redis-server")
    if binary is None:
        unavailable(
            f"no Redis answers at {url} and there is no redis-server to start "
            f"(looked in {searched()})"
        )
    port = free_port()
    log = tmp / "redis-server.log"
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    argv += ["--appendonly", "no", "--dir", str(tmp), "--logfile", str(log)]
    server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not redis_answers(url):
            if server.poll() is not None:
                unavailable(f"{binary} exited {server.returncode}: {_tail(log)}")
            if time.monotonic() > deadline:
                unavailable(f"{binary} did not answer on port {port} in {START_TIMEOUT:.0f}s")
            time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)


# --- PostgreSQL -----------------------------------------------------------------------------


def postgres_problem(url: str) -> str | None:
    """Why ``url`` cannot be used as an administrator (None when it can)."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=2, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        return f"{type(err).__name__}: {first}"
    return None


def _server_user() -> pwd.struct_passwd | None:
    """Whom to run initdb and pg_ctl as: PostgreSQL refuses root, so someone else then."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    return None


class _PostgresCluster:
    """A throw-away cluster: ``initdb`` in a temporary folder, ``pg_ctl`` to start and stop."""

    def __init__(self, initdb: str, pg_ctl: str) -> None:
        self.initdb = initdb
        self.pg_ctl = pg_ctl
        self.user = _server_user()
        if os.geteuid() == 0 and self.user is None:
            unavailable("running as root and there is no postgres (or nobody) user to run it as")
        # Not under pytest's basetemp: that is private to the user running the tests.
        self.base = Path(tempfile.mkdtemp(prefix="summariser-pg-"))
        if self.user is not None:
            os.chown(self.base, self.user.pw_uid, self.user.pw_gid)
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        self.port = 0

    def run(self, argv: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "LC_ALL": "C", "HOME": str(self.base)}
        for name in ("PGDATA", "PGPORT", "PGHOST", "PGUSER", "PGDATABASE", "PGOPTIONS"):
            env.pop(name, None)
        user = self.user
        return subprocess.run(
            argv,
            cwd=self.base,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            user=None if user is None else user.pw_uid,
            group=None if user is None else user.pw_gid,
            extra_groups=None if user is None else [],
        )

    def start(self) -> str:
        who = f" as {self.user.pw_name}" if self.user is not None else ""
        initdb = [self.initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust"]
        made = self.run([*initdb, "--encoding=UTF8", "--no-locale", "--no-sync"])
        if made.returncode != 0:
            unavailable(f"{self.initdb}{who} exited {made.returncode}: {made.stderr.strip()}")
        problem = ""
        for _ in range(3):  # the free port may be taken between looking and listening
            self.port = free_port()
            options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -F"
            pg_ctl = [self.pg_ctl, "-D", str(self.data), "-l", str(self.log), "-o", options]
            started = self.run([*pg_ctl, "-w", "-t", str(int(START_TIMEOUT)), "start"])
            if started.returncode == 0:
                return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
            problem = f"{started.stdout.strip()} {started.stderr.strip()} {_tail(self.log)}"
        unavailable(f"{self.pg_ctl} start{who} failed: {problem.strip()}")

    def stop(self) -> None:
        pid_file = self.data / "postmaster.pid"
        try:
            if pid_file.exists():
                stopped = self.run([self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"])
                if stopped.returncode != 0 and pid_file.exists():
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """An administrator URL of a PostgreSQL that answers: the running one, or one started here."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed (pip install -e '.[test]')")
    url = os.environ.get(POSTGRES_URL_ENV) or LOCAL_POSTGRES_URL
    found = postgres_problem(url)
    if found is None:
        yield url
        return
    initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        unavailable(
            f"no PostgreSQL answers at {url} ({found}) and there is no initdb and pg_ctl to "
            f"start one (looked in {searched()})"
        )
    cluster = _PostgresCluster(initdb, pg_ctl)
    try:
        started = cluster.start()
        problem = postgres_problem(started)
        if problem is not None:
            unavailable(f"the PostgreSQL started on port {cluster.port} does not answer: {problem}")
        yield started
    finally:
        cluster.stop()


def with_database(url: str, name: str) -> str:
    """``url`` with its database replaced by ``name``."""
    return urlsplit(url)._replace(path=f"/{name}").geturl()


@contextlib.contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new, empty database on the server of ``admin_url``, dropped afterwards."""
    import psycopg

    name = f"summariser_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(admin_url, connect_timeout=5, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as err:
        unavailable(f"cannot create a database at {admin_url}: {type(err).__name__}: {err}")
    try:
        yield with_database(admin_url, name)
    finally:
        with psycopg.connect(admin_url, connect_timeout=5, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def delete_keys(redis_url: str, prefix: str) -> None:
    """Delete the Redis keys that start with ``prefix`` (a test's own namespace), nothing else."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def stop_process(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM (a dramatiq master passes it on to its workers), then SIGKILL to the process
    group if it has not ended within ``timeout`` seconds."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
