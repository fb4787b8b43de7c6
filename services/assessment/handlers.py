"""Assessment's read model of the catalog, kept from catalog's events."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.assessment.models import OfferRecord
from shared.events import ParsedEvent
from shared.events.declarations import OfferPublished


def offer_published(event: ParsedEvent[OfferPublished], db: Session) -> None:
    offer = event.data
    db.merge(
        OfferRecord(
            offer_id=offer.offer_id,
            title=offer.title,
            competences=list(offer.competences),
            level=offer.level,
            language=offer.language,
            format=offer.format,
        )
    )


HANDLERS = {
    OfferPublished: offer_published,
}
