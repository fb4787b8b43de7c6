"""What a batch of billing's events reads, read once per batch (one query per table) instead of once per event.

Inside a consumer's batch (shared.consumer.batch_of) the rows found stay in the session, so `get` finds them
there, and the keys not found are noted, so that an event about a new booking or member does not ask again.
Outside a batch (a command called by the API) nothing is kept and every read asks the database, as before.

What is kept can only be dropped, never added to from what the batch writes, except where the batch runs without
savepoints (one failure rolls back all of it and the batch is applied again, with nothing kept): a savepoint that
rolls back cannot leave a row here that the database no longer has.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from services.billing.models import HeldSession, Invoice, MemberRecord, OfferVersion, PostingSet, RevenuePolicy
from shared.consumer import batch_of
from shared.events import ParsedEvent

R = TypeVar("R", MemberRecord, HeldSession, PostingSet)
Keys = Callable[[list[ParsedEvent]], Iterable[str]]
_READ = "billing_batch_reads"


def _named(field: str) -> Keys:
    def keys(events: list[ParsedEvent]) -> set[str]:
        return {key for parsed in events if (key := getattr(parsed.data, field, None))}
    return keys


members_named = _named("member_id")
sessions_named = _named("session_id")
bookings_named = _named("booking_id")
offers_named = _named("offer_id")


class BatchReads:
    def __init__(self, events: list[ParsedEvent]) -> None:
        self.events = events
        self.rows: list[Any] = []  # held here: the session keeps only weak references to unchanged rows
        self.keys: dict[type, set[str]] = {}  # per model, the keys the batch's events name
        self.loaded: set[type] = set()
        self.missing: set[tuple[type, str]] = set()
        self.not_invoiced: set[str] | None = None  # booking ids without an invoice when the batch began
        self.offer_versions: dict[str, list[OfferVersion]] | None = None  # by offer, oldest first
        self.offers_written: set[str] = set()  # read from the database again: this batch wrote them
        self.policies: list[RevenuePolicy] | None = None
        self.policies_written = False  # read from the database again: this batch added a version
        self.accounts: dict[tuple[str, str], int] | None = None  # (kind, owner) -> id
        self.no_account: set[tuple[str, str]] = set()  # none when the batch began (it may have one by now)


def of(db: Session) -> BatchReads | None:
    """The batch's reads, None outside a consumer's batch."""
    reads = db.info.get(_READ)
    if reads is None:
        events = batch_of(db)
        if not events:
            return None
        reads = db.info[_READ] = BatchReads(events)

        def written(session: Session, instance: Any) -> None:
            # A row this batch adds exists from now on (and is asked for again if its savepoint rolls back).
            # Merge adds a row before it has its key, so the key is looked at once more when it is flushed.
            key = inspect(instance).mapper.primary_key_from_instance(instance)
            reads.missing.discard((type(instance), key[0]))
            if isinstance(instance, Invoice) and reads.not_invoiced is not None:
                reads.not_invoiced.discard(instance.booking_id)

        event.listen(db, "transient_to_pending", written)
        event.listen(db, "pending_to_persistent", written)
    return reads


def get(db: Session, model: type[R], key: str, batch_keys: Keys) -> R | None:
    """`db.get`, but in a batch the rows of every key `batch_keys` finds in its events are read in one query when
    the first of them is asked for, and a key not found is not asked for again."""
    reads = of(db)
    if reads is not None:
        keys = reads.keys.get(model)
        if keys is None:
            keys = reads.keys[model] = set(batch_keys(reads.events))
        if key in keys and model not in reads.loaded:
            reads.loaded.add(model)
            [column] = inspect(model).primary_key
            found = list(db.scalars(select(model).where(column.in_(keys))))
            reads.rows.extend(found)
            reads.missing.update((model, missing) for missing in keys - {getattr(row, column.key) for row in found})
        if (model, key) in reads.missing:
            return None
    return db.get(model, key)


def row_written(db: Session, model: type, key: str) -> None:
    """A row written without the session (a Core insert) exists from now on."""
    reads = db.info.get(_READ)
    if reads is not None:
        reads.missing.discard((model, key))


def not_invoiced(db: Session, booking_id: str) -> bool:
    """True if the booking had no invoice when the batch began and none was added since; False if not known."""
    reads = of(db)
    if reads is None:
        return False
    if reads.not_invoiced is None:
        bookings = bookings_named(reads.events)
        found = set(db.scalars(select(Invoice.booking_id).where(Invoice.booking_id.in_(bookings)))) if bookings else ()
        reads.not_invoiced = bookings - set(found)
    return booking_id in reads.not_invoiced


def offer_versions(db: Session, offer_id: str) -> list[OfferVersion] | None:
    """The offer's versions, oldest first, read once for all the batch's offers; None if not known (outside a
    batch, an offer the batch's events do not name, or one the batch wrote)."""
    reads = of(db)
    if reads is None or offer_id in reads.offers_written:
        return None
    if reads.offer_versions is None:
        offers = set(offers_named(reads.events)) - reads.offers_written
        reads.offer_versions = {offer: [] for offer in offers}
        if offers:
            for row in db.scalars(select(OfferVersion).where(OfferVersion.offer_id.in_(offers))
                                  .order_by(OfferVersion.offer_id, OfferVersion.effective_at)):
                reads.rows.append(row)
                reads.offer_versions[row.offer_id].append(row)
    return reads.offer_versions.get(offer_id)


def offer_written(db: Session, offer_id: str) -> None:
    """The batch wrote a version of the offer: read its versions from the database from now on."""
    reads = of(db)
    if reads is not None:
        reads.offers_written.add(offer_id)
        if reads.offer_versions is not None:
            reads.offer_versions.pop(offer_id, None)


def providers(db: Session) -> set[str]:
    """The providers of the offers whose versions the batch read."""
    reads = of(db)
    if reads is None or reads.offer_versions is None:
        return set()
    return {member for versions in reads.offer_versions.values() for row in versions for member, _ in row.providers}


def policies(db: Session) -> list[RevenuePolicy]:
    """Every revenue-share policy version, read once per batch."""
    reads = of(db)
    if reads is not None and reads.policies is not None:
        return reads.policies
    rows = list(db.scalars(select(RevenuePolicy).order_by(RevenuePolicy.version)))
    if reads is not None and not reads.policies_written:
        reads.policies = rows
    return rows


def policy_written(db: Session) -> None:
    """The batch added a policy version: read them from the database from now on."""
    reads = db.info.get(_READ)
    if reads is not None:
        reads.policies, reads.policies_written = None, True
