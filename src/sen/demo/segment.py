"""Segment-spec JSON lines from the event frame, assembled column-wise.

Every piece that repeats (a product's JSON, a device's context, a person's
traits, an order's properties) is built once as an Arrow string and taken by
index; an event line is a concatenation of such pieces. Values written here
(names, e-mails, product names) never contain quotes or backslashes, so no
escaping pass is needed; a test decodes every line to prove it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from sen.demo import consents, dirt, geo
from sen.demo import digital as dg
from sen.demo.catalogue import Catalogue
from sen.demo.codes import alphabet_codes, unique_draw, uuids, zero_padded
from sen.demo.people import CHANNELS, People
from sen.demo.purchasing import COUPONS, Lines, Orders

SITE = "https://velamoc.vn"
_OS = (
    {"name": "Windows", "version": "10"},
    {"name": "Android", "version": "14"},
    {"name": "iOS", "version": "17.5"},
    {"name": "Android", "version": "14"},
)
_LIB = (
    {"name": "analytics.js", "version": "next-1.70.0"},
    {"name": "analytics.js", "version": "next-1.70.0"},
    {"name": "analytics-ios", "version": "4.1.8"},
    {"name": "analytics-android", "version": "4.11.3"},
)
_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Mobile Safari/537.36",
    "",
    "",
)
_DEVICE_TYPE = ("web", "web", "ios", "android")
_IP_FIRST = np.array([14, 27, 42, 113, 115, 116, 117, 118, 171, 183])


@dataclass(frozen=True)
class Vocab:
    """Strings taken by index when rendering events."""

    anonymous_id: pa.Array  # per device
    context: pa.Array  # per device, a JSON object without its closing brace
    user_id: pa.Array  # per person ("" for people without an account)
    traits: pa.Array  # per person, a JSON object without its closing brace
    signup_consent: pa.Array  # per person, the sign-up form's ``,"consent":{…}`` member
    settings_consent: pa.Array  # per person, the account page's
    trait_phone: pa.Array  # per person, the phone as typed into the sign-up form
    product: pa.Array  # per SKU, JSON members without braces
    page_props: pa.Array  # per SKU: product page properties
    order_props: pa.Array  # per order ("{}" for non-online orders)
    order_id: pa.Array  # per order
    message_id: pa.Array  # per scripted event


def build_vocab(
    rng: np.random.Generator,
    people: People,
    orders: Orders,
    lines: Lines,
    cat: Catalogue,
    devices: dg.Devices,
    order_ids: pa.Array,
    frame: dg.EventFrame,
    web_consent: consents.WebConsent,
) -> Vocab:
    """All repeated strings of the event file."""
    user_id = pc.binary_join_element_wise(
        "U",
        zero_padded(
            unique_draw(lambda r, k: r.integers(100_000_000, 1_000_000_000, k), people.n, rng), 9
        ),
        "",
    )
    product = _products(cat)
    traits, trait_phone = _traits(rng, people)
    signup_consent, settings_consent = consents.consent_members(web_consent)
    return Vocab(
        anonymous_id=uuids(rng, len(devices.person)),
        context=_contexts(rng, devices),
        user_id=user_id,
        traits=traits,
        signup_consent=signup_consent,
        settings_consent=settings_consent,
        trait_phone=trait_phone,
        product=product,
        page_props=_page_props(cat),
        order_props=_order_props(orders, lines, product, order_ids),
        order_id=order_ids,
        message_id=uuids(rng, int(frame.message.max()) + 1 if frame.n else 0),
    )


def _json_members(value: dict) -> str:
    return orjson.dumps(value).decode()[1:-1]


def _products(cat: Catalogue) -> pa.Array:
    """Segment's product fields for each SKU (``variant`` is the colour)."""
    t = cat.table().to_pylist()
    return pa.array(
        [
            _json_members(
                {
                    "product_id": r["product_id"],
                    "sku": r["sku"],
                    "name": r["name"],
                    "brand": r["brand"],
                    "category": r["category"],
                    "variant": r["colour"],
                    "price": r["list_price"],
                    "currency": "VND",
                    "size": r["size"],
                    "colour": r["colour"],
                }
            )
            for r in t
        ]
    )


def _page_props(cat: Catalogue) -> pa.Array:
    t = cat.table().to_pylist()
    return pa.array(
        [
            orjson.dumps(
                {
                    "path": f"/san-pham/{r['product_id'].lower()}",
                    "url": f"{SITE}/san-pham/{r['product_id'].lower()}",
                    "title": r["name"],
                    "product_id": r["product_id"],
                }
            ).decode()
            for r in t
        ]
    )


def _contexts(rng: np.random.Generator, devices: dg.Devices) -> pa.Array:
    """Per device: device id/type (and push token), os, user agent, library, ip, locale."""
    n = len(devices.person)
    plat = pa.array(devices.platform.astype(np.int8))
    device_id = uuids(rng, n)
    token = pc.if_else(
        pa.array(devices.push),
        pc.binary_join_element_wise(',"token":"', alphabet_codes(rng, n, 64, "hex"), '"', ""),
        pa.scalar(""),
    )
    dtype = pc.choose(plat, *[pa.scalar(t) for t in _DEVICE_TYPE])
    os_json = pc.choose(plat, *[pa.scalar(orjson.dumps(o).decode()) for o in _OS])
    lib_json = pc.choose(plat, *[pa.scalar(orjson.dumps(lb).decode()) for lb in _LIB])
    ua = pc.choose(plat, *[pa.scalar(f',"userAgent":"{u}"' if u else "") for u in _UA])
    octets = [pa.array(_IP_FIRST[rng.integers(0, len(_IP_FIRST), n)]).cast(pa.string())] + [
        pa.array(rng.integers(0, 256, n)).cast(pa.string()) for _ in range(3)
    ]
    ip = pc.binary_join_element_wise(*octets, ".")
    return pc.binary_join_element_wise(
        '{"device":{"id":"',
        device_id,
        '","type":"',
        dtype,
        '"',
        token,
        '},"os":',
        os_json,
        ua,
        ',"library":',
        lib_json,
        ',"ip":"',
        ip,
        '","locale":"vi-VN"',
        "",
    )


def _traits(rng: np.random.Generator, people: People) -> tuple[pa.Array, pa.Array]:
    """What people typed at sign-up: name, phone (some as +84), e-mail, gender, birthday
    (each person's traits object without its closing brace, so a consent member fits)."""
    phone, _ = dirt.phones_as_typed(rng, people.phone, styled=0.12, legacy=0.0, junk=0.0, empty=0.0)
    email = pc.if_else(
        pc.is_valid(people.email),
        pc.binary_join_element_wise(',"email":"', people.email, '"', ""),
        pa.scalar(""),
    )
    gender = pa.array(np.where(people.female, "female", "male"))
    birthday = pc.strftime(
        pa.array(people.birth_day * 86_400).cast(pa.timestamp("s")), format="%Y-%m-%d"
    )
    return pc.binary_join_element_wise(
        '{"name":"',
        people.full_name,
        '","phone":"',
        phone,
        '"',
        email,
        ',"gender":"',
        gender,
        '","birthday":"',
        birthday,
        '"',
        "",
    ), phone


def _order_props(orders: Orders, lines: Lines, product: pa.Array, ids: pa.Array) -> pa.Array:
    """Order Completed properties (Segment e-commerce spec, plus channel and store_code)."""
    items = pc.binary_join_element_wise(
        "{",
        product.take(pa.array(lines.sku)),
        ',"quantity":',
        pa.array(lines.quantity).cast(pa.string()),
        ',"discount":',
        pa.array(lines.line_discount).cast(pa.string()),
        "}",
        "",
    )
    offsets = np.searchsorted(lines.order, np.arange(orders.n + 1)).astype(np.int32)
    joined = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), items), ",")
    line_disc = np.bincount(lines.order, weights=lines.line_discount, minlength=orders.n)
    discount = (orders.order_discount + line_disc).astype(np.int64)
    coupon = pa.array([c[0] for c in COUPONS]).take(pa.array(orders.coupon))
    coupon = pc.if_else(
        pc.equal(coupon, ""), pa.scalar("null"), pc.binary_join_element_wise('"', coupon, '"', "")
    )
    store_codes = pa.array(['"' + s + '"' for s in _store_codes()] + ["null"])
    store = store_codes.take(
        pa.array(np.where(orders.store >= 0, orders.store, len(store_codes) - 1))
    )
    return pc.binary_join_element_wise(
        '{"order_id":"',
        ids,
        '","total":',
        _num(orders.total),
        ',"revenue":',
        _num(orders.total - orders.shipping),
        ',"shipping":',
        _num(orders.shipping),
        ',"discount":',
        _num(discount),
        ',"coupon":',
        coupon,
        ',"currency":"VND","channel":"',
        pa.array(list(CHANNELS)).take(pa.array(orders.channel)),
        '","store_code":',
        store,
        ',"products":[',
        joined,
        "]}",
        "",
    )


def _num(values: np.ndarray) -> pa.Array:
    """Integers as JSON number text."""
    return pa.array(values).cast(pa.string())


def _store_codes() -> list[str]:
    return [s[0] for s in geo.STORES]


def render_lines(v: Vocab, f: dg.EventFrame, devices: dg.Devices, lo: int, hi: int) -> pa.Array:
    """JSON lines (each ending in a newline) for events ``lo:hi`` of the frame."""
    sl = slice(lo, hi)
    kind = f.kind[sl]
    dev = pa.array(f.device[sl])
    person = np.maximum(f.person[sl], 0)
    with_user = f.with_user[sl] | (kind == dg.K_ALIAS)
    typ = pa.array(np.array(["page", "screen", "identify", "alias"] + ["track"] * 6)[kind])
    uid = pc.if_else(
        pa.array(with_user),
        pc.binary_join_element_wise(',"userId":"', v.user_id.take(pa.array(person)), '"', ""),
        pa.scalar(""),
    )
    body = _bodies(v, f, sl, kind, person, dev)
    web = devices.platform[f.device[sl]] < 2
    page = pc.choose(pa.array(np.where(web, f.form[sl], 0).astype(np.int8)), *_FORM_PAGES)
    return pc.binary_join_element_wise(
        '{"messageId":"',
        v.message_id.take(pa.array(f.message[sl])),
        '","type":"',
        typ,
        '"',
        uid,
        ',"anonymousId":"',
        v.anonymous_id.take(dev),
        '"',
        body,
        ',"timestamp":"',
        iso(f.ts_ms[sl]),
        '","sentAt":"',
        iso(f.sent_ms[sl]),
        '","receivedAt":"',
        iso(f.received_ms[sl]),
        '","context":',
        v.context.take(dev),
        page,
        "}}\n",
        "",
    )


def iso(ms: np.ndarray) -> pa.Array:
    """UTC epoch milliseconds as ISO-8601 with milliseconds and ``Z``."""
    return pc.strftime(pa.array(ms).cast(pa.timestamp("ms")), format="%Y-%m-%dT%H:%M:%SZ")


def _bodies(
    v: Vocab, f: dg.EventFrame, sl: slice, kind: np.ndarray, person: np.ndarray, dev: pa.Array
) -> pa.Array:
    """The type-specific middle of each line, built per kind and put back in order."""
    order = np.argsort(kind, kind="stable")
    parts = []
    for k in range(len(dg.KINDS)):
        idx = order[kind[order] == k]
        if len(idx):
            parts.append(_body_of_kind(v, f, sl, k, idx, person))
    chunks = pa.concat_arrays(parts) if parts else pa.array([], pa.string())
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = np.arange(len(order))
    return chunks.take(pa.array(inverse))


_PAGE_NAMES = {
    dg.P_HOME: ("Trang chủ", "Home"),
    dg.P_PRODUCT: ("Sản phẩm", "Product Detail"),
    dg.P_CHECKOUT: ("Thanh toán", "Checkout"),
}
# The form's page in the context of a sign-up or account-page identify (web only).
_FORM_PAGES = (
    pa.scalar(""),
    pa.scalar(',"page":' + orjson.dumps(consents.SIGNUP_PAGE).decode()),
    pa.scalar(',"page":' + orjson.dumps(consents.SETTINGS_PAGE).decode()),
)
_STATIC_PAGE = {
    dg.P_HOME: {"path": "/", "url": SITE + "/", "title": "Vela & Mộc"},
    dg.P_CHECKOUT: {"path": "/thanh-toan", "url": SITE + "/thanh-toan", "title": "Thanh toán"},
}


def _body_of_kind(
    v: Vocab, f: dg.EventFrame, sl: slice, k: int, idx: np.ndarray, person: np.ndarray
) -> pa.Array:
    """Body fragment for events of one kind (``idx`` indexes the slice)."""
    at = np.arange(sl.start, sl.stop)[idx]
    sku = pa.array(np.maximum(f.sku[at], 0))
    n = len(idx)
    if k in (dg.K_PAGE, dg.K_SCREEN):
        page = f.page[at]
        web = k == dg.K_PAGE
        name = pa.array([_PAGE_NAMES[p][0 if web else 1] for p in range(3)]).take(pa.array(page))
        if web:
            static = pa.array([orjson.dumps(_STATIC_PAGE.get(p, {})).decode() for p in range(3)])
            props = pc.if_else(
                pa.array(page == dg.P_PRODUCT), v.page_props.take(sku), static.take(pa.array(page))
            )
        else:
            props = pc.if_else(
                pa.array(page == dg.P_PRODUCT),
                pc.binary_join_element_wise("{", v.product.take(sku), "}", ""),
                pa.scalar("{}"),
            )
        return pc.binary_join_element_wise(',"name":"', name, '","properties":', props, "")
    if k == dg.K_IDENTIFY:
        who = pa.array(person[idx])
        said = pc.choose(pa.array(f.form[at]), pa.scalar(""), v.signup_consent.take(who),
                         v.settings_consent.take(who))
        return pc.binary_join_element_wise(',"traits":', v.traits.take(who), said, "}", "")
    if k == dg.K_ALIAS:
        return pc.binary_join_element_wise(
            ',"previousId":"', v.anonymous_id.take(pa.array(f.device[at])), '"', ""
        )
    event = f',"event":"{dg.KINDS[k]}","properties":'
    if k == dg.K_VIEWED:
        return pc.binary_join_element_wise(event + "{", v.product.take(sku), "}", "")
    if k == dg.K_ADDED:
        return pc.binary_join_element_wise(event + "{", v.product.take(sku), ',"quantity":1}', "")
    if k == dg.K_CHECKOUT:
        price = pc.extract_regex(v.product.take(sku), r'"price":(?P<p>\d+)').field("p")
        return pc.binary_join_element_wise(
            event + '{"value":',
            price,
            ',"revenue":',
            price,
            ',"currency":"VND","products":[{',
            v.product.take(sku),
            ',"quantity":1}]}',
            "",
        )
    o = pa.array(f.order[at])
    if k == dg.K_ORDER:
        return pc.binary_join_element_wise(event, v.order_props.take(o), "")
    total = pc.extract_regex(v.order_props.take(o), r'"total":(?P<t>\d+)').field("t")
    return (
        pc.binary_join_element_wise(
            event + '{"order_id":"',
            v.order_id.take(o),
            '","total":',
            total,
            ',"currency":"VND"}',
            "",
        )
        if n
        else pa.array([])
    )
