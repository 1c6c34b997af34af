"""Erasing a customer on request (decree 13/2023): both stores, and the record of it.

The analytical side runs first, in one DuckDB transaction on the event writer's
thread (``run``: pass ``writer.run_exclusive`` in a running server): once it has
committed, no segment, audience or campaign can pick her up any more. The
operational side follows in one transaction of its own, which also writes the
``privacy_requests`` row; it is tried again when its store is briefly
unavailable (a lock, a dropped connection). If it still fails, asking again
finishes it: identity no longer knows the id (and says it was erased), but the
outbox, consents, coupons and audiences still name it. Only her anonymous
browsers' push subscriptions cannot be found that way (docs/privacy.md).

Running it twice is harmless: an id erased before names nobody (it is not
followed through the merge log, which could lead to someone else), nothing is
found, and the second request is recorded with nothing removed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa

from sen.errors import NotFoundError, StoreError
from sen.privacy import erase_analytics, erase_operational, ledger, ops_rows
from sen.privacy.ops_rows import Scope
from sen.privacy.scrub import Pseudonyms
from sen.store.analytics import DuckDBEngine

T = TypeVar("T")
Runner = Callable[[Callable[[], T]], T]
_ATTEMPTS, _PAUSE_S = 3, 0.5  # the operational half, when its store is briefly unavailable


@dataclass(frozen=True)
class Erasure:
    """What an erasure did. ``removed`` counts rows per store and table that were
    deleted, pseudonymised or scrubbed; ``audience_links`` are the links whose ad
    platform audience was sent her hashed identifiers: remove her there too (the
    platform keeps them until the audience is emptied or expires)."""

    requested: str
    profile_id: str | None
    records: int
    removed: dict[str, dict[str, int]]
    audience_links: tuple[str, ...]
    already_erased: bool
    request_id: int
    done_at: datetime


def _direct(fn: Callable[[], T]) -> T:
    return fn()


def erase(engine: DuckDBEngine, ops: sa.Engine, profile_id: str, *, actor: str,
          now: datetime, run: Runner | None = None) -> Erasure:
    """Erase everything Sen holds about the customer ``profile_id`` names (a merged-away
    id is followed), keeping her orders as anonymous sales.

    ``run`` runs the analytical half where the store's writes are allowed: the
    event writer's ``run_exclusive`` under ``sen serve``, directly otherwise.
    :class:`NotFoundError` when neither store knows the id and it was never erased.
    """
    run = run or _direct
    earlier = ledger.erased_at(ops, profile_id)
    names = Pseudonyms()

    def endpoints(records: list[str]) -> set[str]:
        with ops.connect() as con:
            return ops_rows.endpoints_of(con, records)

    store = run(lambda: erase_analytics.erase(engine, profile_id, names, actor=actor,
                                              follow=earlier is None, endpoints=endpoints))
    for attempt in range(_ATTEMPTS):
        try:
            return _operational_half(ops, profile_id, store, names, actor=actor, now=now,
                                     known=earlier is not None or store.erased_before)
        except sa.exc.OperationalError as exc:  # a lock held too long, a dropped connection
            if attempt + 1 == _ATTEMPTS:
                raise StoreError(
                    f"{profile_id} is erased from the analytical store, but the operational "
                    f"store failed: {exc.orig}",
                    hint="Run the erasure again: it finishes the operational store.") from exc
            time.sleep(_PAUSE_S * 2 ** attempt)
    raise AssertionError("unreachable")


def _operational_half(ops: sa.Engine, profile_id: str, store: erase_analytics.StoreErasure,
                      names: Pseudonyms, *, actor: str, now: datetime, known: bool) -> Erasure:
    """Her rows in the operational store, and the record of the request: one transaction."""
    subject = store.subject
    scope = Scope.of(subject) if subject else Scope({profile_id}, set(), set())
    with ops.begin() as con:
        if subject is None:
            ops_rows.widen(con, scope)
            if scope.is_empty() and not known:
                raise NotFoundError(f"There is no profile {profile_id!r}.",
                                    hint="Look the customer up by phone, email or name "
                                    "and use the profile id the 360 shows.")
        exclusive = scope.addresses - store.shared_addresses
        ops_counts = erase_operational.erase(con, scope, exclusive=exclusive, names=names,
                                             now=now)
        removed = {"analytics": store.counts, "operational": ops_counts}
        already = subject is None and not any(ops_counts.values())
        summary: dict[str, Any] = {"requested": profile_id, "removed": removed,
                                   "audience_links": store.audience_links,
                                   "already_erased": already}
        pid = subject.profile_id if subject else profile_id
        request_id = ledger.write(con, kind=ledger.ERASE, profile_id=pid,
                                  records=sorted(scope.records), summary=summary,
                                  actor=actor, now=now)
    return Erasure(requested=profile_id, profile_id=subject.profile_id if subject else None,
                   records=len(scope.records), removed=removed,
                   audience_links=tuple(store.audience_links), already_erased=already,
                   request_id=request_id, done_at=now)
