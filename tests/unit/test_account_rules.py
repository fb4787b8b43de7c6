"""Account rules: one form per e-mail address, a password policy after NIST SP 800-63B, and how locks grow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.catalog.credentials import LOCK_BASE, LOCK_CAP, lock_until, next_failure_count
from services.catalog.domain import check_password, login_identifier, normalise_email
from shared.errors import Unprocessable

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# --- e-mail addresses -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("given_address", "stored"),
    [
        ("  Ann.Muster@Example.ORG ", "ann.muster@example.org"),
        ("ａｎｎ@cluster.example", "ann@cluster.example"),  # full-width letters fold into ASCII (NFKC)
        ("ann＠ｃｌｕｓｔｅｒ.example", "ann@cluster.example"),  # a full-width @ too
        ("ann@Bücher.Example", "ann@xn--bcher-kva.example"),  # the domain as the DNS knows it
        ("ann@xn--bcher-kva.example", "ann@xn--bcher-kva.example"),
        ("Jörg@cluster.example", "jörg@cluster.example"),  # one script, not ASCII: a different, valid mailbox
        ("иван@cluster.example", "иван@cluster.example"),
    ],
)
def test_addresses_are_stored_in_one_form(given_address, stored):
    assert normalise_email(given_address) == stored


@pytest.mark.parametrize(
    "look_alike",
    [
        "\u0430nn@cluster.example",  # a Cyrillic а among Latin letters
        "j\u043ehn@cluster.example",  # a Cyrillic о
        "\u03b4elta@cluster.example",  # a Greek δ
        "ann@cl\u0443ster.example",  # a Cyrillic у in the domain
    ],
)
def test_addresses_that_mix_scripts_are_refused_by_field(look_alike):
    with pytest.raises(Unprocessable) as refused:
        normalise_email(look_alike)
    assert "email" in refused.value.errors


@pytest.mark.parametrize("broken", ["ann@", "@cluster.example", "ann@-cluster-.example", "ann@" + "a" * 64 + ".org"])
def test_addresses_whose_domain_is_no_domain_are_refused(broken):
    with pytest.raises(Unprocessable) as refused:
        normalise_email(broken)
    assert "email" in refused.value.errors


def test_signing_in_with_an_address_that_could_never_register_is_just_an_unknown_address():
    assert login_identifier("\u0430nn@Cluster.example") == "\u0430nn@cluster.example"
    assert login_identifier("ＡＮＮ@cluster.example") == "ann@cluster.example"


# --- passwords --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "weak",
    ["aaaaaaaaaaaa", "password1234", "123456789012", "qwertyuiopas", "abcdefghijkl", "iloveyou2024",
     "letmeinletmein", "Ann Muster 2026", "Ann.Muster@cluster.example"],
)
def test_common_repetitive_or_personal_passwords_are_refused_by_field(weak):
    with pytest.raises(Unprocessable) as refused:
        check_password(weak, context=["ann.muster@cluster.example", "Ann Muster"])
    assert list(refused.value.errors) == ["password"]


@pytest.mark.parametrize("strong", ["correct horse battery", "demo-password-2026", "Tr0ub4dor&3xyz", "üüüx9Ç!kQz#pW"])
def test_long_unusual_passwords_pass_without_composition_rules(strong):
    check_password(strong, context=["ann@cluster.example"])


def test_passwords_are_between_12_and_200_characters_and_the_field_is_named():
    with pytest.raises(Unprocessable) as short:
        check_password("Xk9#mQ2$vL7", context=[], field="new_password")
    assert list(short.value.errors) == ["new_password"]
    check_password("Xk9#mQ2$vL7!", context=[])
    with pytest.raises(Unprocessable):
        check_password("Xk9#mQ2$vL7!" * 17, context=[])


def test_a_long_password_is_judged_quickly_whatever_it_holds():
    # zxcvbn's l33t matching grows with the length; an attacker's 200 digits and symbols must stay cheap.
    started = datetime.now(UTC)
    check_password("!$%(+0123456789<@[{|" * 10, context=[])
    assert datetime.now(UTC) - started < timedelta(seconds=5)


# --- locks after failed sign-ins --------------------------------------------------------------------------
def test_no_lock_before_the_limit_then_one_minute_doubling_up_to_fifteen():
    assert LOCK_BASE.total_seconds() == 60 and LOCK_CAP.total_seconds() == 15 * 60
    assert [lock_until(failures, 5, NOW) for failures in range(1, 5)] == [None] * 4
    locks = [lock_until(failures, 5, NOW) - NOW for failures in range(5, 12)]
    assert locks == [timedelta(minutes=m) for m in (1, 2, 4, 8, 15, 15, 15)]


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=1, max_value=100))
def test_a_lock_never_exceeds_the_cap(failures, limit):
    until = lock_until(failures, limit, NOW)
    assert until is None or NOW < until <= NOW + LOCK_CAP


def test_failures_long_ago_are_forgotten():
    assert next_failure_count(3, NOW - timedelta(hours=1), NOW) == 4
    assert next_failure_count(3, NOW - timedelta(days=2), NOW) == 1
    assert next_failure_count(0, None, NOW) == 1
