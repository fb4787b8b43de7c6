"""The rules of assessment: the framework's shape, gaps and their ranking, fitting offers, anonymity."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

FRAMEWORK_DIR = Path(__file__).parent / "framework"
CURRENT_LEVELS = range(0, 6)  # 0: not at all
IMPORTANCE = range(1, 6)
NEUTRAL_IMPORTANCE = 3
# No aggregate describes fewer members than this (demand, team coverage, learning gain).
MINIMUM_GROUP = 5
LANGS = ("de", "en")


def load_framework_file(version: str) -> dict:
    """The framework document of `version` as shipped in the repo; a published version is never edited."""
    return json.loads((FRAMEWORK_DIR / f"{version}.json").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Framework:
    """A framework document with the look-ups the rules need."""

    document: Mapping

    @property
    def version(self) -> str:
        return self.document["version"]

    @property
    def areas(self) -> list[dict]:
        return self.document["areas"]

    @property
    def competences(self) -> dict[str, dict]:
        return {c["code"]: {**c, "area": area["code"]} for area in self.areas for c in area["competences"]}

    @property
    def weights(self) -> dict[str, float]:
        return {area["code"]: float(area["weight"]) for area in self.areas}

    @property
    def career_paths(self) -> dict[str, dict]:
        return {path["code"]: path for path in self.document["career_paths"]}

    def area_of(self, competence: str) -> str:
        return self.competences[competence]["area"]

    def targets(self, career_path: str) -> dict[str, int]:
        return dict(self.career_paths[career_path]["target_levels"])


def localised(entry: Mapping, lang: str, *fields: str) -> dict:
    """`name_de` / `name_en` ... as `name` in the asked language."""
    return {field: entry[f"{field}_{lang}"] for field in fields if f"{field}_{lang}" in entry}


# --- gaps ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Need:
    competence: str
    area: str
    current: int
    target: int
    importance: int
    gap: int
    weighted_gap: float
    # What ranks training needs: the weighted gap, scaled by how important the member expects it to become.
    priority: float


def gap(target: int, current: int) -> int:
    """Levels missing to the target; being above it is no negative need."""
    return max(0, target - current)


def training_needs(framework: Framework, career_path: str, ratings: Mapping[str, tuple[int, int]]) -> list[Need]:
    """Every rated competence's need, the largest priority first (ties: larger gap, then code).

    `ratings` maps a competence to (current level, importance in three years).
    """
    targets, weights = framework.targets(career_path), framework.weights
    needs = []
    for code, (current, importance) in ratings.items():
        area = framework.area_of(code)
        missing = gap(targets[code], current)
        weighted = missing * weights[area]
        needs.append(Need(code, area, current, targets[code], importance, missing, round(weighted, 3),
                          round(weighted * importance / NEUTRAL_IMPORTANCE, 3)))
    return sorted(needs, key=lambda need: (-need.priority, -need.gap, need.competence))


@dataclass(frozen=True)
class AreaNeed:
    area: str
    weight: float
    mean_current: float
    mean_target: float
    gap: int
    weighted_gap: float
    priority: float


def needs_by_area(framework: Framework, needs: Iterable[Need]) -> list[AreaNeed]:
    """The needs summed per area (means of the levels for the profile chart), the largest priority first."""
    grouped: dict[str, list[Need]] = {}
    for need in needs:
        grouped.setdefault(need.area, []).append(need)
    areas = [
        AreaNeed(area, framework.weights[area],
                 round(sum(n.current for n in items) / len(items), 2),
                 round(sum(n.target for n in items) / len(items), 2),
                 sum(n.gap for n in items), round(sum(n.weighted_gap for n in items), 3),
                 round(sum(n.priority for n in items), 3))
        for area, items in grouped.items()
    ]
    return sorted(areas, key=lambda area: (-area.priority, area.area))


def quarter_of(moment: datetime) -> str:
    return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"


# --- recommendations ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OfferFacts:
    offer_id: str
    title: str
    format: str
    languages: list[str]
    competences: list[str]
    level: int
    withdrawn: bool


@dataclass(frozen=True)
class SessionFacts:
    session_id: str
    starts_at: datetime | None
    cancelled: bool
    free_seats: Mapping[str, int] | None
    capacity: Mapping[str, int]


@dataclass(frozen=True)
class Recommendation:
    offer: OfferFacts
    sessions: list[SessionFacts]
    closes: dict[str, int]  # competence -> levels the offer can close
    score: float


def bookable(session: SessionFacts, now: datetime) -> bool:
    """Upcoming, not cancelled, with a free seat (as booking last said; before it said, the seats scheduled)."""
    if session.cancelled or session.starts_at is None or session.starts_at <= now:
        return False
    seats = session.free_seats if session.free_seats is not None else session.capacity
    return any(free > 0 for free in seats.values())


def levels_closed(offer_level: int, need: Need) -> int:
    """How many levels of `need` an offer at `offer_level` can close: it lifts a member up to its own level,
    and only if it starts above where the member stands."""
    return max(0, min(offer_level, need.target) - need.current)


def fits_member(offer: OfferFacts, languages: Iterable[str], formats: Iterable[str]) -> bool:
    """In one of the member's languages and a format they prefer (a hybrid offer fits either); no stated
    preference fits everything."""
    languages, formats = set(languages), set(formats)
    if languages and not languages & set(offer.languages):
        return False
    served = {offer.format, "online", "in_person"} if offer.format == "hybrid" else {offer.format}
    return not formats or bool(formats & served)


def recommend(needs: list[Need], offers: Iterable[tuple[OfferFacts, list[SessionFacts]]], *, now: datetime,
              languages: Iterable[str] = (), formats: Iterable[str] = (), limit: int = 10) -> list[Recommendation]:
    """Offers with a bookable session that close the member's gaps, the most weighted levels closed first."""
    by_code = {need.competence: need for need in needs if need.gap > 0}
    languages, formats = list(languages), list(formats)
    found = []
    for offer, sessions in offers:
        if offer.withdrawn or not fits_member(offer, languages, formats):
            continue
        open_sessions = sorted((s for s in sessions if bookable(s, now)), key=lambda s: s.starts_at)
        if not open_sessions:
            continue
        closes = {code: levels_closed(offer.level, by_code[code]) for code in offer.competences if code in by_code}
        closes = {code: levels for code, levels in closes.items() if levels > 0}
        if not closes:
            continue
        score = sum(levels * by_code[code].priority / max(by_code[code].gap, 1) for code, levels in closes.items())
        found.append(Recommendation(offer, open_sessions, closes, round(score, 3)))
    found.sort(key=lambda r: (-r.score, r.offer.offer_id))
    return found[:limit]


REASON = {
    "en": "closes your gap in {name} by {levels} level{s} (you: {current}, target: {target})",
    "de": "schließt Ihre Lücke in {name} um {levels} Stufe{s} (Sie: {current}, Ziel: {target})",
}


def reasons(framework: Framework, recommendation: Recommendation, needs: Mapping[str, Need], lang: str) -> list[str]:
    """Why an offer is recommended, in words, its largest contribution first."""
    texts = []
    for code, levels in sorted(recommendation.closes.items(), key=lambda item: (-item[1], item[0])):
        need = needs[code]
        plural = ("" if levels == 1 else "s") if lang == "en" else ("" if levels == 1 else "n")
        texts.append(REASON[lang].format(name=framework.competences[code][f"name_{lang}"], levels=levels, s=plural,
                                         current=need.current, target=need.target))
    return texts


# --- anonymity ---------------------------------------------------------------------------------------------
def shown(members: int) -> bool:
    """Whether a group of `members` may be described at all."""
    return members >= MINIMUM_GROUP
