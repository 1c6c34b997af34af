"""From truth and frames to the tables a retailer would hand over (pure, no I/O).

Headers are Vietnamese as the retailer's systems export them; money is
integer VND; POS times are local (Asia/Ho_Chi_Minh) without a zone.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sen.demo import consents, dirt, geo, names, phones
from sen.demo.accounts import Buyers, Followers
from sen.demo.calendar import EPOCH, LOCAL_OFFSET_S, Calendar
from sen.demo.catalogue import Catalogue
from sen.demo.codes import zero_padded
from sen.demo.people import PLATFORMS, People
from sen.demo.pos import PosRecords
from sen.demo.purchasing import COUPONS, MARKET, STATUSES, STORE, Lines, Orders

POS_DATETIME = "%d/%m/%Y %H:%M"
POS_DATE = "%d/%m/%Y"
MARKET_DATETIME = "%Y-%m-%d %H:%M"


def local_text(ts_s: np.ndarray, fmt: str) -> pa.Array:
    """UTC epoch seconds as local wall-clock text, the way a POS exports them."""
    return pc.strftime(
        pa.array(np.asarray(ts_s) + LOCAL_OFFSET_S).cast(pa.timestamp("s")), format=fmt
    )


def day_text(days_since_epoch: np.ndarray, fmt: str) -> pa.Array:
    """Dates (days since 1970-01-01) as text."""
    return pc.strftime(
        pa.array(np.asarray(days_since_epoch) * 86_400).cast(pa.timestamp("s")), format=fmt
    )


def stores_table(hotline: np.ndarray) -> pa.Table:
    """stores.csv: code, name, province, region, coordinates, opening date, hotline."""
    s = geo.STORES
    return pa.table(
        {
            "Mã CH": [x[0] for x in s],
            "Tên cửa hàng": [f"Vela & Mộc {x[1]}" for x in s],
            "Tỉnh/TP": [x[2] for x in s],
            "Miền": [geo.PROVINCES[x[2]][0] for x in s],
            "Vĩ độ": [x[3] for x in s],
            "Kinh độ": [x[4] for x in s],
            "Ngày khai trương": [
                date(x[5], 1 + i % 12, 1 + (i * 7) % 28).strftime(POS_DATE) for i, x in enumerate(s)
            ],
            "Hotline": phones.national(hotline),
        }
    )


def products_table(cat: Catalogue) -> pa.Table:
    """products.xlsx: one row per SKU."""
    t = cat.table()
    return pa.table(
        {
            "Mã SKU": t["sku"],
            "Mã sản phẩm": t["product_id"],
            "Tên sản phẩm": t["name"],
            "Thương hiệu": t["brand"],
            "Nhóm hàng": t["category"],
            "Size": t["size"],
            "Màu": t["colour"],
            "Giá niêm yết": t["list_price"],
        }
    )


def pos_customers_table(
    rng: np.random.Generator, people: People, rec: PosRecords, cal: Calendar, promotions: pa.Array
) -> pa.Table:
    """pos_customers.csv: what the POS holds, dirt and all; ``promotions`` is the
    "agrees to promotions" column (see :mod:`sen.demo.consents`)."""
    gender = pa.array(np.where(people.female[rec.person], "Nữ", "Nam"))
    province = pa.array(list(geo.PROVINCE_NAMES)).take(pa.array(people.province[rec.person]))
    streets = (
        "Lê Lợi",
        "Nguyễn Huệ",
        "Trần Hưng Đạo",
        "Hai Bà Trưng",
        "Lý Thường Kiệt",
        "Điện Biên Phủ",
        "Nguyễn Trãi",
        "Lê Duẩn",
        "Quang Trung",
        "Hoàng Diệu",
    )
    address = names.join_words(
        pa.array(rng.integers(1, 300, rec.n)).cast(pa.string()),
        names.pick(rng, list(streets), rec.n),
    )
    address = pc.binary_join_element_wise(address, province, ", ")
    store_codes = pa.array([s[0] for s in geo.STORES])
    created = rec.created_day + (cal.history_start - EPOCH).days
    return pa.table(
        {
            "Mã KH": rec.code,
            "Họ tên": rec.name,
            "Điện thoại": rec.phone,
            "Email": rec.email,
            "Ngày sinh": dirt.blank_some(
                rng, day_text(people.birth_day[rec.person], POS_DATE), 0.15
            ),
            "Giới tính": dirt.blank_some(rng, gender, 0.05),
            "Tỉnh/TP": dirt.blank_some(rng, province, 0.08),
            "Địa chỉ": dirt.blank_some(rng, address, 0.6),
            "Cửa hàng": store_codes.take(pa.array(rec.store)),
            "Ngày tạo": day_text(created, POS_DATE),
            "Số thẻ thành viên": rec.loyalty_card,
            "Hạng thẻ": rec.tier,
            consents.POS_HEADER: promotions,
            "Ghi chú": pc.if_else(
                pa.array(rng.random(rec.n) < 0.02), pa.scalar("Khách quen"), pa.scalar("")
            ),
        }
    )


def order_ids(orders: Orders, market_ids: pa.Array) -> pa.Array:
    """``HD…`` for store invoices, ``ON…`` for the web shop and app, platform ids otherwise."""
    seq = zero_padded(orders.seq, 8)
    store = pc.binary_join_element_wise("HD", seq, "")
    online = pc.binary_join_element_wise("ON", seq, "")
    kind = np.where(orders.channel == STORE, 0, np.where(orders.channel == MARKET, 2, 1))
    return pc.choose(pa.array(kind.astype(np.int8)), store, online, market_ids)


def _line_product_columns(cat: Catalogue, lines: Lines) -> dict[str, pa.Array]:
    """SKU attributes of each line."""
    t = cat.table()
    idx = pa.array(lines.sku)
    return {
        k: t[k].combine_chunks().take(idx)
        for k in ("sku", "product_id", "name", "brand", "category", "size", "colour")
    }


def pos_invoices_table(
    orders: Orders,
    lines: Lines,
    cat: Catalogue,
    ids: pa.Array,
    rec: PosRecords,
    inv_rec: np.ndarray,
    inv_phone: pa.Array,
) -> pa.Table:
    """pos_invoices.csv: store invoice lines with the invoice fields repeated."""
    keep = orders.channel[lines.order] == STORE
    li = lines.order[keep]
    p = _line_product_columns(cat, lines)
    r = inv_rec[li]
    code = pc.if_else(pa.array(r >= 0), rec.code.take(pa.array(np.maximum(r, 0))), pa.scalar(""))
    name = pc.if_else(pa.array(r >= 0), rec.name.take(pa.array(np.maximum(r, 0))), pa.scalar(""))
    mask = pa.array(keep)
    oi = pa.array(li)
    return pa.table(
        {
            "Số HĐ": ids.take(oi),
            "Ngày giờ": local_text(orders.ts[li], POS_DATETIME),
            "Mã CH": pa.array([s[0] for s in geo.STORES]).take(pa.array(orders.store[li])),
            "Mã KH": code,
            "Tên KH": name,
            "SĐT": inv_phone.take(oi),
            "Mã hàng": p["sku"].filter(mask),
            "Tên hàng": p["name"].filter(mask),
            "Thương hiệu": p["brand"].filter(mask),
            "Nhóm hàng": p["category"].filter(mask),
            "Size": p["size"].filter(mask),
            "Màu": p["colour"].filter(mask),
            "SL": lines.quantity[keep],
            "Đơn giá": lines.unit_price[keep],
            "Giảm giá": lines.line_discount[keep],
            "Mã giảm giá": pa.array([c[0] for c in COUPONS]).take(pa.array(orders.coupon[li])),
            "Giảm giá HĐ": orders.order_discount[li],
            "Tổng tiền HĐ": orders.total[li],
            "Trạng thái": pa.array(list(STATUSES)).take(pa.array(orders.status[li])),
        }
    )


def marketplace_table(
    orders: Orders,
    lines: Lines,
    cat: Catalogue,
    ids: pa.Array,
    buyers: Buyers,
    buyer_of: np.ndarray,
    people: People,
) -> pa.Table:
    """marketplace_orders.csv: a merged Shopee / Lazada / TikTok Shop export."""
    keep = orders.channel[lines.order] == MARKET
    li = lines.order[keep]
    p = _line_product_columns(cat, lines)
    mask = pa.array(keep)
    b = pa.array(buyer_of[li])
    variant = pc.binary_join_element_wise(p["colour"].filter(mask), p["size"].filter(mask), ", ")
    variant = pc.replace_substring_regex(variant, ", $", "")
    province = pa.array(list(geo.PROVINCE_NAMES)).take(pa.array(people.province[orders.person[li]]))
    return pa.table(
        {
            "Mã đơn hàng": ids.take(pa.array(li)),
            "Sàn": pa.array(list(PLATFORMS)).take(pa.array(orders.platform[li])),
            "Ngày đặt hàng": local_text(orders.ts[li], MARKET_DATETIME),
            "Trạng thái": pa.array(list(STATUSES)).take(pa.array(orders.status[li])),
            "Người mua": buyers.username.take(b),
            "Tên người nhận": buyers.recipient.take(b),
            "SĐT người nhận": buyers.masked_phone.take(b),
            "Tỉnh/Thành phố": province,
            "SKU": p["sku"].filter(mask),
            "Tên sản phẩm": p["name"].filter(mask),
            "Phân loại hàng": variant,
            "Số lượng": lines.quantity[keep],
            "Giá gốc": lines.unit_price[keep],
            "Giảm giá": lines.line_discount[keep],
            "Mã voucher": pa.array([c[0] for c in COUPONS]).take(pa.array(orders.coupon[li])),
            "Voucher shop": orders.order_discount[li],
            "Phí vận chuyển": orders.shipping[li],
            "Tổng thanh toán": orders.total[li],
        }
    )


def zalo_table(f: Followers) -> pa.Table:
    """zalo_followers.csv: the OA's follower export."""
    return pa.table(
        {
            "Zalo User ID": f.zalo_id,
            "Tên hiển thị": f.display_name,
            "Số điện thoại": f.phone,
            "Ngày quan tâm": local_text(f.followed_s, POS_DATETIME),
        }
    )
