"""The hidden population: who each person really is and how they really buy.

Everything here is ground truth. Files only ever show views of it (typed,
abbreviated, dirty); tests and benchmarks compare what Sen recovers with these
arrays. People are columns, never objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sen.demo import geo, names, phones
from sen.demo.calendar import EPOCH, Calendar
from sen.demo.codes import alphabet_codes, unique_draw, zero_padded

CHANNELS = ("store", "web", "app", "marketplace")
CHANNEL_MIX = np.array([0.65, 0.15, 0.08, 0.12])
PLATFORMS = ("shopee", "lazada", "tiktok")

# Population parameters of the buy-till-you-die process (rates per year).
LAMBDA_SHAPE, LAMBDA_RATE = 0.75, 0.6  # purchase rate lambda ~ Gamma(r, alpha)
DROPOUT_A, DROPOUT_B = 0.8, 3.2  # dropout p ~ Beta(a, b)
SPEND_P, SPEND_Q, SPEND_GAMMA = 4.0, 3.5, 1_400_000.0  # gamma-gamma order values
EXISTING_SHARE = 0.35  # acquired before the export window


@dataclass(frozen=True)
class People:
    """One row per true person; ``person_id`` is the row index."""

    female: np.ndarray
    birth_day: np.ndarray  # days since 1970-01-01
    surname: pa.Array
    middle: pa.Array
    given: pa.Array
    province: np.ndarray
    home_store: np.ndarray
    phone: np.ndarray  # NSN; family members share one
    phone_owner: np.ndarray  # the person whose number it is (self unless shared)
    email: pa.Array  # null for about half
    zalo_id: pa.Array  # null for about 40%
    lam: np.ndarray
    p_drop: np.ndarray
    spend_nu: np.ndarray
    acq_day: np.ndarray
    fav_brand: np.ndarray
    brand_loyalty: np.ndarray
    shoe_size: np.ndarray
    channel_mix: np.ndarray  # (n, 4) over CHANNELS
    platform: np.ndarray  # favourite marketplace
    digital: np.ndarray  # browses the web shop or app

    @property
    def n(self) -> int:
        return len(self.female)

    @property
    def full_name(self) -> pa.Array:
        return names.join_words(self.surname, self.middle, self.given)

    def age_at(self, day: date) -> np.ndarray:
        return ((day - EPOCH).days - self.birth_day) / 365.25


def build_people(rng: np.random.Generator, n: int, cal: Calendar) -> People:
    """Draw ``n`` people: identity, contact points and purchasing parameters."""
    female = rng.random(n) < 0.6
    age = 18 + 52 * rng.beta(2.0, 3.2, size=n)
    birth_day = ((cal.end - EPOCH).days - age * 365.25).astype(np.int64)
    surname, middle, given = names.full_names(rng, female)
    province, home = _places(rng, n)
    phone, owner = _phones(rng, n, province)
    brand = (rng.random(n) < 0.55).astype(np.int64)
    mix = _channel_mix(rng, age, province)
    young = age < 30
    platform = np.where(
        young, rng.choice(3, n, p=[0.45, 0.15, 0.40]), rng.choice(3, n, p=[0.55, 0.25, 0.20])
    )
    return People(
        female=female,
        birth_day=birth_day,
        surname=surname,
        middle=middle,
        given=given,
        province=province,
        home_store=home,
        phone=phone,
        phone_owner=owner,
        email=_emails(rng, surname, middle, given, birth_day),
        zalo_id=_zalo_ids(rng, n),
        lam=rng.gamma(LAMBDA_SHAPE, 1 / LAMBDA_RATE, size=n),
        p_drop=rng.beta(DROPOUT_A, DROPOUT_B, size=n),
        spend_nu=rng.gamma(SPEND_Q, 1 / SPEND_GAMMA, size=n),
        acq_day=_acquisition_days(rng, n, cal),
        fav_brand=brand,
        brand_loyalty=rng.beta(6, 2, size=n),
        shoe_size=_shoe_sizes(rng, female),
        channel_mix=mix,
        platform=platform,
        digital=(mix[:, 1] + mix[:, 2] > 0.12) | (rng.random(n) < 0.35 - 0.004 * (age - 18)),
    )


def _places(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Province weighted to the big cities; home store in it, else the nearest one."""
    share = np.array([v[3] for v in geo.PROVINCES.values()])
    province = rng.choice(len(share), size=n, p=share / share.sum())
    store_prov = geo.store_province_index()
    traffic = np.array([s[6] for s in geo.STORES])
    nearest = geo.nearest_store_matrix()[:, 0]
    home = nearest[province].copy()
    for p in np.unique(store_prov):
        stores = np.flatnonzero(store_prov == p)
        mask = province == p
        home[mask] = rng.choice(
            stores, size=int(mask.sum()), p=traffic[stores] / traffic[stores].sum()
        )
    return province, home


def _phones(rng: np.random.Generator, n: int, province: np.ndarray) -> tuple[np.ndarray, ...]:
    """Distinct mobile numbers, then about 1% of people share a family member's."""
    nsn = unique_draw(phones.mobile_numbers, n, rng)
    owner = np.arange(n)
    sharer = np.flatnonzero(rng.random(n) < 0.01)
    # a relative in the same province: the nearest index with the same province
    order = np.lexsort((np.arange(n), province))
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    partner = order[np.maximum(pos[sharer] - 1, 0)]
    ok = (province[partner] == province[sharer]) & (partner != sharer) & (owner[partner] == partner)
    owner[sharer[ok]] = partner[ok]
    owner[owner[owner] != owner] = np.arange(n)[owner[owner] != owner]  # no chains
    return nsn[owner], owner


def _channel_mix(rng: np.random.Generator, age: np.ndarray, province: np.ndarray) -> np.ndarray:
    """Each person's channel preferences: younger and storeless people buy online more.

    The population mean is calibrated back to :data:`CHANNEL_MIX` so the overall
    mix holds whatever the age and province draws were.
    """
    base = np.tile(CHANNEL_MIX, (len(age), 1))
    base[age < 30] *= [0.8, 1.0, 1.7, 1.7]
    base[age > 45] *= [1.2, 0.9, 0.5, 0.5]
    has_store = np.isin(np.arange(len(geo.PROVINCES)), geo.store_province_index())
    base[~has_store[province]] *= [0.35, 1.6, 1.4, 1.6]
    region = geo.province_region_index()[province]
    base[region == 2] *= [1.0, 1.0, 1.0, 1.15]
    base[region == 0] *= [1.0, 1.1, 1.0, 1.0]
    for _ in range(4):
        base /= base.sum(axis=1, keepdims=True)
        base *= CHANNEL_MIX / base.mean(axis=0)
    base /= base.sum(axis=1, keepdims=True)
    gamma = rng.gamma(base * 4.0)
    return gamma / np.maximum(gamma.sum(axis=1, keepdims=True), 1e-12)


def _acquisition_days(rng: np.random.Generator, n: int, cal: Calendar) -> np.ndarray:
    """First-purchase day: some before the window, most inside it, seasonally."""
    first = cal.window_first_day
    existing = rng.random(n) < EXISTING_SHARE
    w = cal.weight
    out = np.empty(n, dtype=np.int64)
    k = int(existing.sum())
    out[existing] = rng.choice(first, size=k, p=w[:first] / w[:first].sum())
    inside = w[first:] * np.linspace(0.8, 1.2, cal.days - first)  # growing business
    out[~existing] = first + rng.choice(cal.days - first, size=n - k, p=inside / inside.sum())
    return out


def _shoe_sizes(rng: np.random.Generator, female: np.ndarray) -> np.ndarray:
    """EU shoe size: women around 37, men around 41.5."""
    size = np.where(female, rng.normal(37.0, 1.1, len(female)), rng.normal(41.5, 1.3, len(female)))
    return np.where(female, np.clip(np.rint(size), 35, 40), np.clip(np.rint(size), 38, 46)).astype(
        np.int64
    )


_DOMAINS = {
    "gmail.com": 70,
    "yahoo.com": 7,
    "yahoo.com.vn": 4,
    "outlook.com": 5,
    "hotmail.com": 4,
    "icloud.com": 5,
    "fpt.com.vn": 2,
    "vnpt.vn": 1,
    "viettel.com.vn": 2,
}


def _emails(
    rng: np.random.Generator,
    surname: pa.Array,
    middle: pa.Array,
    given: pa.Array,
    birth_day: np.ndarray,
) -> pa.Array:
    """An address for about half the people, from their name, made unique."""
    n = len(surname)
    s, m, g = (names.ascii_slug(a) for a in (surname, middle, given))
    year = (1970 + birth_day / 365.25).astype(np.int64)
    yy = zero_padded(year % 100, 2)
    forms = [
        pc.binary_join_element_wise(g, ".", s, yy, ""),
        pc.binary_join_element_wise(s, m, g, zero_padded(year, 4), ""),
        pc.binary_join_element_wise(g, s, alphabet_codes(rng, n, 3), ""),
        pc.binary_join_element_wise(
            g, pc.utf8_slice_codeunits(s, 0, 1), pc.utf8_slice_codeunits(m, 0, 1), yy, ""
        ),
    ]
    local = pc.choose(
        pa.array(rng.choice(4, size=n, p=[0.35, 0.3, 0.25, 0.1]).astype(np.int8)), *forms
    )
    local = _made_unique(local)
    domain = names.pick(rng, _DOMAINS, n)
    email = pc.binary_join_element_wise(local, "@", domain, "")
    has = rng.random(n) < 0.5
    return pc.if_else(pa.array(has), email, pa.nulls(n, pa.string()))


def _made_unique(local: pa.Array) -> pa.Array:
    """Append the row number to repeated local parts, as a real sign-up would force."""
    values = np.asarray(local.to_numpy(zero_copy_only=False), dtype=object)
    _, first = np.unique(values, return_index=True)
    dup = np.ones(len(values), dtype=bool)
    dup[first] = False
    if dup.any():
        values[dup] = [f"{v}{i}" for v, i in zip(values[dup], np.flatnonzero(dup), strict=True)]
    return pa.array(values, type=pa.string())


def _zalo_ids(rng: np.random.Generator, n: int) -> pa.Array:
    """19-digit Zalo user ids for about 60% of people."""
    ids = pc.binary_join_element_wise(
        zero_padded(rng.integers(1, 10, size=n), 1), alphabet_codes(rng, n, 18), ""
    )
    return pc.if_else(pa.array(rng.random(n) < 0.6), ids, pa.nulls(n, pa.string()))
