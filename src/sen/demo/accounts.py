"""Third-party accounts: marketplace buyers and Zalo Official Account followers.

Marketplaces hand the seller a username, a masked phone and the recipient's
name; Zalo hands over a follower id, a display name and sometimes a phone
shared through a consent form. Each is a weak, partial view of a person.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sen.demo import names, phones
from sen.demo.calendar import Calendar
from sen.demo.codes import alphabet_codes, zero_padded
from sen.demo.people import People
from sen.demo.purchasing import MARKET, Orders


@dataclass(frozen=True)
class Buyers:
    """One marketplace account per (person, platform) that bought there."""

    person: np.ndarray
    platform: np.ndarray
    username: pa.Array
    masked_phone: pa.Array
    recipient: pa.Array


def marketplace_buyers(
    rng: np.random.Generator, people: People, orders: Orders
) -> tuple[Buyers, np.ndarray]:
    """The buyer accounts, and for each order the buyer index (-1 off-marketplace)."""
    market = orders.channel == MARKET
    key = np.where(market, orders.person * 3 + orders.platform, -1)
    uniq, inverse = np.unique(key[market], return_inverse=True)
    person, platform = uniq // 3, uniq % 3
    n = len(uniq)
    who = pa.array(person)
    given, surname = people.given.take(who), people.surname.take(who)
    handle = pc.choose(
        pa.array(rng.choice(3, n, p=[0.45, 0.3, 0.25]).astype(np.int8)),
        pc.binary_join_element_wise(
            names.ascii_slug(given), names.ascii_slug(surname), alphabet_codes(rng, n, 2), ""
        ),
        pc.binary_join_element_wise(names.ascii_slug(given), "_", alphabet_codes(rng, n, 4), ""),
        pc.binary_join_element_wise("user", alphabet_codes(rng, n, 8), ""),
    )
    handle = pc.binary_join_element_wise(
        handle,
        pc.if_else(
            pa.array(_repeated(handle, platform)), zero_padded(np.arange(n), 7), pa.scalar("")
        ),
        "",
    )
    national = phones.national(people.phone[person])
    last4, last2 = (pc.utf8_slice_codeunits(national, k, 10) for k in (6, 8))
    masked = pc.if_else(
        pa.array(platform == 1),
        pc.binary_join_element_wise(pc.utf8_slice_codeunits(national, 0, 2), "******", last2, ""),
        pc.binary_join_element_wise("******", last4, ""),
    )
    full = people.full_name.take(who)
    recipient = pc.if_else(pa.array(rng.random(n) < 0.3), names.fold(full), full)
    buyer = np.full(orders.n, -1)
    buyer[market] = inverse
    return Buyers(person, platform, handle, masked, recipient), buyer


def _repeated(handle: pa.Array, platform: np.ndarray) -> np.ndarray:
    """Usernames taken twice on one platform (the later ones get a suffix)."""
    values = np.asarray(handle.to_numpy(zero_copy_only=False), dtype=object)
    keys = np.char.add(platform.astype(str), values.astype(str))
    _, first = np.unique(keys, return_index=True)
    out = np.ones(len(values), dtype=bool)
    out[first] = False
    return out


def marketplace_order_ids(rng: np.random.Generator, orders: Orders, cal: Calendar) -> pa.Array:
    """Platform order numbers: Shopee ``yymmdd`` + 8 base-36, Lazada 15 digits, TikTok 18."""
    n = orders.n
    local = pa.array(orders.ts + 7 * 3600).cast(pa.timestamp("s"))
    shopee = pc.binary_join_element_wise(
        pc.strftime(local, format="%y%m%d"), alphabet_codes(rng, n, 8, "b36"), ""
    )
    lazada = pc.binary_join_element_wise("5", alphabet_codes(rng, n, 14), "")
    tiktok = pc.binary_join_element_wise("57", alphabet_codes(rng, n, 16), "")
    return pc.choose(
        pa.array(np.maximum(orders.platform, 0).astype(np.int8)), shopee, lazada, tiktok
    )


@dataclass(frozen=True)
class Followers:
    """Zalo OA followers."""

    person: np.ndarray
    zalo_id: pa.Array
    display_name: pa.Array
    phone: pa.Array  # "" unless shared
    followed_s: np.ndarray  # UTC epoch seconds


def zalo_followers(rng: np.random.Generator, people: People, cal: Calendar) -> Followers:
    """Everyone with a Zalo id follows the OA; 40% shared their phone with it."""
    person = np.flatnonzero(pc.is_valid(people.zalo_id).to_numpy(zero_copy_only=False))
    n = len(person)
    who = pa.array(person)
    full = people.full_name.take(who)
    short = names.join_words(people.given.take(who), people.surname.take(who))
    display = pc.choose(
        pa.array(rng.choice(3, n, p=[0.5, 0.3, 0.2]).astype(np.int8)),
        full,
        names.fold(short),
        people.given.take(who),
    )
    phone = pc.binary_join_element_wise("84", zero_padded(people.phone[person], 9), "")
    phone = pc.if_else(pa.array(rng.random(n) < 0.4), phone, pa.scalar(""))
    start = np.maximum(people.acq_day[person] - 30, 0)
    day = start + (rng.random(n) * (cal.days - start)).astype(np.int64)
    followed = cal.local_midnight_utc_s(day) + rng.integers(6 * 3600, 23 * 3600, n)
    return Followers(person, people.zalo_id.take(who), display, phone, followed)
