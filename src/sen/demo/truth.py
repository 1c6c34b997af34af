"""Ground-truth tables: who every identifier really belongs to, and the hidden
parameters of every person. Written beside the data, never into it."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sen.demo import digital as dg
from sen.demo import geo, phones
from sen.demo.accounts import Buyers, Followers
from sen.demo.calendar import EPOCH, Calendar
from sen.demo.people import CHANNELS, PLATFORMS, SPEND_P, People
from sen.demo.pos import DUP_KINDS, PosRecords
from sen.demo.purchasing import STATUSES, History, Orders

_RECORD_SCHEMA = pa.schema(
    [
        ("file", pa.string()),
        ("kind", pa.string()),
        ("namespace", pa.string()),
        ("value", pa.string()),
        ("person_id", pa.int64()),
    ]
)


def records(parts: list[pa.Table]) -> pa.Table:
    """Distinct (file, kind, namespace, value, person) rows of every identifier occurrence."""
    table = pa.concat_tables([p.cast(_RECORD_SCHEMA) for p in parts if p.num_rows])
    table = table.filter(pc.not_equal(table["value"], ""))
    return (
        table.group_by(table.column_names, use_threads=False)
        .aggregate([])
        .sort_by([(c, "ascending") for c in ("file", "kind", "value", "person_id")])
    )


def occurrences(
    file: str, kind: str, value: pa.Array, person: np.ndarray, namespace: pa.Array | str = ""
) -> pa.Table:
    """One block of record rows; ``person`` < 0 means no person (a visitor)."""
    person = np.asarray(person, dtype=np.int64)
    ns = (
        namespace
        if isinstance(namespace, pa.Array)
        else pa.array([namespace] * len(person), pa.string())
    )
    return pa.table(
        {
            "file": pa.array([file] * len(person), pa.string()),
            "kind": pa.array([kind] * len(person), pa.string()),
            "namespace": ns,
            "value": value,
            "person_id": pa.array(person, mask=person < 0),
        }
    )


def pos_occurrences(rec: PosRecords) -> list[pa.Table]:
    f = "pos_customers.csv"
    card = rec.loyalty_card
    return [
        occurrences(f, "customer_id", rec.code, rec.person),
        occurrences(f, "phone", rec.phone, rec.person),
        occurrences(f, "email", pc.utf8_trim_whitespace(rec.email), rec.person),
        occurrences(f, "loyalty_card", card, rec.person),
    ]


def buyer_occurrences(b: Buyers) -> list[pa.Table]:
    ns = pa.array(list(PLATFORMS)).take(pa.array(b.platform))
    return [occurrences("marketplace_orders.csv", "buyer_id", b.username, b.person, ns)]


def follower_occurrences(f: Followers) -> list[pa.Table]:
    return [
        occurrences("zalo_followers.csv", "zalo_id", f.zalo_id, f.person),
        occurrences("zalo_followers.csv", "phone", f.phone, f.person),
    ]


def people_table(
    people: People, history: History, orders: Orders, cal: Calendar, willing: np.ndarray
) -> pa.Table:
    """Each person's true identity, buy-till-you-die parameters and willingness to
    receive promotions (what drives every consent she states)."""
    mix = people.channel_mix
    n_all = np.bincount(history.person, minlength=people.n)
    n_win = np.bincount(orders.person, minlength=people.n)
    email = people.email
    return pa.table(
        {
            "person_id": np.arange(people.n),
            "name": people.full_name,
            "gender": pa.array(np.where(people.female, "female", "male")),
            "birth_date": pa.array(people.birth_day.astype("int32")).cast(pa.date32()),
            "province": pa.array(list(geo.PROVINCE_NAMES)).take(pa.array(people.province)),
            "region": pa.array([geo.PROVINCES[p][0] for p in geo.PROVINCE_NAMES]).take(
                pa.array(people.province)
            ),
            "home_store": pa.array([s[0] for s in geo.STORES]).take(pa.array(people.home_store)),
            "phone_e164": phones.e164(people.phone),
            "phone_owner": people.phone_owner,
            "email": email,
            "zalo_id": people.zalo_id,
            "lambda_per_year": people.lam,
            "dropout_p": people.p_drop,
            "spend_shape_p": np.full(people.n, SPEND_P),
            "spend_rate_nu": people.spend_nu,
            "mean_order_value": SPEND_P / people.spend_nu,
            "acquired_on": pa.array(
                (people.acq_day + (cal.history_start - EPOCH).days).astype("int32")
            ).cast(pa.date32()),
            "alive_at_end": history.alive_at_end,
            "purchases_all_time": n_all,
            "orders_in_window": n_win,
            "favourite_brand": people.fav_brand,
            "brand_loyalty": people.brand_loyalty,
            "shoe_size": people.shoe_size,
            **{f"mix_{c}": mix[:, i] for i, c in enumerate(CHANNELS)},
            "favourite_marketplace": pa.array(list(PLATFORMS)).take(pa.array(people.platform)),
            "digital": people.digital,
            "promotions_willingness": willing,
        }
    )


def duplicates_table(rec: PosRecords) -> pa.Table:
    """Pairs of POS records of one person, with the kind of dirt in the second."""
    dup = np.flatnonzero(rec.dup_of >= 0)
    return pa.table(
        {
            "customer_id_a": rec.code.take(pa.array(rec.dup_of[dup])),
            "customer_id_b": rec.code.take(pa.array(dup)),
            "person_id": rec.person[dup],
            "kind": pa.array(list(DUP_KINDS)).take(pa.array(rec.dup_kind[dup])),
        }
    )


def shared_phones_table(people: People, rec: PosRecords, hotline: np.ndarray) -> pa.Table:
    """Numbers used by more than one person: store hotlines and families."""
    at_store = np.flatnonzero(rec.phone_dirt == 5)
    fam = np.flatnonzero(
        np.bincount(people.phone_owner, minlength=people.n)[people.phone_owner] > 1
    )
    codes = pa.array([s[0] for s in geo.STORES])
    return pa.table(
        {
            "phone": pa.concat_arrays(
                [phones.national(hotline[rec.store[at_store]]), phones.national(people.phone[fam])]
            ),
            "kind": pa.array(["store"] * len(at_store) + ["family"] * len(fam)),
            "person_id": np.concatenate([rec.person[at_store], fam]),
            "store_code": pa.concat_arrays(
                [codes.take(pa.array(rec.store[at_store])), pa.nulls(len(fam), pa.string())]
            ),
        }
    )


def orders_table(orders: Orders, ids: pa.Array) -> pa.Table:
    return pa.table(
        {
            "order_id": ids,
            "person_id": orders.person,
            "channel": pa.array(list(CHANNELS)).take(pa.array(orders.channel)),
            "ordered_at": pa.array(orders.ts * 1000).cast(pa.timestamp("ms", tz="UTC")),
            "status": pa.array(list(STATUSES)).take(pa.array(orders.status)),
            "total": orders.total,
        }
    )


def devices_table(devices: dg.Devices, anonymous_id: pa.Array) -> pa.Table:
    p = devices.person
    return pa.table(
        {
            "anonymous_id": anonymous_id,
            "person_id": pa.array(p, mask=p < 0),
            "platform": pa.array(list(dg.PLATFORMS)).take(pa.array(devices.platform)),
            "push": devices.push,
            "clock_skew_ms": devices.skew_ms,
        }
    )
