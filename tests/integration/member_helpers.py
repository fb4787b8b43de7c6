"""Registering as a person does: the registration, then the link from the mail it sends (read from the catalog's
outbox, where registration.requested waits for notify)."""

from __future__ import annotations

from sqlalchemy import select

from services.catalog.domain import normalise_email
from services.catalog.models import Member
from shared.events import parse_event
from shared.tables import outbox
from shared.web import runtime_of


def confirmation_token(client, email: str) -> str | None:
    """The newest confirmation token mailed to `email`; None if the mail said the address has an account."""
    runtime = runtime_of(client.application)
    with runtime.engine.connect() as connection:
        member_id = connection.scalar(select(Member.id).where(Member.email == normalise_email(email)))
        bodies = connection.scalars(select(outbox.c.body).where(outbox.c.routing_key == "registration.requested")
                                    .order_by(outbox.c.seq.desc()))
        for body in bodies:
            requested = parse_event(body).data
            if requested.member_id == member_id:
                return requested.verification_token
    return None


def register(client, email: str, password: str, display_name: str, **fields):
    """Register and open the mailed link: the confirmation's answer (200 and the member), or the registration's
    refusal."""
    answer = client.post("/api/v1/members",
                         json={"email": email, "password": password, "display_name": display_name, **fields})
    if answer.status_code != 202:
        return answer
    token = confirmation_token(client, email)
    assert token is not None, f"{email} has an account already: no link was mailed"
    return client.post("/api/v1/members/confirmation", json={"token": token})


def forged(token: str) -> str:
    """`token` with its first character changed: always a different token, whatever character it began with."""
    return ("y" if token[0] == "x" else "x") + token[1:]
