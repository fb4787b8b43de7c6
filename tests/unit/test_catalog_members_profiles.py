"""What a member's profile may hold: regions, languages and time zones by their standards."""

from __future__ import annotations

import pycountry
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.catalog.profiles import anonymised_member, is_language, is_region, is_time_zone

GERMAN_STATES = ["DE-BW", "DE-BY", "DE-BE", "DE-BB", "DE-HB", "DE-HH", "DE-HE", "DE-MV", "DE-NI", "DE-NW", "DE-RP",
                 "DE-SL", "DE-SN", "DE-ST", "DE-SH", "DE-TH"]


def test_every_german_state_and_every_country_is_a_region():
    assert all(is_region(code) for code in GERMAN_STATES)
    assert all(is_region(country.alpha_2) for country in pycountry.countries)


@pytest.mark.parametrize("code", ["DE", "AT", "FR"])
def test_countries_are_regions(code):
    assert is_region(code)


@pytest.mark.parametrize("code", ["de-bw", "DE-XX", "FR-IDF", "AT-9", "ZZ", "DE-BW\n", " DE-BW", "DEU", "", "DE-"])
def test_other_codes_are_not(code):
    assert not is_region(code)


@given(st.text(max_size=8))
def test_a_region_is_a_state_or_a_country_and_nothing_else(text):
    assert is_region(text) == (text in GERMAN_STATES or pycountry.countries.get(alpha_2=text) is not None
                               and len(text) == 2 and text.isupper())


@pytest.mark.parametrize("code, known", [("de", True), ("en", True), ("fr", True), ("DE", False), ("xx", False),
                                         ("deu", False), ("d", False)])
def test_languages_are_iso_639_1_codes_in_lower_case(code, known):
    assert is_language(code) is known


@pytest.mark.parametrize("name, known", [("Europe/Berlin", True), ("UTC", True), ("America/Argentina/Salta", True),
                                         ("Europe/berlin", False), ("Berlin", False), ("../../etc/passwd", False),
                                         ("/usr/share/zoneinfo/UTC", False), ("", False)])
def test_time_zones_are_iana_names(name, known):
    assert is_time_zone(name) is known


def test_an_anonymised_member_keeps_nothing_personal_and_a_unique_address():
    first, second = anonymised_member("id-1"), anonymised_member("id-2")

    assert first["email"] != second["email"] and first["email"].endswith(".invalid")
    assert (first["display_name"], first["password_hash"], first["roles"]) == ("", "", [])
    assert all(first[name] in (None, []) for name in ("organisation", "region", "languages", "career_stage",
                                                       "preferred_formats"))
