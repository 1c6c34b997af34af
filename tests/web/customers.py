"""Customers for the profile tests, as the events their touchpoints send.

Times are relative to today in Hanoi, so the overview's 30 days see them:

* Lan browses the web shop anonymously (3 days ago), logs in as U1 with her phone
  typed ``0912 345 678`` (2 days ago) and opens the iOS app as U1; the till knew
  her as KH1 twenty days ago, phone typed ``84912345678``, and she bought HD1
  (990.000 ₫) at store HCM-01. One profile of four records... until the phone is
  unmerged.
* Minh browses anonymously 5 days ago and signs up with his email 4 days ago: an
  anonymous profile converted to an identified one.
* Hùng and Mai, a couple, give the till the same phone: two profiles.
* A visitor who never logs in allows web push: an anonymous profile.
* Nam is at the till (KH20) and on Zalo (Z20) with phones one digit apart: a
  probable duplicate for the review queue.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sen.ingest.spec import Rejection, validate_event

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
LAN_PHONE = "0912 345 678"
LAN_E164 = "+84912345678"
FAMILY_PHONE = "0987 111 222"
# A browser as Sen's web snippet reports it (the anonymous id names the browser).
UA = {"userAgent": "Mozilla/5.0 (Windows NT 10.0) Chrome/130.0", "device": {"type": "web"}}


def today() -> date:
    return datetime.now(HCM).date()


def at(days_ago: int, hour: int = 10, minute: int = 0) -> str:
    """An ISO UTC timestamp for a local wall-clock time ``days_ago`` days before today."""
    local = datetime.combine(today() - timedelta(days=days_ago), time(hour, minute), HCM)
    return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ev(mid: str, type_: str = "track", *, ts: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"type": type_, "messageId": mid, "timestamp": ts}
    if type_ == "track":
        base["event"] = fields.pop("event", "Product Viewed")
    return {**base, **fields}


def lan_web() -> list[dict[str, Any]]:
    return [
        ev("lan-w1", "page", ts=at(3), anonymousId="anon-lan", name="Trang chủ", context=UA),
        ev("lan-w2", "identify", ts=at(2), userId="U1", anonymousId="anon-lan", context=UA,
           traits={"name": "Nguyễn Thị Lan", "phone": LAN_PHONE, "email": " Lan@Gmail.com ",
                   "gender": "nữ"}),
    ]


def lan_app() -> list[dict[str, Any]]:
    return [ev("lan-a1", ts=at(1), userId="U1", event="Product Viewed",
               properties={"sku": "AO-123", "name": "Áo thun"},
               context={"device": {"id": "dev-ios-1", "type": "ios", "token": "apns-lan"}})]


def lan_pos() -> list[dict[str, Any]]:
    return [
        ev("lan-p1", "identify", ts=at(20, 9), userId="KH1",
           traits={"name": "NGUYEN THI LAN", "phone": "84912345678",
                   "address": "12 Lê Lợi, Huế", "birth_date": "1990-04-01",
                   "store_code": "HCM-01"}),
        ev("lan-p2", ts=at(20, 9, 5), userId="KH1", event="Order Completed",
           properties={"order_id": "HD1", "total": 990000, "channel": "store",
                       "store_code": "HCM-01"}),
    ]


def minh_web() -> list[dict[str, Any]]:
    return [
        ev("minh-w1", "page", ts=at(5), anonymousId="anon-minh", name="Sale", context=UA),
        ev("minh-w2", "identify", ts=at(4), userId="M1", anonymousId="anon-minh", context=UA,
           traits={"name": "Lê Minh", "email": "minh.le@yahoo.com"}),
    ]


def family_pos() -> list[dict[str, Any]]:
    return [
        ev("hung-p1", "identify", ts=at(10), userId="KH7",
           traits={"name": "Phạm Văn Hùng", "phone": FAMILY_PHONE}),
        ev("mai-p1", "identify", ts=at(9), userId="KH8",
           traits={"name": "Đỗ Thị Mai", "phone": "0987.111.222"}),
    ]


def visitor_web() -> list[dict[str, Any]]:
    return [ev("anon-x1", "page", ts=at(6), anonymousId="anon-x", name="Blog",
               context={"device": {"type": "web", "token": "webpush-x"}})]


def nam() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(till, Zalo) events of one man with a cashier's one-digit slip in his phone."""
    till = [ev("nam-p1", "identify", ts=at(15), userId="KH20",
               traits={"name": "Trần Văn Nam", "phone": "0903 123 456",
                       "birth_date": "1985-06-15", "province": "Đà Nẵng"})]
    zalo = [ev("nam-z1", "identify", ts=at(8), userId="Z20",
               traits={"name": "Tran Van Nam", "phone": "0903 123 457",
                       "birth_date": "1985-06-15", "province": "Đà Nẵng"})]
    return till, zalo


def rows(events: list[dict[str, Any]], source: str) -> list[tuple]:
    """Events decoded as the HTTP API decodes them."""
    out = []
    now = datetime.now(UTC).replace(tzinfo=None)
    for e in events:
        row = validate_event(e, source=source, received_at=now)
        assert not isinstance(row, Rejection), row
        out.append(row)
    return out


def everyone() -> list[tuple[list[dict[str, Any]], str]]:
    """Every customer's events with their source."""
    till, zalo = nam()
    return [(lan_web(), "web"), (lan_app(), "app"), (lan_pos(), "pos"), (minh_web(), "web"),
            (family_pos(), "pos"), (visitor_web(), "web"), (till, "pos"), (zalo, "zalo")]
