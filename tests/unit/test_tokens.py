"""Short-lived access tokens, the rotation rule of refresh tokens, and whose address a request comes from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from services.catalog.credentials import (
    REUSE_GRACE,
    RefreshStep,
    TokenStatus,
    new_refresh_token,
    refresh_digest,
    refresh_step,
)
from shared.auth import ACCESS_TOKEN_TTL, issue_token, verify_token
from shared.config import InvalidSetting, Settings
from shared.ratelimit import client_address, rate_limit_key, trusted_networks
from shared.testing import signing_keypair

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=30)


# --- access tokens ----------------------------------------------------------------------------------------
def test_access_tokens_live_fifteen_minutes_by_default():
    assert ACCESS_TOKEN_TTL.total_seconds() == 15 * 60
    private_key, public_key = signing_keypair()
    claims = jwt.decode(issue_token(private_key, "m-1", ["member"]), public_key, algorithms=["EdDSA"],
                        audience="academy")
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert verify_token(public_key, issue_token(private_key, "m-1", ["member"])).member_id == "m-1"


# --- refresh tokens ---------------------------------------------------------------------------------------
def test_refresh_tokens_are_long_random_and_stored_only_as_a_digest():
    first, second = new_refresh_token(), new_refresh_token()
    assert first != second and len(first) >= 43
    assert refresh_digest(first) != first and len(refresh_digest(first)) == 64
    assert refresh_digest(first) == refresh_digest(first)


def test_an_active_token_rotates():
    assert refresh_step(TokenStatus.ACTIVE, LATER, None, False, NOW) is RefreshStep.ROTATE


def test_a_used_token_again_revokes_its_family():
    rotated_at = NOW - REUSE_GRACE - timedelta(seconds=1)
    assert refresh_step(TokenStatus.ROTATED, LATER, rotated_at, True, NOW) is RefreshStep.REVOKE_FAMILY


def test_a_retry_within_the_grace_replaces_the_unused_successor():
    rotated_at = NOW - REUSE_GRACE + timedelta(seconds=1)
    assert refresh_step(TokenStatus.ROTATED, LATER, rotated_at, True, NOW) is RefreshStep.REPLACE_SUCCESSOR
    # Once the successor was used, the old token is stale whenever it comes back.
    assert refresh_step(TokenStatus.ROTATED, LATER, rotated_at, False, NOW) is RefreshStep.REVOKE_FAMILY


@pytest.mark.parametrize("status", list(TokenStatus))
def test_revoked_and_expired_tokens_are_refused(status):
    assert refresh_step(TokenStatus.REVOKED, LATER, None, False, NOW) is RefreshStep.REFUSE
    assert refresh_step(status, NOW, NOW - timedelta(seconds=1), True, NOW) is RefreshStep.REFUSE


# --- client addresses -------------------------------------------------------------------------------------
PROXIES = trusted_networks("10.0.0.0/8, 192.168.1.7")


def test_without_trusted_proxies_the_peer_is_the_client_whatever_it_forwards():
    assert client_address("203.0.113.9", "198.51.100.1", ()) == "203.0.113.9"


def test_behind_trusted_proxies_the_first_untrusted_hop_from_the_right_is_the_client():
    assert client_address("10.1.2.3", "198.51.100.1, 203.0.113.9, 192.168.1.7", PROXIES) == "203.0.113.9"
    assert client_address("10.1.2.3", "203.0.113.9", PROXIES) == "203.0.113.9"


def test_a_forged_or_broken_header_cannot_choose_the_address():
    # Only what trusted proxies appended is read; a client's own entries to the left of that are ignored.
    assert client_address("10.1.2.3", "forged, 203.0.113.9", PROXIES) == "203.0.113.9"
    assert client_address("10.1.2.3", "not-an-address", PROXIES) == "10.1.2.3"
    assert client_address("10.1.2.3", None, PROXIES) == "10.1.2.3"
    assert client_address("10.1.2.3", "10.9.9.9", PROXIES) == "10.9.9.9"


def test_ipv6_clients_are_counted_by_their_64_bit_network():
    assert rate_limit_key("2001:db8:1:2:aaaa::1") == rate_limit_key("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert rate_limit_key("203.0.113.9") == "203.0.113.9"
    assert rate_limit_key("::ffff:203.0.113.9") == "203.0.113.9"


def test_account_settings_have_defaults_and_refuse_what_cannot_work():
    settings = Settings.from_env("catalog", {})
    assert (settings.access_token_minutes, settings.refresh_token_days, settings.login_max_failures) == (15, 30, 5)
    assert settings.rate_limit_storage_url == "memory://" and settings.trusted_proxies == ()
    for name, value in [("LOGIN_RATE_LIMIT", "ten a minute"), ("RATE_LIMIT_STORAGE_URL", "ftp://x"),
                        ("TRUSTED_PROXIES", "10.0.0.0/33"), ("ACCESS_TOKEN_MINUTES", "0")]:
        with pytest.raises(InvalidSetting, match=name):
            Settings.from_env("catalog", {name: value})
