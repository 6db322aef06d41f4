"""Pure parts of delivery control: failover routes, token buckets, connection settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tidings.channels.connection import merged_settings
from tidings.channels.rate_limits import NoLimit, burst_for, refill
from tidings.dispatch.failover import next_in_chain, route
from tidings.dispatch.policy import Policy
from tidings.domain.outcomes import Bounced, Deferred, Sent
from tidings.domain.states import State
from tidings.project.model import ProviderConfig

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
POLICY = Policy(retry_max_attempts=5, retry_interval=timedelta(minutes=1))


@pytest.mark.parametrize(("chain", "current", "expected"), [
    (["a", "b", "c"], "a", ("b", False)),
    (["a", "b", "c"], "b", ("c", False)),
    (["a", "b", "c"], "c", ("a", True)),
    (["a"], "a", None),
    (["a", "b"], "x", None),
])
def test_next_in_chain(chain: list[str], current: str,
                       expected: tuple[str, bool] | None) -> None:
    assert next_in_chain(chain, current) == expected


def test_failover_moves_at_once_to_the_next_provider() -> None:
    r = route(Deferred("503", failover=True), 1, POLICY, ["a", "b"], "a", NOW)
    assert r.provider == "b"
    assert (r.decision.state, r.decision.due_at) == (State.QUEUED, NOW)
    assert "failover: a -> b" in r.decision.reason


def test_failover_after_the_last_provider_waits_the_backoff() -> None:
    r = route(Deferred("503", failover=True), 2, POLICY, ["a", "b"], "b", NOW)
    assert r.provider == "a" and r.decision.state is State.DEFERRED
    assert r.decision.due_at == NOW + timedelta(minutes=2)


def test_plain_deferral_and_definite_answers_stay() -> None:
    assert route(Deferred("451"), 1, POLICY, ["a", "b"], "a", NOW).provider is None
    assert route(Sent("250"), 1, POLICY, ["a", "b"], "a", NOW).decision.state is State.SENT
    assert route(Bounced("550"), 1, POLICY, ["a", "b"], "a", NOW).provider is None


def test_failover_with_attempts_used_up_fails() -> None:
    r = route(Deferred("503", failover=True), 5, POLICY, ["a", "b"], "a", NOW)
    assert r.provider is None and r.decision.state is State.FAILED


def test_single_provider_chain_defers_in_place() -> None:
    r = route(Deferred("503", failover=True), 1, POLICY, ["a"], "a", NOW)
    assert r.provider is None and r.decision.state is State.DEFERRED


def test_token_bucket_refill() -> None:
    assert refill(0.0, NOW, 10.0, 10.0, NOW + timedelta(seconds=0.5)) == 5.0
    assert refill(3.0, NOW, 10.0, 10.0, NOW + timedelta(seconds=60)) == 10.0      # capped
    assert refill(3.0, NOW, 10.0, 10.0, NOW - timedelta(seconds=5)) == 3.0        # clock back
    assert burst_for(0.2) == 1.0 and burst_for(50) == 50.0
    assert NoLimit().acquire("p", 1.0, 1.0, 7, NOW).granted == 7


def test_smtp_service_url_user_and_secret_fold_into_settings() -> None:
    config = ProviderConfig(name="s", channel="email", type="smtp",
                            service_url="smtps://mail.example:2465", user="tidings",
                            secret_env="SMTP_PASSWORD")
    assert merged_settings(config) == {"host": "mail.example", "port": 2465,
                                       "security": "tls", "username": "tidings",
                                       "password_env": "SMTP_PASSWORD"}
    explicit = config.model_copy(update={"settings": {"host": "other", "port": 25}})
    assert merged_settings(explicit)["host"] == "other"


def test_secret_env_must_be_a_variable_name() -> None:
    with pytest.raises(ValueError, match="secret_env"):
        ProviderConfig(name="s", channel="email", type="smtp", secret_env="hunter2 pass!")
    with pytest.raises(ValueError, match="password_env"):
        ProviderConfig(name="s", channel="email", type="smtp", settings={"password": "x"})


def test_secrets_in_clear_are_named() -> None:
    from tidings.channels.connection import clear_secrets
    settings = {"auth_token": "x", "auth_token_env": "TWILIO_TOKEN", "smtp_password": "p",
                "vapid_private_key_file": "keys/v.pem", "account_sid": "AC1", "host": "h"}
    assert clear_secrets(settings) == ["auth_token", "smtp_password"]
