"""The competence framework as the catalog knows it: kept from framework.published, asked for codes and areas."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.catalog.models import FrameworkItem, FrameworkVersion
from shared.errors import Unprocessable
from shared.events.declarations import FrameworkPublished


class ItemKind(StrEnum):
    AREA = "area"
    COMPETENCE = "competence"
    CAREER_PATH = "career_path"


def keep_latest(db: Session, published: FrameworkPublished) -> bool:
    """Replace the framework with `published` unless the one kept is as new or newer; whether it replaced it.

    Versions are ordered by their publication time (then their name), since events may arrive in any order.
    """
    current = db.scalar(select(FrameworkVersion).with_for_update())
    if current is not None and (current.published_at, current.version) >= (
        published.published_at, published.framework_version
    ):
        return False
    db.execute(delete(FrameworkItem))
    db.execute(delete(FrameworkVersion))
    db.add(FrameworkVersion(version=published.framework_version, published_at=published.published_at))
    for kind, entries in ((ItemKind.AREA, published.areas), (ItemKind.COMPETENCE, published.competences),
                          (ItemKind.CAREER_PATH, published.career_paths)):
        db.add_all(FrameworkItem(kind=kind.value, code=entry.code, name_de=entry.name_de, name_en=entry.name_en,
                                 area=entry.area if kind is ItemKind.COMPETENCE else "")
                   for entry in entries)
    return True


def _codes(db: Session, kind: ItemKind) -> set[str]:
    return set(db.scalars(select(FrameworkItem.code).where(FrameworkItem.kind == kind.value)))


def known_competences(db: Session) -> set[str]:
    """The competence codes of the latest framework (empty until assessment has published one)."""
    return _codes(db, ItemKind.COMPETENCE)


def career_paths(db: Session) -> set[str]:
    return _codes(db, ItemKind.CAREER_PATH)


def areas_of(db: Session, codes: Iterable[str]) -> list[str]:
    """The areas the competences `codes` belong to, sorted, each once; unknown codes have none."""
    codes = list(codes)
    if not codes:
        return []
    return sorted(set(db.scalars(select(FrameworkItem.area).where(
        FrameworkItem.kind == ItemKind.COMPETENCE.value, FrameworkItem.code.in_(codes)))))


def check_competences(db: Session, codes: Iterable[str], *, field: str = "competences") -> None:
    """Refuse (422 naming `field`) competence codes the latest framework does not have."""
    unknown = sorted(set(codes) - known_competences(db))
    if unknown:
        raise Unprocessable(f"not competences of the framework: {', '.join(unknown)}",
                            errors={field: [f"unknown competence code: {code}" for code in unknown]})


def check_career_path(db: Session, code: str, *, field: str = "career_stage") -> None:
    if code not in career_paths(db):
        raise Unprocessable(f"{code!r} is not a career path of the framework",
                            errors={field: ["not a career path of the competence framework"]})
