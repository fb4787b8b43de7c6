"""The competence framework of cluster managers and the career paths measured against it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

FRAMEWORK_VERSION = 1

# Levels a member assesses themselves on and a career path asks for.
LEVELS = {
    1: "aware: knows the topic and its terms",
    2: "guided: applies it with support",
    3: "independent: applies it alone in everyday work",
    4: "advanced: handles difficult cases and advises colleagues",
    5: "expert: shapes practice and teaches it to others",
}


@dataclass(frozen=True)
class CompetenceArea:
    id: str
    name: str
    description: str
    weight: float


@dataclass(frozen=True)
class CareerPath:
    id: str
    name: str
    description: str
    target_levels: Mapping[str, int]


COMPETENCE_AREAS = (
    CompetenceArea(
        "strategy",
        "Strategy and cluster development",
        "Shape the cluster's strategy, goals and roadmap together with its members and funders.",
        1.0,
    ),
    CompetenceArea(
        "network-management",
        "Network and community management",
        "Build trust among members, moderate groups and match partners across organisations.",
        1.0,
    ),
    CompetenceArea(
        "innovation-projects",
        "Innovation and project management",
        "Initiate and steer cross-organisational research and development projects.",
        1.0,
    ),
    CompetenceArea(
        "funding",
        "Funding and business models",
        "Acquire public funding and build a sustainable financing of the cluster's services.",
        1.0,
    ),
    CompetenceArea(
        "communication",
        "Communication and marketing",
        "Make the cluster and its members visible: events, media, public relations.",
        1.0,
    ),
    CompetenceArea(
        "international-cooperation",
        "International cooperation",
        "Build partnerships abroad, run international projects and work across languages and cultures.",
        # Weighted up: internationalisation is where cluster managers lack training most.
        1.5,
    ),
)

CAREER_PATHS = (
    CareerPath(
        "junior-cluster-manager",
        "Junior cluster manager",
        "Joins a cluster management team and takes over first projects and member services.",
        {
            "strategy": 2,
            "network-management": 3,
            "innovation-projects": 2,
            "funding": 2,
            "communication": 3,
            "international-cooperation": 2,
        },
    ),
    CareerPath(
        "cluster-manager",
        "Cluster manager",
        "Leads a cluster initiative: strategy, members, projects and financing.",
        {
            "strategy": 4,
            "network-management": 4,
            "innovation-projects": 4,
            "funding": 4,
            "communication": 3,
            "international-cooperation": 3,
        },
    ),
    CareerPath(
        "international-cluster-manager",
        "International cluster manager",
        "Leads the cluster's cooperation across borders: partnerships, joint projects, delegations.",
        {
            "strategy": 4,
            "network-management": 4,
            "innovation-projects": 3,
            "funding": 4,
            "communication": 4,
            "international-cooperation": 5,
        },
    ),
)
