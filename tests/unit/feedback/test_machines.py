"""Person or machine: a table of hits and what the rules make of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tidings.feedback.config import TrackingConfig
from tidings.feedback.machines import Hit, classify

SENT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LATER = SENT + timedelta(minutes=30)
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile"
GMAIL = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"


@pytest.mark.parametrize(("agent", "ip", "method", "at", "human", "why"), [
    (FIREFOX, "198.51.100.7", "GET", LATER, True, "human"),
    (IPHONE, "2001:db8::1", "GET", LATER, True, "human"),
    (GMAIL, "66.249.84.1", "GET", LATER, False, "gmail-image-proxy"),
    ("Mozilla/5.0", "17.58.1.2", "GET", LATER, False, "apple-mpp"),
    ("Mozilla/5.0", "198.51.100.7", "GET", LATER, False, "apple-mpp"),
    (FIREFOX, "17.58.1.2", "GET", LATER, False, "apple-mpp"),
    ("YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy", "1.2.3.4", "GET", LATER,
     False, "yahoo-image-proxy"),
    ("python-requests/2.32", "198.51.100.7", "GET", LATER, False, "scanner"),
    ("Mozilla/5.0 (compatible; Barracuda Sentinel)", "198.51.100.7", "GET", LATER, False,
     "scanner"),
    ("Googlebot/2.1 (+http://www.google.com/bot.html)", "198.51.100.7", "GET", LATER, False,
     "bot"),
    ("", "198.51.100.7", "GET", LATER, False, "no-user-agent"),
    (FIREFOX, "198.51.100.7", "HEAD", LATER, False, "head-request"),
    (FIREFOX, "198.51.100.7", "GET", SENT + timedelta(seconds=3), False,
     "too-soon-after-sending"),
    (FIREFOX, "not-an-ip", "GET", LATER, True, "human"),
])
def test_table(agent: str, ip: str, method: str, at: datetime, human: bool, why: str) -> None:
    verdict = classify(Hit(agent, ip, method, at), SENT, TrackingConfig())
    assert (verdict.human, verdict.why) == (human, why)
    assert verdict.label() == ("human" if human else f"machine: {why}")


def test_configured_agents_networks_and_window() -> None:
    config = TrackingConfig(machine_user_agents=["ACME-Scanner"],
                            machine_networks=["203.0.113.0/24"], scanner_seconds=0)
    assert classify(Hit("acme-scanner/1", None, "GET", LATER), SENT, config).why == "configured"
    assert classify(Hit(FIREFOX, "203.0.113.9", "GET", LATER), SENT, config).why == "configured"
    assert classify(Hit(FIREFOX, None, "GET", SENT), SENT, config).human


def test_unknown_sending_time_is_not_held_against_a_person() -> None:
    assert classify(Hit(FIREFOX, None, "GET", SENT), None, TrackingConfig()).human
