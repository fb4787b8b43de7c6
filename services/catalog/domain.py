"""Catalog rules: which roles exist, how an offer moves from draft through review to published, what a session
needs."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum

import idna
from confusable_homoglyphs import confusables
from zxcvbn import zxcvbn

from shared.errors import Conflict, Forbidden, Unprocessable

LEVELS = (1, 2, 3, 4, 5)  # the competence framework's levels
MEMBER_ROLE = "member"
# Granted by an operator of the installation (`academy roles grant`), never chosen at registration.
GRANTABLE_ROLES = ("operator", "partner", "reviewer")


class OfferStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class OfferAction(StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    WITHDRAW = "withdraw"


# Every offer passes a peer review before anyone can book it; a provider edits a draft or an offer sent back
# with changes requested and submits it (again), and may withdraw a published one.
TRANSITIONS: dict[OfferStatus, dict[OfferAction, OfferStatus]] = {
    OfferStatus.DRAFT: {OfferAction.SUBMIT: OfferStatus.IN_REVIEW},
    OfferStatus.IN_REVIEW: {OfferAction.APPROVE: OfferStatus.PUBLISHED,
                            OfferAction.REQUEST_CHANGES: OfferStatus.CHANGES_REQUESTED},
    OfferStatus.CHANGES_REQUESTED: {OfferAction.SUBMIT: OfferStatus.IN_REVIEW},
    OfferStatus.PUBLISHED: {OfferAction.WITHDRAW: OfferStatus.WITHDRAWN},
    OfferStatus.WITHDRAWN: {},
}
# A published offer stays editable, but only in what needs no new review (offer.updated tells the others);
# an offer in review waits for its reviewer, a withdrawn one is over.
EDITABLE = frozenset({OfferStatus.DRAFT, OfferStatus.CHANGES_REQUESTED, OfferStatus.PUBLISHED})
CHANGEABLE_WHEN_PUBLISHED = frozenset({
    "title", "summary", "description", "price_cents", "vat_rate", "cancellation_policy", "fee_tiers",
    "minimum_participants", "maximum_participants", "decision_days_before",
})
PUBLIC = frozenset({OfferStatus.PUBLISHED})
REVIEWER_ROLES = frozenset({"reviewer", "operator"})
REVIEW_CHECKLIST = ("competences_justified", "level_plausible", "format_and_dates_complete")

# Named cancellation policies as (days before the start, fee percent) tiers: cancelling fewer than that many
# days before the start costs that percent; "standard" is booking's own default.
CANCELLATION_POLICIES: dict[str, tuple[tuple[int, int], ...]] = {
    "flexible": (),
    "standard": ((14, 50), (3, 100)),
    "strict": ((30, 50), (14, 100)),
}
CUSTOM_POLICY = "custom"
DEFAULT_POLICY = "standard"
DEFAULT_VAT_RATE = 19
DEFAULT_DECISION_DAYS = 7

# Beyond these a date is a typo (9999) or not a seminar; they also keep reminders and reports in a sane range.
MAX_LEAD_TIME = timedelta(days=2 * 366)
MAX_DURATION = timedelta(days=14)

# Which seat kinds each offer format may put on sale.
SEAT_KINDS_BY_FORMAT: dict[str, frozenset[str]] = {
    "online": frozenset({"online"}),
    "in_person": frozenset({"in_person"}),
    "hybrid": frozenset({"online", "in_person"}),
}


# Passwords after NIST SP 800-63B: length and a check against what attackers try first, no composition rules.
# 12 characters: at the 8 that 800-63B-3 allows, even a slow hash falls to an offline search once the database
# leaks, while 12 characters of a passphrase are easy to type (OWASP ASVS 4 asks 12; 800-63B-4 asks 15 when a
# password is the only factor, a step to take once members may add a second one).
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200
# zxcvbn scores how many guesses a password takes, from its lists of common and leaked passwords, words, names,
# keyboard patterns, repeats, sequences, dates and l33t spellings of them; 3 means at least 10^8 guesses.
MIN_PASSWORD_SCORE = 3
# zxcvbn's work grows with the square of the length (and its l33t variants), so only the start is scored: a
# guesser has to find those characters first, and a weak start is weak whatever follows it.
SCORED_PREFIX = 24
EMAIL_MAX_LENGTH = 254
WORDS = re.compile(r"[^\W_]+")


def _refuse_email(detail: str) -> Unprocessable:
    return Unprocessable(f"this e-mail address cannot be used: {detail}", errors={"email": [detail]})


def normalise_email(email: str) -> str:
    """The one form an e-mail address is stored and compared in, so that look-alikes cannot be two members.

    NFKC folds full-width and other compatibility forms (ａｎｎ is ann), the local part is lower case, and the
    domain is IDNA-encoded (UTS 46: Bücher.example is xn--bcher-kva.example). A local part or domain label
    that mixes scripts (a Cyrillic а among Latin letters) is refused: no one needs one, and it would pass for
    another member's address.
    """
    local, at, domain = unicodedata.normalize("NFKC", email.strip()).rpartition("@")
    if not at or not local or not domain:
        raise _refuse_email("expected name@domain")
    local = local.lower()
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
        labels = idna.decode(ascii_domain).split(".")
    except idna.IDNAError as exc:
        raise _refuse_email("the domain is not a valid domain name") from exc
    if any(confusables.is_mixed_script(part) for part in (local, *labels)):
        raise _refuse_email("it mixes letters of different scripts")
    address = f"{local}@{ascii_domain}"
    if len(address) > EMAIL_MAX_LENGTH:
        raise _refuse_email(f"longer than {EMAIL_MAX_LENGTH} characters once normalised")
    return address


def login_identifier(email: str) -> str:
    """What a sign-in looks the address up by; one that could never register is simply an unknown address."""
    try:
        return normalise_email(email)
    except Unprocessable:
        return unicodedata.normalize("NFKC", email.strip()).lower()


def check_password(password: str, *, context: Iterable[str], field: str = "password") -> None:
    """Refuse passwords that are too short, too long, or quickly guessed; `context` are the member's own words
    (address, name), which make a password guessable to anyone who knows whose it is."""

    def refuse(detail: str) -> Unprocessable:
        return Unprocessable(f"this password cannot be used: {detail}", errors={field: [detail]})

    if len(password) < MIN_PASSWORD_LENGTH:
        raise refuse(f"at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise refuse(f"at most {MAX_PASSWORD_LENGTH} characters")
    context = [text for text in context if text]
    words = {word for text in context for word in WORDS.findall(text.lower())}
    if password.casefold() in {text.casefold() for text in context}:
        raise refuse("it is your own e-mail address or name")
    verdict = zxcvbn(password[:SCORED_PREFIX], user_inputs=[*context, *words, "academy", "cluster"])
    if verdict["score"] < MIN_PASSWORD_SCORE:
        hint = verdict["feedback"]["warning"] or "it is among the first an attacker would try"
        raise refuse(f"too easy to guess: {hint.rstrip('.').lower()}; a few unusual words make a good one")


def with_role(roles: Iterable[str], role: str) -> list[str]:
    """A member's roles with `role` added; "member" comes with registration and cannot be granted."""
    if role not in GRANTABLE_ROLES:
        raise Unprocessable(f"{role!r} cannot be granted; choose one of: {', '.join(GRANTABLE_ROLES)}",
                            errors={"role": ["not grantable"]})
    return sorted({*roles, role})


def next_status(current: OfferStatus, action: OfferAction) -> OfferStatus:
    """The status `action` leads to from `current`; refused, naming the actions allowed now, when the table has
    no such step."""
    allowed = TRANSITIONS[current]
    if action not in allowed:
        possible = ", ".join(allowed) or "none"
        raise Conflict(f"this offer is {current}: {action} is not possible now (possible: {possible})",
                       errors={"allowed_actions": list(allowed)})
    return allowed[action]


def is_reviewer(roles: Iterable[str]) -> bool:
    return bool(REVIEWER_ROLES.intersection(roles))


def can_view(status: OfferStatus, provider_ids: Iterable[str], viewer_id: str | None,
             viewer_roles: Iterable[str] = ()) -> bool:
    """Published offers are for everyone; anything else for its providers and the reviewers only."""
    return status in PUBLIC or viewer_id in set(provider_ids) or (viewer_id is not None and is_reviewer(viewer_roles))


def check_editable(status: OfferStatus, fields: Iterable[str] = ()) -> None:
    """Drafts and offers sent back change freely; a published one only in what needs no new review."""
    if status not in EDITABLE:
        raise Conflict(f"this offer is {status} and cannot be changed now",
                       errors={"allowed_actions": list(TRANSITIONS[status])})
    if status is OfferStatus.PUBLISHED:
        refused = sorted(set(fields) - CHANGEABLE_WHEN_PUBLISHED)
        if refused:
            raise Conflict(f"a published offer cannot change {', '.join(refused)} without a new review",
                           errors={name: ["cannot change once published"] for name in refused})


def check_reviewer(roles: Iterable[str], provider_ids: Iterable[str], reviewer_id: str) -> None:
    if not is_reviewer(roles):
        raise Forbidden("only reviewers and operators review offers")
    if reviewer_id in set(provider_ids):
        raise Forbidden("nobody reviews an offer they provide")


def check_review(decision: OfferAction, comment: str, checklist: dict[str, bool]) -> None:
    """An approval confirms every point of the checklist; a request for changes says what to change."""
    if decision is OfferAction.APPROVE:
        unmet = [point for point in REVIEW_CHECKLIST if not checklist.get(point)]
        if unmet:
            raise Unprocessable("an approval confirms every point of the checklist",
                                errors={"checklist": [f"{point} is not confirmed" for point in unmet]})
    elif not comment:
        raise Unprocessable("a request for changes says what to change", errors={"comment": ["required"]})


def check_providers(lead_id: str, shares: dict[str, int]) -> None:
    """The proposing member is one of the providers, and the providers' shares make up the whole part."""
    if lead_id not in shares:
        raise Unprocessable("the member proposing an offer is one of its providers",
                            errors={"providers": ["must include you"]})
    if sum(shares.values()) != 100:
        raise Unprocessable(f"provider shares must sum to 100, not {sum(shares.values())}",
                            errors={"providers": ["shares must sum to 100"]})


def fee_tiers_of(policy: str, custom_tiers: Iterable[tuple[int, int]] | None) -> tuple[tuple[int, int], ...]:
    """The (days before, fee percent) tiers of a named policy, or the offer's own for "custom", most days first."""
    if policy == CUSTOM_POLICY:
        if not custom_tiers:
            raise Unprocessable("a custom cancellation policy names its tiers", errors={"fee_tiers": ["required"]})
        tiers = tuple(sorted(custom_tiers, reverse=True))
        if len({days for days, _ in tiers}) != len(tiers):
            raise Unprocessable("each tier has its own number of days", errors={"fee_tiers": ["days repeat"]})
        return tiers
    if custom_tiers:
        raise Unprocessable(f"the {policy} policy has its own tiers; name the policy custom to set them",
                            errors={"fee_tiers": ["only with cancellation_policy custom"]})
    return CANCELLATION_POLICIES[policy]


def check_participants(minimum: int, maximum: int | None) -> None:
    if maximum is not None and maximum < minimum:
        raise Unprocessable("the maximum of participants is below the minimum",
                            errors={"maximum_participants": ["at least minimum_participants"]})


def unsellable_kinds(offer_format: str, seats: dict[str, int]) -> list[str]:
    """Seat kinds with seats on sale that the offer's format does not have (in-person seats of an online offer)."""
    return sorted(kind for kind, count in seats.items() if count > 0 and kind not in SEAT_KINDS_BY_FORMAT[offer_format])


def _spoken(name: str) -> str:
    return name.replace("_", "-")


def check_seats(offer_format: str, seats: dict[str, int]) -> None:
    """Seats may be sold only in the kinds the offer's format has, and a session must sell at least one."""
    not_offered = unsellable_kinds(offer_format, seats)
    if not_offered:
        raise Unprocessable(
            f"{_spoken(offer_format)} offers cannot sell {' or '.join(map(_spoken, not_offered))} seats",
            errors={"seats": [f"{_spoken(kind)} seats are not allowed for this format" for kind in not_offered]},
        )
    if not any(count > 0 for count in seats.values()):
        raise Unprocessable("a session needs at least one seat", errors={"seats": ["at least one seat is needed"]})


def check_format_change(new_format: str, sessions_seats: Iterable[dict[str, int]]) -> None:
    """A draft may change its format only to one that still fits the seats of the sessions already scheduled."""
    if any(unsellable_kinds(new_format, seats) for seats in sessions_seats):
        raise Unprocessable(
            f"the scheduled sessions sell seats that {_spoken(new_format)} offers cannot sell",
            errors={"format": ["does not fit the seats of the scheduled sessions"]},
        )


def check_location(seats: dict[str, int], location: str | None) -> None:
    if seats.get("in_person", 0) > 0 and not location:
        raise Unprocessable(
            "a session with in-person seats needs a location", errors={"location": ["required for in-person seats"]}
        )


def is_upcoming(starts_at: datetime, now: datetime) -> bool:
    """A session that has begun is not announced any more: nobody could book it."""
    return starts_at > now


def check_schedule(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    """A session starts in the future, at most two years ahead, and lasts at most 14 days."""
    if not is_upcoming(starts_at, now):
        raise Unprocessable("a session must start in the future", errors={"starts_at": ["must be in the future"]})
    if starts_at > now + MAX_LEAD_TIME:
        raise Unprocessable("a session may be scheduled at most two years ahead",
                            errors={"starts_at": ["at most two years ahead"]})
    if ends_at <= starts_at:
        raise Unprocessable("a session must end after it starts", errors={"ends_at": ["must be after starts_at"]})
    if ends_at - starts_at > MAX_DURATION:
        raise Unprocessable("a session may last at most 14 days",
                            errors={"ends_at": ["at most 14 days after starts_at"]})


def check_submittable(session_starts: Iterable[datetime], now: datetime, awaiting: Iterable[str] = ()) -> None:
    """An offer goes to review with an upcoming session and the consent of every co-provider."""
    if not any(is_upcoming(starts_at, now) for starts_at in session_starts):
        raise Unprocessable(
            "schedule at least one upcoming session before submitting the offer",
            errors={"sessions": ["no upcoming session"]},
        )
    awaiting = sorted(awaiting)
    if awaiting:
        raise Conflict("every co-provider accepts before the offer is submitted",
                       errors={"providers": [f"{member_id} has not accepted yet" for member_id in awaiting]})
