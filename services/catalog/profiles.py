"""What a member's profile may hold: regions, languages and time zones by their standards (pure checks)."""

from __future__ import annotations

import functools
import re
import zoneinfo

import pycountry

DEFAULT_TIME_ZONE = "Europe/Berlin"
DEFAULT_LANGUAGE = "en"
# What member.updated carries besides the ids and the time: the whole profile, so consumers keep the latest.
PROFILE_FIELDS = ("email", "display_name", "organisation", "region", "languages", "preferred_language",
                  "career_stage", "preferred_formats", "time_zone", "postal_address")
# The address of a deleted member: unique, never deliverable (RFC 2606 reserves .invalid), so the real one is free.
DELETED_ADDRESS = "deleted-{member_id}@deleted.invalid"
REGION_FORM = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")


def is_region(code: str) -> bool:
    """A German state as ISO 3166-2 (`DE-BW`) or a country as ISO 3166-1 alpha-2 (`AT`), in upper case.

    Subdivisions of other countries are not regions here: the academy's regions are Germany's states.
    """
    if not REGION_FORM.match(code):
        return False
    if "-" in code:
        subdivision = pycountry.subdivisions.get(code=code)
        return subdivision is not None and subdivision.country_code == "DE" and subdivision.parent_code is None
    return pycountry.countries.get(alpha_2=code) is not None


def is_language(code: str) -> bool:
    """An ISO 639-1 code in lower case (`de`, `en`, `fr`)."""
    return bool(re.fullmatch(r"[a-z]{2}", code)) and pycountry.languages.get(alpha_2=code) is not None


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_time_zone(name: str) -> bool:
    """An IANA time zone name the tz database knows (`Europe/Berlin`); never a file path."""
    return name in _time_zones()


def anonymised_member(member_id: str) -> dict[str, object]:
    """What a deleted member's row holds instead of their personal data: no name, address, profile, roles or
    password (an empty hash matches no password)."""
    return {"email": DELETED_ADDRESS.format(member_id=member_id), "display_name": "", "password_hash": "",
            "roles": [], "organisation": None, "region": None, "languages": [],
            "preferred_language": DEFAULT_LANGUAGE, "career_stage": None, "preferred_formats": [],
            "time_zone": DEFAULT_TIME_ZONE, "postal_address": None}
