"""API keys (constant-time digest compare), the token bucket, and the exposure rule."""

from __future__ import annotations

import hashlib

import pytest

from summariser.errors import ConfigurationError
from summariser.service.auth import RateLimiter, bearer_token, matching_key, principal_for
from summariser.service.settings import ServiceSettings, hash_key, is_loopback

KEYS = (hash_key("alpha"), hash_key("beta"))


@pytest.mark.parametrize(
    ("presented", "expected"),
    [("alpha", KEYS[0]), ("beta", KEYS[1]), ("gamma", None), ("", None), ("alph", None)],
    ids=["first", "second", "unknown", "empty", "prefix"],
)
def test_matching_key(presented: str, expected: bytes | None) -> None:
    assert matching_key(presented, KEYS) == expected


def test_matching_key_compares_every_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return a == b

    monkeypatch.setattr("summariser.service.auth.hmac.compare_digest", spy)
    assert matching_key("alpha", KEYS) == KEYS[0]
    assert len(calls) == len(KEYS)  # no early exit on the first match
    assert all(len(a) == len(b) == 32 for a, b in calls)  # digests, never raw keys


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        (None, None),
    ],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def test_principal_id_does_not_reveal_the_key() -> None:
    principal = principal_for(hash_key("alpha"))
    assert "alpha" not in principal.id and principal.id.startswith("key:")


def test_token_bucket_refills() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=2, clock=lambda: now[0])
    assert limiter.take("a") == 0 and limiter.take("a") == 0
    assert limiter.take("a") == pytest.approx(1.0)
    assert limiter.take("b") == 0  # per key
    now[0] = 1.0
    assert limiter.take("a") == 0


def test_settings_from_env_hashes_keys_and_reads_hashes() -> None:
    digest = hashlib.sha256(b"beta").hexdigest()
    settings = ServiceSettings.from_env(
        {"SUMMARISER_API_KEYS": "alpha, ", "SUMMARISER_API_KEY_HASHES": digest}
    )
    assert settings.api_key_hashes == KEYS
    with pytest.raises(ConfigurationError, match="SHA-256"):
        ServiceSettings.from_env({"SUMMARISER_API_KEY_HASHES": "zz"})
    with pytest.raises(ConfigurationError, match="SUMMARISER_PORT"):
        ServiceSettings.from_env({"SUMMARISER_PORT": "eighty"})


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("10.0.0.2", False),
        ("::", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_exposure_rule() -> None:
    ServiceSettings(host="127.0.0.1").check_exposure()
    ServiceSettings(host="0.0.0.0", api_key_hashes=KEYS).check_exposure()
    ServiceSettings(host="0.0.0.0", open_without_keys=True).check_exposure()
    with pytest.raises(ConfigurationError):
        ServiceSettings(host="0.0.0.0").check_exposure()


def test_serve_refuses_a_public_host_without_keys() -> None:
    from typer.testing import CliRunner

    from summariser import cli
    from summariser.serve_command import serve

    if not any(c.name == "serve" for c in cli.app.registered_commands):
        cli.app.command()(serve)
    result = CliRunner().invoke(cli.app, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "--open" in result.stderr
