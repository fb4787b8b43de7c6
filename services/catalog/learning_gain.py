"""The learning gain of each offer as assessment last reported it: a quality signal shown on the offer."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.catalog.models import Offer, OfferLearningGain
from shared.events.declarations import LearningGainRecorded


def keep_latest(db: Session, gain: LearningGainRecorded) -> bool:
    """Keep `gain` unless a later one of the offer is kept already; whether it was kept."""
    if db.get(Offer, gain.offer_id) is None:
        return False  # not an offer of this catalog (it was never published here)
    kept = db.get(OfferLearningGain, gain.offer_id, with_for_update=True)
    if kept is not None and kept.recorded_at >= gain.recorded_at:
        return False
    competences = [{"competence": c.competence, "before_sum": c.before_sum, "after_sum": c.after_sum}
                   for c in gain.competences]
    db.merge(OfferLearningGain(offer_id=gain.offer_id, respondents=gain.respondents, competences=competences,
                               recorded_at=gain.recorded_at))
    return True
