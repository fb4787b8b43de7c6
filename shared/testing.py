"""Helpers for the services' tests: a runtime on a fresh database, signed tokens, typed events as deliveries."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from shared.auth import generate_keypair, issue_token
from shared.bus import Delivery
from shared.config import Settings
from shared.events import Event, build_event
from shared.events.declarations import (
    AttendanceRecorded,
    Attendee,
    AvailabilityChanged,
    BookingCancelled,
    BookingConfirmed,
    BookingPromoted,
    BookingWaitlisted,
    CompetenceDemand,
    CompetenceGain,
    CoproviderInvited,
    CreditNoteIssued,
    DemandUpdated,
    FeeTier,
    FrameworkEntry,
    FrameworkPublished,
    GoDecisionMade,
    InvoiceIssued,
    LearningGainRecorded,
    MemberDeleted,
    MemberRegistered,
    MemberUpdated,
    NotificationDelivered,
    NotificationFailed,
    OfferPublished,
    OfferPublishedV2,
    OfferReviewed,
    OfferSnapshot,
    OfferUpdated,
    OfferWithdrawn,
    PasswordResetRequested,
    PaymentRecorded,
    PayoutIssued,
    PolicyProposed,
    ProposalAccepted,
    ProposalOpened,
    ProposalRejected,
    ProposalSimulated,
    ProviderShare,
    ReassessmentInvited,
    RegistrationRequested,
    RevenuePolicyAdopted,
    SeatsLeft,
    SessionCancelled,
    SessionRescheduled,
    SessionScheduled,
    TopicRequestAnswered,
)
from shared.migrations import upgrade
from shared.service import Runtime, ServiceDefinition

E = TypeVar("E", bound=Event)
WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@cache
def signing_keypair() -> tuple[str, str]:
    return generate_keypair()


def make_runtime(definition: ServiceDefinition, data_dir: Path, **env: str) -> Runtime:
    """A migrated runtime of `definition` on SQLite files in `data_dir` (DATABASE_URL etc. may override)."""
    private_pem, public_pem = signing_keypair()
    settings = Settings.from_env(
        definition.name,
        {
            "ACADEMY_DATA_DIR": str(data_dir),
            "JWT_PRIVATE_KEY": private_pem,
            "JWT_PUBLIC_KEY": public_pem,
            "EVENT_RETRY_DELAYS": "0.1,0.2",
            **env,
        },
    )
    runtime = Runtime(settings)
    upgrade(definition, runtime.engine)
    return runtime


# Tests keep tokens made at import time in module constants; a whole run outlasts an access token's 15 minutes.
TEST_TOKEN_LIFETIME = timedelta(hours=12)


def bearer(member_id: str, *roles: str) -> dict[str, str]:
    token = issue_token(signing_keypair()[0], member_id, list(roles or ("member",)), TEST_TOKEN_LIFETIME)
    return {"Authorization": f"Bearer {token}"}


# --- events -----------------------------------------------------------------------------------------------
OFFER = OfferSnapshot(
    title="Cluster strategy in practice", summary="From a regional cluster to a European partner.",
    format="hybrid", languages=["de", "en"], competences=["INT.PARTNERS"], areas=["INT"], level=3,
    price_cents=12_000, currency="EUR", vat_rate=19,
    providers=[ProviderShare(member_id="provider-1", share_percent=60),
               ProviderShare(member_id="provider-2", share_percent=40)],
    cancellation_policy="standard",
    fee_tiers=[FeeTier(days_before=14, fee_percent=50), FeeTier(days_before=3, fee_percent=100)],
    minimum_participants=3, maximum_participants=20, decision_days_before=7, region="DE-BW",
)
# Plausible values for every field of each event; a test names only the fields it is about.
_SAMPLES: dict[type[Event], dict[str, Any]] = {
    MemberRegistered: dict(member_id="member-1", email="ada@academy.example", display_name="Ada",
                           registered_at=WHEN),
    MemberUpdated: dict(member_id="member-1", email="ada@academy.example", display_name="Ada",
                        organisation="Cluster Mobility BW", region="DE-BW", languages=["de", "en"],
                        preferred_language="de", career_stage="senior_manager", preferred_formats=["online"],
                        time_zone="Europe/Berlin", updated_at=WHEN),
    MemberDeleted: dict(member_id="member-1", deleted_at=WHEN),
    OfferPublishedV2: dict(offer_id="offer-1", offer=OFFER, published_at=WHEN),
    OfferUpdated: dict(offer_id="offer-1", offer=OFFER, updated_at=WHEN),
    OfferWithdrawn: dict(offer_id="offer-1", withdrawn_at=WHEN),
    OfferReviewed: dict(offer_id="offer-1", title="Cluster strategy in practice", provider_ids=["provider-1"],
                        reviewer_id="reviewer-1", decision="approve", comment="Well prepared.", reviewed_at=WHEN),
    CoproviderInvited: dict(offer_id="offer-1", title="Cluster strategy in practice", member_id="provider-2",
                            invited_by="provider-1", share_percent=40, invited_at=WHEN),
    ProposalOpened: dict(proposal_id="proposal-1", kind="policy", title="More for the community fund",
                         voting_closes_at=WHEN, member_ids=["member-1", "member-2"], opened_at=WHEN),
    ProposalAccepted: dict(proposal_id="proposal-1", kind="policy", title="More for the community fund", yes=7,
                           no=2, abstain=1, eligible=40, voter_ids=["member-1", "member-2"], closed_at=WHEN,
                           shares_bp={"provider": 8000, "academy": 1200, "community_fund": 800},
                           effective_from=WHEN),
    ProposalRejected: dict(proposal_id="proposal-1", kind="motion", title="Sessions in Polish too", yes=1, no=3,
                           abstain=0, eligible=40, quorum_reached=True, voter_ids=["member-1"], closed_at=WHEN),
    RevenuePolicyAdopted: dict(proposal_id="proposal-1", version=2, effective_from=WHEN, adopted_at=WHEN),
    RegistrationRequested: dict(member_id="member-1", verification_token="a-token-from-the-mail",
                                expires_at=WHEN + timedelta(days=1), requested_at=WHEN),
    PolicyProposed: dict(proposal_id="proposal-1", shares_bp={"provider": 8000, "academy": 1200, "community_fund": 800},
                         effective_from=WHEN, proposed_at=WHEN),
    ProposalSimulated: dict(proposal_id="proposal-1", period_start=WHEN, period_end=WHEN,
                            actual_cents={"provider": 85_000, "academy": 10_000, "community_fund": 5_000},
                            simulated_cents={"provider": 80_000, "academy": 12_000, "community_fund": 8_000},
                            simulated_at=WHEN),
    TopicRequestAnswered: dict(topic_request_id="request-1", title="EU funding for cluster projects",
                               offer_id="offer-1", offer_title="Horizon Europe for clusters",
                               member_ids=["member-1", "member-2"], answered_at=WHEN),
    CreditNoteIssued: dict(credit_note_id="credit-note-1", number="VCA-2026-000002", invoice_id="invoice-1",
                           invoice_number="VCA-2026-000001", booking_id="booking-1", member_id="member-1",
                           offer_id="offer-1", total_cents=6_000, currency="EUR", reason="member",
                           issued_at=WHEN),
    PaymentRecorded: dict(payment_id="payment-1", invoice_id="invoice-1", invoice_number="VCA-2026-000001",
                          member_id="member-1", method="bank", amount_cents=12_000, currency="EUR", open_cents=0,
                          recorded_at=WHEN),
    PayoutIssued: dict(payout_id="payout-1", provider_id="provider-1", period="2026-02", amount_cents=8_400,
                       credits_cents=0, currency="EUR", issued_at=WHEN),
    FrameworkPublished: dict(
        framework_version="2026.1",
        areas=[FrameworkEntry(code="INT", name_de="Internationalisierung", name_en="Internationalisation")],
        competences=[FrameworkEntry(code="INT.PARTNERS", name_de="Internationale Partnersuche",
                                    name_en="International partner search", area="INT")],
        career_paths=[FrameworkEntry(code="junior_manager", name_de="Nachwuchs-Clustermanagement",
                                     name_en="Junior cluster manager")],
        published_at=WHEN),
    PasswordResetRequested: dict(member_id="member-1", reset_token="reset-token-1", requested_at=WHEN,
                                 expires_at=WHEN + timedelta(hours=1)),
    ReassessmentInvited: dict(reassessment_id="reassessment-1", member_id="member-1", offer_id="offer-1",
                              session_id="session-1", competences=["INT-1", "INT-2"], invited_at=WHEN),
    LearningGainRecorded: dict(offer_id="offer-1", respondents=6, recorded_at=WHEN,
                               competences=[CompetenceGain(competence="INT-1", before_sum=9, after_sum=17)]),
    DemandUpdated: dict(quarter="2026-Q1", updated_at=WHEN,
                        competences=[CompetenceDemand(competence="INT-1", area="INT", members=12, gap_sum=19,
                                                      importance_sum=49, members_with_gap=10)]),
    NotificationFailed: dict(notification_id="notification-1", member_id="member-1", channel="email",
                             cause_event_id="00000000-0000-0000-0000-000000000001",
                             reason="550 mailbox unavailable", failed_at=WHEN),
    OfferPublished: dict(offer_id="offer-1", provider_id="provider-1", title="Cluster strategy in practice",
                         topic="strategy", format="hybrid", competences=["strategy.cluster_development"],
                         level="advanced", language="en", price_cents=12_000, currency="EUR", published_at=WHEN),
    SessionScheduled: dict(session_id="session-1", offer_id="offer-1", starts_at=WHEN + timedelta(days=30),
                           ends_at=WHEN + timedelta(days=30, hours=4), seats={"online": 10, "in_person": 5},
                           location="Haus der Wirtschaft, Stuttgart", link="https://meet.academy.example/room"),
    SessionRescheduled: dict(session_id="session-1", offer_id="offer-1", starts_at=WHEN + timedelta(days=40),
                             ends_at=WHEN + timedelta(days=40, hours=4), location="Haus der Wirtschaft, Stuttgart",
                             link="https://meet.academy.example/room", rescheduled_at=WHEN),
    SessionCancelled: dict(session_id="session-1", offer_id="offer-1", cancelled_at=WHEN,
                           reason="The trainer is ill."),
    BookingConfirmed: dict(booking_id="booking-1", session_id="session-1", offer_id="offer-1",
                           member_id="member-1", format="online", confirmed_at=WHEN),
    BookingWaitlisted: dict(booking_id="booking-1", session_id="session-1", offer_id="offer-1",
                            member_id="member-1", format="online", position=1, waitlisted_at=WHEN),
    BookingPromoted: dict(booking_id="booking-1", session_id="session-1", offer_id="offer-1",
                          member_id="member-1", format="online", promoted_at=WHEN),
    BookingCancelled: dict(booking_id="booking-1", session_id="session-1", offer_id="offer-1",
                           member_id="member-1", format="online", previous_status="confirmed", reason="member",
                           fee_cents=6_000, refund_cents=6_000, currency="EUR", cancelled_at=WHEN),
    AttendanceRecorded: dict(session_id="session-1", offer_id="offer-1", provider_id="provider-1",
                             attendees=[Attendee(booking_id="booking-1", member_id="member-1",
                                                 certificate_id="certificate-1")],
                             recorded_at=WHEN),
    AvailabilityChanged: dict(session_id="session-1", offer_id="offer-1", changed_at=WHEN,
                              formats=[SeatsLeft(format="online", capacity=10, free=3, waiting=0)]),
    GoDecisionMade: dict(session_id="session-1", offer_id="offer-1", outcome="go", confirmed=5, minimum=3,
                         decided_at=WHEN),
    InvoiceIssued: dict(invoice_id="invoice-1", number="VCA-2026-000001", booking_id="booking-1",
                        member_id="member-1", offer_id="offer-1", total_cents=12_000, currency="EUR",
                        issued_at=WHEN),
    NotificationDelivered: dict(notification_id="notification-1", member_id="member-1", channel="inbox",
                                cause_event_id="00000000-0000-0000-0000-000000000001", delivered_at=WHEN),
}


def sample(payload: type[E], **fields: Any) -> E:
    """An event of `payload`'s type with plausible values, `fields` replacing some; a misspelt name fails."""
    if payload not in _SAMPLES:
        raise KeyError(f"no sample values for {payload.__name__}; add them to shared/testing.py")
    unknown = set(fields) - {field.name for field in dataclasses.fields(payload)}
    if unknown:
        raise TypeError(f"{payload.__name__} has no fields {', '.join(sorted(unknown))}")
    return payload(**{**_SAMPLES[payload], **fields})


def delivery(event: Event, **envelope: Any) -> Delivery:
    """The event as the bus would hand it to a consumer (`envelope`: event_id, traceparent, time)."""
    body = json.dumps(build_event(event, **envelope)).encode()
    return Delivery(body=body, routing_key=event.event_type.routing_key, attempts=0)
