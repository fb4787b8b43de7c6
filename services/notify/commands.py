"""What notify does in the caller's transaction: messages into inboxes, mails recorded for the dispatcher,
outcomes of sent mails, preferences and the erasure of a deleted member."""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from urllib.parse import urlencode

from sqlalchemy import delete, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from services.notify.batch_reads import email_choice
from services.notify.domain import ALWAYS_MAILED, MAIL_ONLY, MAIL_ONLY_CATEGORIES, Category, Message, wants_email
from services.notify.mail import CHANNEL as EMAIL_CHANNEL
from services.notify.mail import MAIL_EFFECT, mail_key, mail_payload
from services.notify.metrics import NOTIFICATIONS, PENDING, PENDING_AGE
from services.notify.models import EmailDelivery, InboxMessage, MemberRecord, Preference
from services.notify.settings import public_url
from shared.consumer import at_batch_end
from shared.db import fetch_page
from shared.errors import NotFound, Unprocessable
from shared.events.declarations import NotificationDelivered, NotificationFailed
from shared.outbox import collect_events, collecting, record_event, write_collected_events
from shared.side_effects import record_side_effects
from shared.tables import side_effects

log = logging.getLogger(__name__)
INBOX_CHANNEL = "inbox"
# A mail whose retries ran out on a transient error (server away for long) is tried again this much later.
REARM_DELAY = timedelta(minutes=15)
UNSUBSCRIBE_PATH = "/api/v1/notification-preferences/unsubscribe"


def tell(db: Session, member: MemberRecord, cause_event_id: str, message: Message) -> None:
    """Inbox (but for mail-only kinds); e-mail unless the member switched the category off. Once per event and
    member each."""
    if message.kind not in MAIL_ONLY:
        deliver_to_inbox(db, member.member_id, cause_event_id, message)
    # Always-mailed categories go out whatever the member chose, so their choice is not read.
    if message.category in ALWAYS_MAILED or wants_email(
            message.category, email_choice(db, member.member_id, message.category.value)):
        queue_email(db, member, cause_event_id, message)


def deliver_to_inbox(db: Session, member_id: str, cause_event_id: str, message: Message) -> None:
    """Put `message` in the member's inbox, unless this event already reached them."""
    _writes(db).inbox.append({"id": str(uuid.uuid4()), "member_id": member_id, "cause_event_id": cause_event_id,
                              "kind": message.kind.value, "subject": message.subject[:200], "body": message.text,
                              "created_at": datetime.now(UTC)})
    _write_unless_batched(db)


def queue_email(db: Session, member: MemberRecord, cause_event_id: str, message: Message) -> None:
    """Record one mail and its side effect, unless this event already has a mail for this member."""
    now = datetime.now(UTC)
    delivery_id = str(uuid.uuid4())
    unsubscribe = None if message.category in ALWAYS_MAILED else unsubscribe_url(member, message.category)
    effect = (MAIL_EFFECT, mail_key(delivery_id), mail_payload(
        delivery_id, member.display_name, member.email, member.preferred_language, message, now, unsubscribe))
    _writes(db).mails.append(({"id": delivery_id, "member_id": member.member_id, "cause_event_id": cause_event_id,
                               "kind": message.kind.value, "status": "pending", "created_at": now}, effect))
    _write_unless_batched(db)


@dataclass
class _Writes:
    """Inbox messages and mails to write, with what follows each one that is new (an event, a side effect)."""

    # Whether they wait for the end of a consumer's batch: one statement per table for all its events, instead of
    # two or three per event.
    batched: bool
    inbox: list[dict] = field(default_factory=list)
    mails: list[tuple[dict, tuple[str, str, dict]]] = field(default_factory=list)


_WRITES = "notify_writes"


def _writes(db: Session) -> _Writes:
    writes = db.info.get(_WRITES)
    if writes is None:
        writes = db.info[_WRITES] = _Writes(batched=at_batch_end(db, write_batched))
    return writes


def _write_unless_batched(db: Session) -> None:
    if not _writes(db).batched:
        write_batched(db)


def write_batched(db: Session) -> None:
    """Write the inbox messages and mails waiting in `db`: each one unless a row for the same member and cause
    exists (the table's unique key), then the event of each new message and the side effect of each new mail.
    Whatever reads or deletes those tables in a batch calls this first."""
    writes = db.info.pop(_WRITES, None)
    if writes is None:
        return
    # The events go into the batch's own collection while there is one, else into one written below.
    own_collection = not collecting(db)
    if own_collection:
        collect_events(db)
    new_messages = _insert_new(db, InboxMessage, writes.inbox)
    for row in writes.inbox:
        if row["id"] in new_messages:
            record_event(db, NotificationDelivered(notification_id=row["id"], member_id=row["member_id"],
                                                   channel=INBOX_CHANNEL, cause_event_id=row["cause_event_id"],
                                                   delivered_at=row["created_at"]))
    if new_messages:
        _count_inbox_messages_on_commit(db, len(new_messages))
    new_mails = _insert_new(db, EmailDelivery, [row for row, _ in writes.mails])
    record_side_effects(db, [effect for row, effect in writes.mails if row["id"] in new_mails])
    if own_collection:
        write_collected_events(db)


def _insert_new(db: Session, model: type[InboxMessage] | type[EmailDelivery], rows: list[dict]) -> set[str]:
    """Insert the rows but those whose member and cause have one (its unique key), in one statement; the ids of
    the rows inserted."""
    if not rows:
        return set()
    return set(db.scalars(_insert_once_statement(db.get_bind().dialect.name, model), rows))


@cache
def _insert_once_statement(dialect: str, model: type[InboxMessage] | type[EmailDelivery]):
    # Built once, on the table rather than the mapped class, with the values as parameters: building the
    # statement and the ORM's bulk insert around it cost more CPU than the database's work.
    table = model.__table__
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (insert(table).on_conflict_do_nothing(index_elements=[table.c.member_id, table.c.cause_event_id])
            .returning(table.c.id))


def _count_inbox_messages_on_commit(db: Session, added: int) -> None:
    """Count messages only once their transaction commits: a failed batch is applied again event by event, and
    counting as they are written would count its messages twice."""
    if "inbox_messages_added" not in db.info:
        db.info["inbox_messages_added"] = 0

        @event.listens_for(db, "after_commit", once=True)
        def count(session: Session) -> None:
            NOTIFICATIONS.labels(INBOX_CHANNEL, "sent").inc(session.info.pop("inbox_messages_added", 0))

        @event.listens_for(db, "after_rollback", once=True)
        def forget(session: Session) -> None:
            session.info.pop("inbox_messages_added", None)

    db.info["inbox_messages_added"] += added


def record_mail_outcomes(session_factory: sessionmaker, batch_size: int = 500) -> int:
    """Scheduled: turn what the dispatcher did with each mail into the delivery's status and an event; a mail
    whose retries ran out on a transient error is armed again, so a long SMTP outage loses nothing."""
    recorded = 0
    while True:  # batch by batch, each its own transaction, until a batch comes back short
        with session_factory.begin() as db:
            finished = db.execute(
                select(EmailDelivery.id, EmailDelivery.member_id, EmailDelivery.cause_event_id, side_effects.c.status,
                       side_effects.c.last_error)
                .join(side_effects, side_effects.c.idempotency_key == _MAIL_KEY)
                .where(EmailDelivery.status == "pending", side_effects.c.status.in_(("done", "failed")))
                .order_by(EmailDelivery.created_at, EmailDelivery.id)
                .limit(batch_size)
            ).all()
            collect_events(db)  # an event per mail, all in one statement
            recorded += _record_outcomes(db, finished)
            write_collected_events(db)
        if len(finished) < batch_size:
            break
    with session_factory() as db:
        count, oldest = db.execute(select(func.count(), func.min(EmailDelivery.created_at))
                                   .where(EmailDelivery.status == "pending")).one()
    PENDING.labels(EMAIL_CHANNEL).set(count)
    PENDING_AGE.labels(EMAIL_CHANNEL).set((datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0)
    # The inbox is written in the event's own transaction: nothing ever waits for it.
    PENDING.labels(INBOX_CHANNEL).set(0)
    PENDING_AGE.labels(INBOX_CHANNEL).set(0.0)
    return recorded


_deliveries = EmailDelivery.__table__
_MAIL_KEY = mail_key("") + _deliveries.c.id  # the side effect's key of each delivery row, in SQL


def _of_its_side_effect(column):
    return select(column).where(side_effects.c.idempotency_key == _MAIL_KEY).scalar_subquery()


def _record_outcomes(db: Session, rows: list) -> int:
    """A few statements for the whole batch, where four a mail were most of the job's cost."""
    now = datetime.now(UTC)
    rearmed = {row.id for row in rows
               if row.status == "failed" and not (row.last_error or "").startswith("MailRefused")}
    for row in rows:
        if row.id in rearmed:
            log.warning("mail %s: retries ran out (%s); trying again in %s", row.id, row.last_error, REARM_DELAY)
    if rearmed:
        db.execute(update(side_effects)
                   .where(side_effects.c.idempotency_key.in_([mail_key(delivery_id) for delivery_id in rearmed]),
                          side_effects.c.status == "failed")
                   .values(status="pending", attempts=0, due_at=now + REARM_DELAY, completed_at=None))
    sent = [row.id for row in rows if row.status == "done"]
    failed = [row.id for row in rows if row.status == "failed" and row.id not in rearmed]
    # Conditional, so that two workers running this job at once record each outcome, and its event, once.
    completed_at: dict[str, datetime] = {}
    for ids, values in ((sent, {"status": "sent", "failure": None}),
                        (failed, {"status": "failed", "failure": _of_its_side_effect(side_effects.c.last_error)})):
        if ids:
            completed_at.update(db.execute(
                update(_deliveries).where(_deliveries.c.id.in_(ids), _deliveries.c.status == "pending")
                .values(completed_at=func.coalesce(_of_its_side_effect(side_effects.c.completed_at), now), **values)
                .returning(_deliveries.c.id, _deliveries.c.completed_at)
            ).all())
    if not completed_at:
        return 0
    # The delivery rows now guard against a second mail; the side effects' copies of the mails can go.
    db.execute(delete(side_effects)
               .where(side_effects.c.idempotency_key.in_([mail_key(delivery_id) for delivery_id in completed_at])))
    for row in rows:
        if row.id not in completed_at:
            continue
        if row.status == "done":
            record_event(db, NotificationDelivered(notification_id=row.id, member_id=row.member_id,
                                                   channel=EMAIL_CHANNEL, cause_event_id=row.cause_event_id,
                                                   delivered_at=completed_at[row.id]))
        else:
            record_event(db, NotificationFailed(notification_id=row.id, member_id=row.member_id,
                                                channel=EMAIL_CHANNEL, cause_event_id=row.cause_event_id,
                                                reason=(row.last_error or "refused")[:500], failed_at=now))
    return len(completed_at)


def erase_member(db: Session, member_id: str, deleted_at: datetime) -> None:
    """A deleted member: messages, mails (sent or waiting), preferences and personal data go; a tombstone stays
    so that events still on their way about them are dropped rather than retried."""
    write_batched(db)  # what earlier events of the batch told them goes too
    deliveries = list(db.scalars(select(EmailDelivery.id).where(EmailDelivery.member_id == member_id)))
    if deliveries:
        db.execute(delete(side_effects).where(side_effects.c.idempotency_key.in_(
            [mail_key(delivery_id) for delivery_id in deliveries])))
    db.execute(delete(EmailDelivery).where(EmailDelivery.member_id == member_id))
    db.execute(delete(InboxMessage).where(InboxMessage.member_id == member_id))
    db.execute(delete(Preference).where(Preference.member_id == member_id))
    db.merge(MemberRecord(member_id=member_id, email="", display_name="", preferred_language="en",
                          time_zone="UTC", updated_at=None, deleted_at=deleted_at, unsubscribe_token=None))


def unsubscribe_url(member: MemberRecord, category: Category) -> str:
    """The one-click link that switches this category's e-mail off (RFC 8058), keyed by the member's token."""
    if member.unsubscribe_token is None:
        member.unsubscribe_token = secrets.token_urlsafe(32)
    query = urlencode({"token": member.unsubscribe_token, "category": category.value})
    return f"{public_url()}{UNSUBSCRIBE_PATH}?{query}"


def member_of_unsubscribe_token(db: Session, token: str) -> MemberRecord:
    member = db.scalar(select(MemberRecord).where(MemberRecord.unsubscribe_token == token,
                                                   MemberRecord.deleted_at.is_(None)))
    if member is None:
        raise NotFound("this unsubscribe link is not valid (any more)")
    return member


def unsubscribe(db: Session, token: str, category: str) -> dict:
    """Switch one category's e-mail off for the member the token names; optional categories only."""
    member = member_of_unsubscribe_token(db, token)
    set_preferences(db, member.member_id, {category: False})
    return {"category": category, "email": False}


def preferences_of(db: Session, member_id: str) -> dict[str, dict]:
    """Every category with the member's e-mail choice (default on) and whether it can be switched off."""
    chosen = dict(db.execute(select(Preference.category, Preference.email)
                             .where(Preference.member_id == member_id)).all())
    return {category.value: {"email": wants_email(category, chosen.get(category.value)),
                             "inbox": category not in MAIL_ONLY_CATEGORIES,
                             "locked": category in ALWAYS_MAILED} for category in Category}


def set_preferences(db: Session, member_id: str, choices: dict[str, bool]) -> dict[str, dict]:
    """Apply {category: email on/off}; switching off an always-mailed category refuses the whole request."""
    locked = sorted(name for name, email in choices.items() if not email and Category(name) in ALWAYS_MAILED)
    if locked:
        raise Unprocessable(f"e-mail for {', '.join(locked)} cannot be switched off",
                            errors={name: {"email": ["always sent by e-mail; cannot be switched off"]}
                                    for name in locked})
    for name, email in choices.items():
        db.merge(Preference(member_id=member_id, category=name, email=email))
    db.flush()
    return preferences_of(db, member_id)


def messages_of(db: Session, member_id: str, unread_only: bool, page: int, per_page: int
                ) -> tuple[int, list[InboxMessage]]:
    """One page of the member's own messages, newest first, and how many there are in all."""
    conditions = [InboxMessage.member_id == member_id]
    if unread_only:
        conditions.append(InboxMessage.read_at.is_(None))
    query = select(InboxMessage).where(*conditions).order_by(InboxMessage.created_at.desc(), InboxMessage.id)
    return fetch_page(db, query, page, per_page)


def unread_count(db: Session, member_id: str) -> int:
    return db.scalar(select(func.count()).where(InboxMessage.member_id == member_id,
                                                InboxMessage.read_at.is_(None))) or 0


def mark_read(db: Session, member_id: str, notification_id: str) -> InboxMessage:
    """Mark one of the member's messages read; reading it again keeps the first time."""
    message = db.get(InboxMessage, notification_id)
    # Someone else's message is reported as missing, so ids cannot be probed.
    if message is None or message.member_id != member_id:
        raise NotFound(f"notification {notification_id} not found")
    if message.read_at is None:
        message.read_at = datetime.now(UTC)
    return message


def mark_all_read(db: Session, member_id: str) -> int:
    """Mark every unread message of the member read; returns how many."""
    result = db.execute(update(InboxMessage)
                        .where(InboxMessage.member_id == member_id, InboxMessage.read_at.is_(None))
                        .values(read_at=datetime.now(UTC)))
    return result.rowcount
