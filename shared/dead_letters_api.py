"""Every service's dead letters for operators, over HTTP as `academy dead-letters` offers them on the command line:
what the service's consumer gave up on, and a replay into its queue once the cause is fixed."""

from __future__ import annotations

import logging

from flask import current_app
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.auth import require_roles
from shared.bus import DeadLetter
from shared.errors import BusUnavailable
from shared.schemas import StrictSchema
from shared.web import Blueprint, runtime_of

log = logging.getLogger(__name__)
OPERATOR = "operator"
MAX_IDS = 1000


class DeadLetterOut(Schema):
    message_id = fields.String(metadata={"description": "the event's id; replaying it twice is harmless, since "
                                                        "consumers skip an event they have handled"})
    routing_key = fields.String()
    attempts = fields.Integer()
    dead_at = fields.String(metadata={"description": "ISO 8601, when the consumer gave up"})
    reason = fields.String(metadata={"description": "the last error the consumer reported"})


class DeadLettersOut(Schema):
    service = fields.String()
    count = fields.Integer()
    items = fields.List(fields.Nested(DeadLetterOut))


class ReplayRequest(StrictSchema):
    message_ids = fields.List(fields.String(validate=validate.Length(min=1, max=200)),
                              validate=validate.Length(min=1, max=MAX_IDS), load_default=None,
                              metadata={"description": "the letters to replay; without it, every one"})


class ReplayOut(Schema):
    replayed = fields.Integer()


def _bus_call(action):
    """The bus's answer, or a 503 if it cannot be reached (the letters stay where they are)."""
    try:
        return action(runtime_of(current_app).bus)
    except Exception as error:  # a broker or a bus database that does not answer, whatever its client raises
        log.warning("dead letters: the bus did not answer: %s", error)
        raise BusUnavailable("the message bus cannot be reached; try again shortly") from error


def dead_letters_blueprint(service: str) -> Blueprint:
    blueprint = Blueprint(f"{service}_dead_letters", __name__, url_prefix=f"/api/v1/dead-letters/{service}",
                          description="Dead letters, for operators")

    @blueprint.route("")
    class DeadLetters(MethodView):
        @require_roles(OPERATOR)
        @blueprint.response(200, DeadLettersOut)
        @blueprint.doc(security=[{"bearer": []}])
        def get(self):
            """The events this service's consumer gave up on, oldest first (operators)"""
            letters: list[DeadLetter] = _bus_call(lambda bus: bus.dead_letters(service))
            return {"service": service, "count": len(letters), "items": letters}

    @blueprint.route("/replay")
    class Replay(MethodView):
        @require_roles(OPERATOR)
        @blueprint.arguments(ReplayRequest)
        @blueprint.response(200, ReplayOut)
        @blueprint.doc(security=[{"bearer": []}])
        def post(self, body):
            """Put dead letters back into this service's queue, the named ones or all (operators); ids no longer
            dead are skipped"""
            ids = set(body["message_ids"]) if body["message_ids"] is not None else None
            replayed = _bus_call(lambda bus: bus.replay_dead_letters(service, ids))
            log.info("replayed %d dead letter(s) of %s", replayed, service)
            return {"replayed": replayed}

    return blueprint
