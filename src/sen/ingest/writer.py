"""The event writer: many requests, one group commit, durable before anyone answers.

Each HTTP request hands its validated rows to :meth:`EventWriter.submit` and
waits on the returned future. One thread owns the analytical store's write
side: it gathers whatever arrived within ``flush_interval_ms`` (up to
``max_events``), drops messageIds already stored, appends the rest as one Arrow
batch, updates the projections and commits, and only then resolves the
futures. A crash before the commit loses nothing the client was told is stored;
a client retry after a crash is absorbed by the messageId dedupe.

Bulk imports run on the same thread through :meth:`run_exclusive`, so the
store never has two writers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa

from sen.ingest.dedupe import SeenKeys
from sen.store.analytics import DuckDBEngine
from sen.store.schema import EVENT_COLUMNS

log = logging.getLogger(__name__)
T = TypeVar("T")

_TS = pa.timestamp("us")
EVENT_ARROW_SCHEMA = pa.schema([
    ("message_id", pa.string()), ("message_key", pa.uint64()), ("type", pa.string()),
    ("event", pa.string()), ("name", pa.string()), ("user_id", pa.string()),
    ("anonymous_id", pa.string()), ("previous_id", pa.string()), ("group_id", pa.string()),
    ("source", pa.string()), ("timestamp", _TS), ("original_timestamp", _TS),
    ("sent_at", _TS), ("received_at", _TS), ("properties", pa.string()),
    ("traits", pa.string()), ("context", pa.string()), ("extra", pa.string()),
    ("load_id", pa.string()),
])
assert tuple(EVENT_ARROW_SCHEMA.names) == EVENT_COLUMNS

QUARANTINE_ARROW_SCHEMA = pa.schema([
    ("received_at", _TS), ("source", pa.string()), ("load_id", pa.string()),
    ("position", pa.int32()), ("field", pa.string()), ("reason", pa.string()),
    ("payload", pa.string()),
])

QuarantineRow = tuple  # in the order of QUARANTINE_ARROW_SCHEMA


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What happened to one submission: stored, already stored, quarantined."""

    inserted: int
    duplicates: int
    quarantined: int


@dataclass(slots=True)
class _Submission:
    rows: Sequence[tuple]
    rejects: Sequence[QuarantineRow]
    future: Future = field(default_factory=Future)


@dataclass(slots=True)
class _Job:
    fn: Callable[[], Any]
    future: Future = field(default_factory=Future)


_STOP = object()
IDLE_CHECKPOINT_S = 1.0  # a pause this long in traffic is used to checkpoint


def _per_source(batch: list[_Submission], results: list[WriteResult]
                ) -> dict[str, tuple[int, int]]:
    """Events stored and rejected in one commit, by source (for metrics)."""
    counts: dict[str, tuple[int, int]] = {}
    for sub, result in zip(batch, results, strict=True):
        first = sub.rows[0][9] if sub.rows else (sub.rejects[0][1] if sub.rejects else None)
        if first is not None:
            stored, rejected = counts.get(first, (0, 0))
            counts[first] = (stored + result.inserted, rejected + result.quarantined)
    return counts


_JSON_BYTES = frozenset({"properties", "traits", "context"})


def events_table(rows: Sequence[tuple]) -> pa.Table:
    """Event-log rows (tuples in ``EVENT_COLUMNS`` order) as one Arrow table.

    ``properties``, ``traits`` and ``context`` arrive as the client's UTF-8 JSON
    bytes; Arrow checks and converts them in C, not Python.
    """
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in EVENT_COLUMNS]
    arrays = []
    for col, f in zip(columns, EVENT_ARROW_SCHEMA, strict=True):
        if f.name in _JSON_BYTES:
            arrays.append(pa.array(col, type=pa.binary()).cast(pa.string()))
        else:
            arrays.append(pa.array(col, type=f.type))
    return pa.Table.from_arrays(arrays, schema=EVENT_ARROW_SCHEMA)


def _quarantine_table(rows: Sequence[QuarantineRow]) -> pa.Table:
    columns = list(zip(*rows, strict=True))
    return pa.Table.from_arrays(
        [pa.array(c, type=f.type) for c, f in zip(columns, QUARANTINE_ARROW_SCHEMA, strict=True)],
        schema=QUARANTINE_ARROW_SCHEMA,
    )


class EventWriter:
    """The single writer of the event log; see the module docstring."""

    def __init__(
        self,
        engine: DuckDBEngine,
        *,
        flush_interval_ms: float = 5.0,
        max_events: int = 20_000,
        on_commit: Callable[[dict[str, tuple[int, int]]], None] | None = None,
    ) -> None:
        self.engine = engine
        self.flush_interval = flush_interval_ms / 1000
        self.max_events = max_events
        self.on_commit = on_commit
        self.seen = SeenKeys()
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.commits = 0
        self._dirty = False
        self._subscribers: list[Callable[[pa.Table], None]] = []

    # -- life cycle ---------------------------------------------------------------
    def start(self) -> EventWriter:
        """Load the keys already stored and start the writer thread."""
        if self._thread is not None:
            return self
        keys = self.engine.execute("SELECT message_key FROM events").fetchnumpy()["message_key"]
        self.seen = SeenKeys(np.asarray(keys, dtype=np.uint64))
        # A checkpoint recompresses the table while every waiting request stalls, so
        # the writer checkpoints when traffic pauses (see _run); the size threshold
        # is only the backstop under load that never pauses.
        self.engine.execute("SET checkpoint_threshold = '1GB'")
        self._thread = threading.Thread(target=self._run, name="sen-event-writer", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Commit what is queued, then stop the thread."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join()
        self._thread = None

    def subscribe(self, callback: Callable[[pa.Table], None]) -> None:
        """Call ``callback`` with each commit's new events (an Arrow table in
        ``EVENT_COLUMNS`` order), on the writer thread, after the commit.

        The hook real-time consumers use (journeys' triggers, coupon redemption)
        instead of polling the log. It must be quick and must not raise; a
        consumer that needs every event after a crash keeps its own watermark
        over the log and treats these calls as a wake-up.
        """
        self._subscribers.append(callback)

    # -- submitting ---------------------------------------------------------------
    def submit(self, rows: Sequence[tuple], rejects: Sequence[QuarantineRow] = ()) -> Future:
        """Queue rows for the next group commit; the future resolves to a WriteResult."""
        if self._thread is None:
            raise RuntimeError("EventWriter.start() has not been called")
        sub = _Submission(rows, rejects)
        self._queue.put(sub)
        return sub.future

    async def write(self, rows: Sequence[tuple], rejects: Sequence[QuarantineRow] = ()):
        """Submit and wait without blocking the event loop."""
        return await asyncio.wrap_future(self.submit(rows, rejects))

    def write_sync(self, rows: Sequence[tuple], rejects: Sequence[QuarantineRow] = ()
                   ) -> WriteResult:
        """Submit and wait; without a started thread, commit right here (scripts, tests)."""
        if self._thread is None:
            return self._commit([_Submission(rows, rejects)])[0]
        return self.submit(rows, rejects).result()

    def run_exclusive(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the writer thread between commits (bulk imports) and return its result."""
        if self._thread is None:
            return fn()
        job = _Job(fn)
        self._queue.put(job)
        return job.future.result()

    def note_imported(self, load_id: str) -> None:
        """Learn the keys a bulk import stored, so later HTTP events dedupe against them."""
        keys = self.engine.execute(
            "SELECT message_key FROM events WHERE load_id = ?", [load_id]
        ).fetchnumpy()["message_key"]
        self.run_exclusive(lambda: self.seen.add_array(np.asarray(keys, dtype=np.uint64)))

    # -- the writer thread --------------------------------------------------------
    def _run(self) -> None:
        carry: Any = None
        while True:
            try:
                item = carry if carry is not None else self._queue.get(timeout=IDLE_CHECKPOINT_S)
            except queue.Empty:
                self._checkpoint_if_dirty()
                continue
            carry = None
            if item is _STOP:
                return
            if isinstance(item, _Job):
                self._run_job(item)
                continue
            batch, carry = self._gather(item)
            self._flush(batch)
            if carry is _STOP:
                return

    def _gather(self, first: _Submission) -> tuple[list[_Submission], Any]:
        """Collect submissions for one commit; returns them and a job/stop that ended it."""
        batch, count = [first], len(first.rows)
        deadline = time.monotonic() + self.flush_interval
        while count < self.max_events:
            remaining = deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=remaining) if remaining > 0 else \
                    self._queue.get_nowait()
            except queue.Empty:
                break
            if not isinstance(item, _Submission):
                return batch, item
            batch.append(item)
            count += len(item.rows)
        return batch, None

    def _checkpoint_if_dirty(self) -> None:
        """Fold the write-ahead log into the file while nobody is waiting."""
        if self._dirty:
            try:
                self.engine.execute("CHECKPOINT")
                self._dirty = False
            except Exception:  # noqa: BLE001 - retried at the next pause
                log.exception("checkpoint failed; will try again at the next pause")

    def _run_job(self, job: _Job) -> None:
        try:
            job.future.set_result(job.fn())
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            job.future.set_exception(exc)

    def _flush(self, batch: list[_Submission]) -> None:
        try:
            results = self._commit(batch)
        except BaseException as exc:  # noqa: BLE001 - every waiter must hear of it
            log.exception("event commit failed; %d submissions answered with an error", len(batch))
            for sub in batch:
                sub.future.set_exception(exc)
            return
        for sub, result in zip(batch, results, strict=True):
            sub.future.set_result(result)

    def _drop_stored(self, cur: Any, ids: list[str], keys: np.ndarray,
                     keep: np.ndarray) -> None:
        """Unmark rows whose messageId the log already holds.

        The in-memory keys name the candidates without a scan; only those are
        confirmed against the log, by exact messageId.
        """
        hits = np.flatnonzero(self.seen.contains_many(keys) & keep)
        if not hits.size:
            return
        found = cur.execute(
            "SELECT message_id FROM events WHERE message_key IN (SELECT unnest(?::UBIGINT[])) "
            "AND message_id IN (SELECT unnest(?::VARCHAR[]))",
            [sorted({int(keys[i]) for i in hits}), sorted({ids[i] for i in hits})],
        ).fetchall()
        stored = {r[0] for r in found}
        for i in hits:
            if ids[i] in stored:
                keep[i] = False

    @staticmethod
    def _first_copies(ids: list[str], keys: np.ndarray) -> np.ndarray:
        """A mask of each messageId's first row in the batch (vectorised on the keys;
        rows sharing a key are compared by id, so a collision keeps both)."""
        keep = np.zeros(keys.size, dtype=bool)
        keep[np.unique(keys, return_index=True)[1]] = True
        repeats = np.flatnonzero(~keep)
        if repeats.size:  # retries inside one commit; rare
            taken = {ids[i] for i in np.flatnonzero(keep)}
            for i in repeats:
                if ids[i] not in taken:
                    taken.add(ids[i])
                    keep[i] = True
        return keep

    def _select_new(self, cur: Any, batch: list[_Submission]
                    ) -> tuple[pa.Table | None, np.ndarray, list[WriteResult]]:
        """The batch's rows minus those already stored or repeated; one result per submission."""
        flat = [row for sub in batch for row in sub.rows]
        if not flat:
            return None, np.zeros(0, np.uint64), [
                WriteResult(0, 0, len(sub.rejects)) for sub in batch]
        table = events_table(flat)
        cur.register("sen_batch", table)
        try:  # md5 of every messageId, vectorised: the same key bulk imports compute
            keys = cur.execute("SELECT md5_number_upper(message_id) AS k FROM sen_batch"
                               ).fetchnumpy()["k"]
        finally:
            cur.unregister("sen_batch")
        keys = np.asarray(keys, dtype=np.uint64)
        ids = [row[0] for row in flat]
        keep = self._first_copies(ids, keys)
        self._drop_stored(cur, ids, keys, keep)
        sizes = [len(sub.rows) for sub in batch]
        owner = np.repeat(np.arange(len(batch)), sizes)
        inserted = np.bincount(owner, weights=keep, minlength=len(batch)).astype(int)
        results = [WriteResult(int(n), size - int(n), len(sub.rejects))
                   for n, size, sub in zip(inserted, sizes, batch, strict=True)]
        new_keys = keys[keep]
        new = table.filter(pa.array(keep)).set_column(
            1, "message_key", pa.array(new_keys, pa.uint64()))
        return new, new_keys, results

    def _commit(self, batch: list[_Submission]) -> list[WriteResult]:
        from sen.ingest.projections import apply_new_events

        cur = self.engine.cursor()
        rejects = [r for sub in batch for r in sub.rejects]
        cur.execute("BEGIN TRANSACTION")
        try:
            new, new_keys, results = self._select_new(cur, batch)
            if new is not None and new.num_rows:
                cur.register("sen_new_events", new)
                cur.execute("INSERT INTO events SELECT * FROM sen_new_events")
                apply_new_events(cur, "sen_new_events")
            if rejects:
                cur.register("sen_new_rejects", _quarantine_table(rejects))
                cur.execute("INSERT INTO quarantine SELECT * FROM sen_new_rejects")
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        finally:
            for name in ("sen_new_events", "sen_new_rejects"):
                with contextlib.suppress(Exception):  # it was never registered
                    cur.unregister(name)
        self.seen.add_array(new_keys)
        self.commits += 1
        self._dirty = True
        if self.on_commit is not None:
            self.on_commit(_per_source(batch, results))
        if new is not None and new.num_rows:
            self._publish(new)
        return results

    def _publish(self, new: pa.Table) -> None:
        for callback in self._subscribers:
            try:
                callback(new)
            except Exception:  # noqa: BLE001 - one consumer never stops the writer
                log.exception("an event subscriber failed; it will catch up from the log")
