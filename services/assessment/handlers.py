"""Assessment's read model of the catalog, kept from catalog's events."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.assessment.models import OfferRecord
from shared.events import ParsedEvent
from shared.events.declarations import OFFER_PUBLISHED


def offer_published(event: ParsedEvent, session: Session) -> None:
    data = event.data
    session.merge(
        OfferRecord(
            offer_id=data["offer_id"],
            title=data["title"],
            competences=list(data["competences"]),
            level=data["level"],
            language=data["language"],
            format=data["format"],
        )
    )


HANDLERS = {
    OFFER_PUBLISHED.type: offer_published,
}
