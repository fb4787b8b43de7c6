"""Learning gain of an offer: its attendees' levels before and after, summed over all who answered."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.assessment.domain import MINIMUM_GROUP
from services.assessment.models import Reassessment
from shared.events.declarations import CompetenceGain, LearningGainRecorded


def learning_gain_event(db: Session, offer_id: str) -> LearningGainRecorded | None:
    """The offer's learning gain, or None while fewer than five attendees answered (a smaller group's sums
    would let a provider tell how one attendee answered)."""
    answers = db.scalars(select(Reassessment).where(Reassessment.offer_id == offer_id,
                                                    Reassessment.answered_at.is_not(None))).all()
    if len(answers) < MINIMUM_GROUP:
        return None
    competences = sorted({code for answer in answers for code in answer.before})
    return LearningGainRecorded(
        offer_id=offer_id, respondents=len(answers), recorded_at=datetime.now(UTC),
        competences=[CompetenceGain(competence=code,
                                    before_sum=sum(answer.before.get(code, 0) for answer in answers),
                                    after_sum=sum(answer.after.get(code, 0) for answer in answers))
                     for code in competences])
