"""The learning gain on the offer: what attendees say they learned, as assessment last reported it, in means."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services import catalog
from shared.bus import Outcome
from shared.events.declarations import CompetenceGain, LearningGainRecorded
from shared.testing import WHEN, delivery, sample
from tests.integration.offer_helpers import know_framework
from tests.integration.test_topic_requests import published_offer

SERVICE = catalog.SERVICE  # the service under test, for the fixtures in conftest.py
PROVIDER = "provider-1"


@pytest.fixture
def runtime(runtime_on_each_database):
    know_framework(runtime_on_each_database)
    return runtime_on_each_database


def gain(offer_id: str, respondents: int, before: int, after: int, at=WHEN) -> LearningGainRecorded:
    return sample(LearningGainRecorded, offer_id=offer_id, respondents=respondents, recorded_at=at,
                  competences=[CompetenceGain(competence="INT-1", before_sum=before, after_sum=after)])


def test_the_offer_shows_the_newest_learning_gain_as_means(client, consumer):
    offer_id = published_offer(client, PROVIDER)
    assert client.get(f"/api/v1/offers/{offer_id}").json["learning_gain"] is None, "nothing before five answered"

    settled = consumer.handle_batch([delivery(gain(offer_id, 6, before=9, after=20)),
                                     delivery(gain(offer_id, 5, before=7, after=14, at=WHEN - timedelta(days=1))),
                                     delivery(gain("offer-elsewhere", 5, before=5, after=10))])

    assert [s.outcome for s in settled] == [Outcome.ACK] * 3
    shown = client.get(f"/api/v1/offers/{offer_id}").json["learning_gain"]
    assert shown["respondents"] == 6, "an older report arriving late does not replace the newer one"
    assert shown["competences"] == [{"competence": "INT-1", "mean_before": 1.5, "mean_after": 3.33}]
