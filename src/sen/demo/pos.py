"""POS customer records: one per walk-in customer, plus planted duplicates.

A record is created at a person's first store purchase (before the export
window too: the customer file is the whole CRM). About 3% of people get a
second record at a later visit, typed differently. Invoices after that visit
sometimes point at the duplicate, as they do in real shops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sen.demo import dirt, geo, phones
from sen.demo.calendar import Calendar
from sen.demo.codes import unique_draw, zero_padded
from sen.demo.people import People
from sen.demo.purchasing import STORE, History, Orders

DUP_KINDS = ("no_diacritics", "swapped_order", "all_caps", "phone_typo", "second_phone")
DUP_SHARE = 0.03
STORE_PHONE_SHARE = 0.02  # records typed with the store's own number
TIERS = ("Bạc", "Vàng", "Kim cương")


@dataclass(frozen=True)
class PosRecords:
    """POS customer records sorted by creation (so codes increase with time)."""

    code: pa.Array
    person: np.ndarray
    created_day: np.ndarray
    store: np.ndarray
    dup_of: np.ndarray  # index of the original record, -1 for originals
    dup_kind: np.ndarray  # index into DUP_KINDS, -1 for originals
    name: pa.Array
    phone: pa.Array
    phone_dirt: np.ndarray  # dirt.PHONE_DIRT, 5 = store phone, 6 = typo, 7 = second phone
    phone_nsn: np.ndarray  # the number behind what was typed (-1 when none)
    email: pa.Array
    loyalty_card: pa.Array
    tier: pa.Array

    @property
    def n(self) -> int:
        return len(self.person)


def store_phones(rng: np.random.Generator) -> np.ndarray:
    """Each store's own hotline (a mobile number, as most stores use)."""
    return phones.mobile_numbers(rng, len(geo.STORES))


def build_records(
    rng: np.random.Generator, people: People, history: History, cal: Calendar, hotline: np.ndarray
) -> PosRecords:
    """Originals for everyone who ever bought in a store, then the duplicates."""
    in_store = history.channel == STORE
    person, first = np.unique(history.person[in_store], return_index=True)
    day = history.day[in_store][first]
    store = history.store[in_store][first]
    n_orig = len(person)
    dup_src = np.flatnonzero(rng.random(n_orig) < DUP_SHARE)
    dup_day = day[dup_src] + (rng.random(len(dup_src)) * (cal.days - day[dup_src])).astype(np.int64)
    rec_person = np.concatenate([person, person[dup_src]])
    rec_day = np.concatenate([day, dup_day])
    rec_store = np.concatenate([store, people.home_store[person[dup_src]]])
    dup_of = np.concatenate([np.full(n_orig, -1), dup_src])
    dup_kind = np.concatenate(
        [np.full(n_orig, -1), rng.choice(5, len(dup_src), p=[0.25, 0.15, 0.15, 0.25, 0.2])]
    )
    order = np.lexsort((np.arange(len(rec_person)), rec_day))
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    dup_of = np.where(dup_of >= 0, rank[np.maximum(dup_of, 0)], -1)
    rec_person, rec_day, rec_store = rec_person[order], rec_day[order], rec_store[order]
    dup_of, dup_kind = dup_of[order], dup_kind[order]
    return _typed(rng, people, rec_person, rec_day, rec_store, dup_of, dup_kind, hotline)


def _typed(
    rng: np.random.Generator,
    people: People,
    person: np.ndarray,
    day: np.ndarray,
    store: np.ndarray,
    dup_of: np.ndarray,
    dup_kind: np.ndarray,
    hotline: np.ndarray,
) -> PosRecords:
    """What the cashier typed for each record."""
    n = len(person)
    is_dup = dup_of >= 0
    name_kind = np.where(
        rng.random(n) < 0.03,
        dirt.NAME_CAPS,
        np.where(rng.random(n) < 0.05, dirt.NAME_FOLDED, dirt.NAME_CLEAN),
    )
    name_kind[dup_kind == 0] = dirt.NAME_FOLDED
    name_kind[dup_kind == 1] = dirt.NAME_SWAPPED
    name_kind[dup_kind == 2] = dirt.NAME_CAPS
    name = dirt.names_as_typed(
        people.surname.take(pa.array(person)),
        people.middle.take(pa.array(person)),
        people.given.take(pa.array(person)),
        name_kind,
    )
    nsn = people.phone[person].copy()
    nsn[dup_kind == 3] = phones.with_typo(rng, nsn[dup_kind == 3])
    second = dup_kind == 4
    nsn[second] = unique_draw(phones.mobile_numbers, int(second.sum()), rng) if second.any() else []
    text, kind = dirt.phones_as_typed(rng, nsn)
    at_store = ~is_dup & (rng.random(n) < STORE_PHONE_SHARE)
    text = pc.if_else(pa.array(at_store), phones.national(hotline[store]), text)
    kind = np.where(at_store, 5, kind)
    kind = np.where((dup_kind == 3) & (kind < dirt.PH_JUNK), 6, kind)
    kind = np.where(second & (kind < dirt.PH_JUNK), 7, kind)
    nsn = np.where(at_store, hotline[store], np.where(kind >= dirt.PH_JUNK, -1, nsn))
    nsn = np.where(np.isin(kind, [dirt.PH_JUNK, dirt.PH_EMPTY]), -1, nsn)
    email = dirt.emails_as_typed(
        rng, people.email.take(pa.array(person)), kept=0.75, messy=0.06, junk=0.03
    )
    email = pc.if_else(pa.array(is_dup & (rng.random(n) < 0.6)), pa.scalar(""), email)
    card = unique_draw(lambda r, k: r.integers(10_000_000, 100_000_000, k), n, rng)
    member = ~is_dup & (rng.random(n) < 0.4)
    cards = pc.if_else(
        pa.array(member), pc.binary_join_element_wise("VM", zero_padded(card, 8), ""), pa.scalar("")
    )
    tier = pa.array(list(TIERS)).take(pa.array(rng.choice(3, n, p=[0.6, 0.3, 0.1])))
    tier = pc.if_else(pa.array(member), tier, pa.scalar(""))
    code = pc.binary_join_element_wise("KH", zero_padded(np.arange(1, n + 1), 7), "")
    return PosRecords(
        code, person, day, store, dup_of, dup_kind, name, text, kind, nsn, email, cards, tier
    )


def invoice_customers(
    rng: np.random.Generator, records: PosRecords, orders: Orders, people: People, cal: Calendar
) -> tuple[np.ndarray, pa.Array]:
    """Which record each store order names (-1 for an anonymous walk-in) and the
    phone typed on the invoice.

    Orders after a duplicate was created name the duplicate half the time;
    about 8% of sales are rung up without a customer, and for some of those
    the cashier still typed a phone number.
    """
    n_people = people.n
    original = np.full(n_people, -1)
    orig_mask = records.dup_of < 0
    original[records.person[orig_mask]] = np.flatnonzero(orig_mask)
    dup = np.full(n_people, -1)
    dup_mask = ~orig_mask
    dup[records.person[dup_mask]] = np.flatnonzero(dup_mask)
    rec = original[orders.person]
    d = dup[orders.person]
    order_day = cal.day_of_ts(orders.ts)
    later = order_day >= records.created_day[np.maximum(d, 0)]
    use_dup = (d >= 0) & later & (rng.random(orders.n) < 0.5)
    rec = np.where(use_dup, d, rec)
    walk_in = rng.random(orders.n) < 0.08
    rec = np.where(walk_in | (orders.channel != STORE), -1, rec)
    phone = records.phone.take(pa.array(np.maximum(rec, 0)))
    typed = walk_in & (rng.random(orders.n) < 0.3)
    phone = pc.if_else(
        pa.array(rec >= 0),
        phone,
        pc.if_else(pa.array(typed), phones.national(people.phone[orders.person]), pa.scalar("")),
    )
    return rec, phone
