"""The whole retailer, step by step: draw truth, derive views, write files.

Steps draw from independent random streams (see ``seeds``), so files that do
not depend on events are identical with and without ``with_events``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sen.demo import accounts, consents, mappings, pos, purchasing, render, segment, truth, writer
from sen.demo import digital as dg
from sen.demo.calendar import Calendar, build_calendar
from sen.demo.catalogue import Catalogue, build_catalogue
from sen.demo.people import People, build_people
from sen.demo.seeds import rng_for

EVENT_CHUNK = 400_000
T = TypeVar("T")
StepCallback = Callable[[str, str], None]  # (step name, "start" | "done")


@dataclass
class FileEntry:
    """One written file: where, what kind of data, from which source, how big."""

    path: str
    kind: str  # customers | orders | products | stores | events | mapping | ground_truth
    source: str | None
    mapping: str | None
    rows: int
    bytes: int = 0


@dataclass
class Manifest:
    """What :func:`generate` wrote, with counts; also saved as ``manifest.json``."""

    out_dir: str
    seed: int
    customers: int
    end_date: str
    years: int
    with_events: bool
    files: list[FileEntry] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def file(self, name: str) -> FileEntry:
        """The entry for a file name (relative to ``out_dir``)."""
        return next(f for f in self.files if f.path == name)

    def as_dict(self) -> dict:
        return asdict(self)


def generate(
    out_dir: Path,
    *,
    customers: int = 100_000,
    seed: int = 42,
    end_date: date = date(2026, 10, 31),
    years: int = 2,
    with_events: bool = True,
    on_step: StepCallback | None = None,
) -> Manifest:
    """Generate the synthetic retailer into ``out_dir`` and return its manifest.

    ``customers`` true people are drawn; ``years`` of history ending on
    ``end_date`` are exported. ``on_step`` is told when each step starts and
    ends (the CLI draws progress bars from it).
    """
    out = Path(out_dir)
    (out / "ground_truth").mkdir(parents=True, exist_ok=True)
    m = Manifest(str(out), seed, customers, end_date.isoformat(), years, with_events)
    run = _Runner(m, on_step)
    cal = build_calendar(end_date, years)
    cat = run("catalogue", lambda: build_catalogue(rng_for(seed, "catalogue")))
    people = run("people", lambda: build_people(rng_for(seed, "people"), customers, cal))
    history = run(
        "purchases", lambda: purchasing.purchase_history(rng_for(seed, "history"), people, cal)
    )
    orders, lines = run(
        "orders",
        lambda: purchasing.order_lines(
            rng_for(seed, "lines"),
            people,
            purchasing.window_orders(rng_for(seed, "orders"), people, history, cal),
            cat,
            cal,
        ),
    )
    hotline = pos.store_phones(rng_for(seed, "hotlines"))
    rec = run(
        "pos records",
        lambda: pos.build_records(rng_for(seed, "pos"), people, history, cal, hotline),
    )
    inv_rec, inv_phone = pos.invoice_customers(rng_for(seed, "invoices"), rec, orders, people, cal)
    buyers, buyer_of = accounts.marketplace_buyers(rng_for(seed, "buyers"), people, orders)
    ids = render.order_ids(
        orders, accounts.marketplace_order_ids(rng_for(seed, "mids"), orders, cal)
    )
    followers = accounts.zalo_followers(rng_for(seed, "zalo"), people, cal)
    willing = consents.willingness(rng_for(seed, "consent"), people.n)
    promotions = consents.pos_answers(rng_for(seed, "consent_pos"), rec, willing)
    consent_truth = [consents.pos_truth(rec, promotions)]
    occurrences: list[pa.Table] = []

    def write_files() -> None:
        _data(out, m, "stores.csv", render.stores_table(hotline), mappings.stores())
        _data(out, m, "products.xlsx", render.products_table(cat), mappings.products())
        _data(
            out,
            m,
            "pos_customers.csv",
            render.pos_customers_table(
                rng_for(seed, "pos_render"), people, rec, cal, consents.pos_column(promotions)
            ),
            mappings.pos_customers(),
        )
        _data(
            out,
            m,
            "pos_invoices.csv",
            render.pos_invoices_table(orders, lines, cat, ids, rec, inv_rec, inv_phone),
            mappings.pos_invoices(),
        )
        _data(
            out,
            m,
            "marketplace_orders.csv",
            render.marketplace_table(orders, lines, cat, ids, buyers, buyer_of, people),
            mappings.marketplace_orders(),
        )
        _data(out, m, "zalo_followers.csv", render.zalo_table(followers), mappings.zalo_followers())

    run("files", write_files)
    occurrences += (
        truth.pos_occurrences(rec)
        + truth.buyer_occurrences(buyers)
        + truth.follower_occurrences(followers)
    )
    walk_in = (orders.channel == purchasing.STORE) & (inv_rec < 0)
    occurrences.append(
        truth.occurrences(
            "pos_invoices.csv", "phone", inv_phone.filter(pa.array(walk_in)), orders.person[walk_in]
        )
    )
    if with_events:
        occurrences += run(
            "events",
            lambda: _events(
                out, m, seed, people, history, orders, lines, cat, ids, cal, willing, consent_truth
            ),
        )
    run(
        "ground truth",
        lambda: _ground_truth(
            out, m, people, history, orders, ids, rec, hotline, occurrences, cal, willing,
            pa.concat_tables(consent_truth),
        ),
    )
    m.counts.update(
        people=people.n,
        pos_records=rec.n,
        pos_duplicates=int((rec.dup_of >= 0).sum()),
        orders=orders.n,
        order_lines=len(lines.sku),
        skus=len(cat.sku_code),
        marketplace_buyers=len(buyers.person),
        zalo_followers=len(followers.person),
        pos_promotions_yes=int((promotions == consents.YES).sum()),
        pos_promotions_no=int((promotions == consents.NO).sum()),
    )
    writer.write_json(out / "manifest.json", m.as_dict())
    return m


class _Runner:
    """Times each step and reports it to the callback."""

    def __init__(self, manifest: Manifest, on_step: StepCallback | None) -> None:
        self.m, self.on_step = manifest, on_step

    def __call__(self, name: str, fn: Callable[[], T]) -> T:
        if self.on_step:
            self.on_step(name, "start")
        t0 = time.perf_counter()
        result = fn()
        self.m.seconds[name] = round(time.perf_counter() - t0, 3)
        if self.on_step:
            self.on_step(name, "done")
        return result


STEPS = (
    "catalogue",
    "people",
    "purchases",
    "orders",
    "pos records",
    "files",
    "events",
    "ground truth",
)


def _data(out: Path, m: Manifest, name: str, table: pa.Table, mapping: dict) -> None:
    """Write one data file and its mapping, and list both."""
    path = out / name
    if name.endswith(".xlsx"):
        writer.write_xlsx(path, table, mapping["options"]["sheet"])
    else:
        writer.write_csv(path, table)
    _mapping(out, m, name, mapping, table.num_rows)


def _mapping(out: Path, m: Manifest, name: str, mapping: dict, rows: int) -> None:
    map_name = name.rsplit(".", 1)[0] + ".mapping.yaml"
    writer.write_mapping(out / map_name, mapping)
    m.files.append(
        FileEntry(
            name, mapping["kind"], mapping["source"], map_name, rows, (out / name).stat().st_size
        )
    )
    m.files.append(FileEntry(map_name, "mapping", None, None, 0, (out / map_name).stat().st_size))


def _events(
    out: Path,
    m: Manifest,
    seed: int,
    people: People,
    history: purchasing.History,
    orders: purchasing.Orders,
    lines: purchasing.Lines,
    cat: Catalogue,
    ids: pa.Array,
    cal: Calendar,
    willing: np.ndarray,
    consent_truth: list[pa.Table],
) -> list[pa.Table]:
    """Build the event frame, write web and app NDJSON, return identifier occurrences
    (and add the consents the events state to ``consent_truth``)."""
    devices, first = dg.build_devices(rng_for(seed, "devices"), people, orders)
    sessions = dg.build_sessions(
        rng_for(seed, "sessions"), people, history, orders, devices, first, cal
    )
    frame = dg.build_events(rng_for(seed, "events"), people, orders, lines, cat, devices, sessions)
    frame, web = consents.web_consent(
        rng_for(seed, "consent_web"), people, devices, frame, cal, willing
    )
    vocab = segment.build_vocab(
        rng_for(seed, "vocab"), people, orders, lines, cat, devices, ids, frame, web
    )
    app = devices.platform[frame.device] >= 2
    parts = []
    for name, source, mask in (
        ("web_events.ndjson", "web", ~app),
        ("app_events.ndjson", "app", app),
    ):
        idx = np.flatnonzero(mask)
        sub = _subset(frame, idx)
        chunks = (
            segment.render_lines(vocab, sub, devices, lo, min(lo + EVENT_CHUNK, sub.n))
            for lo in range(0, sub.n, EVENT_CHUNK)
        )
        writer.write_lines(out / name, chunks)
        mapping = {**mappings.events(), "source": source}
        _mapping(out, m, name, mapping, sub.n)
        parts += _event_occurrences(name, sub, vocab)
    strings = consents.EventStrings(
        vocab.user_id, vocab.trait_phone, people.email, vocab.message_id
    )
    consent_truth.append(consents.web_truth(frame, web, devices, strings))
    m.counts.update(
        sign_ups=int(web.signed_up.sum()),
        consent_changes=int((frame.form == dg.F_SETTINGS).sum()),
        events=frame.n,
        duplicate_deliveries=int(frame.n - len(np.unique(frame.message))),
        devices=len(devices.person),
        sessions=len(sessions.person),
    )
    writer.write_parquet(
        out / "ground_truth" / "devices.parquet", truth.devices_table(devices, vocab.anonymous_id)
    )
    return parts


def _subset(f: dg.EventFrame, idx: np.ndarray) -> dg.EventFrame:
    return dg.EventFrame(*(getattr(f, k)[idx] for k in f.__dataclass_fields__))


def _event_occurrences(name: str, f: dg.EventFrame, v: segment.Vocab) -> list[pa.Table]:
    """anonymousIds, userIds and the traits typed at identify, as they appear in a file."""
    dev, first = np.unique(f.device, return_index=True)
    anon_person = f.person[first]
    users = np.unique(f.person[f.with_user | (f.kind == dg.K_ALIAS)])
    idents = np.unique(f.person[f.kind == dg.K_IDENTIFY])
    return [
        truth.occurrences(name, "anonymous_id", v.anonymous_id.take(pa.array(dev)), anon_person),
        truth.occurrences(name, "user_id", v.user_id.take(pa.array(users)), users),
        truth.occurrences(name, "phone", v.trait_phone.take(pa.array(idents)), idents),
    ]


def _ground_truth(
    out: Path,
    m: Manifest,
    people: People,
    history: purchasing.History,
    orders: purchasing.Orders,
    ids: pa.Array,
    rec: pos.PosRecords,
    hotline: np.ndarray,
    occurrences: list[pa.Table],
    cal: Calendar,
    willing: np.ndarray,
    consent_truth: pa.Table,
) -> None:
    gt = out / "ground_truth"
    tables = {
        "records.parquet": truth.records(occurrences),
        "people.parquet": truth.people_table(people, history, orders, cal, willing),
        "consents.parquet": consent_truth,
        "duplicates.parquet": truth.duplicates_table(rec),
        "shared_phones.parquet": truth.shared_phones_table(people, rec, hotline),
        "orders.parquet": truth.orders_table(orders, ids),
    }
    for name, table in tables.items():
        writer.write_parquet(gt / name, table)
    for name in sorted(p.name for p in gt.iterdir()):
        rows = tables[name].num_rows if name in tables else _parquet_rows(gt / name)
        m.files.append(
            FileEntry(
                f"ground_truth/{name}", "ground_truth", None, None, rows, (gt / name).stat().st_size
            )
        )


def _parquet_rows(path: Path) -> int:
    return pq.ParquetFile(path).metadata.num_rows
