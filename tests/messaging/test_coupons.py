"""Coupon pools, issuing and redeeming, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta

import orjson
import pytest
import sqlalchemy as sa

from sen.errors import ConflictError, NotFoundError, ValidationError
from sen.messaging.coupons import (
    CouponAlreadyRedeemedError,
    CouponExpiredError,
    CouponMistypedError,
    CouponNotFoundError,
    PoolEmptyError,
    create_pool,
    import_codes,
    is_valid,
    issue,
    pool_stats,
    redeem,
    status_of,
)
from sen.messaging.coupons.codes import ALPHABET
from sen.messaging.model import COUPON_ISSUED, COUPON_REDEEMED
from sen.store.operational import coupons, pending_events
from tests.messaging.stores import MessagingStore

NOW = datetime(2025, 1, 20, 3, 0)
RETAILER_CODES = ["HARA-0001", "hara-0002", " HARA-0003 ", "HARA-0004"]


@pytest.fixture
def store(tmp_path, ops):
    with MessagingStore(tmp_path, ops) as s:
        yield s


def pending(ops, event: str) -> list[dict]:
    with ops.connect() as con:
        rows = con.execute(sa.select(pending_events).where(pending_events.c.event == event)
                           .order_by(pending_events.c.id)).all()
    return [{"message_id": r.message_id, "user_id": r.user_id, "anonymous_id": r.anonymous_id,
             "timestamp": r.timestamp, "properties": orjson.loads(r.properties)} for r in rows]


def give(ops, pool: str, message_id: int, *, record: str = "u:KH01", now: datetime = NOW,
         rng: random.Random | None = None):
    with ops.begin() as con:
        return issue(con, pool, message_id=message_id, profile_id="p-1", record=record,
                     campaign="tet", now=now, rng=rng)


def test_pools_are_checked_when_created(ops):
    create_pool(ops, "tet", "Tết", prefix="tet", valid_days=30, offer="Giảm 50.000đ")
    for kwargs, field in [({"name": "Tết 2025"}, "name"), ({"kind": "random"}, "kind"),
                          ({"prefix": "SALE"}, "prefix"), ({"length": 5}, "length"),
                          ({"valid_days": 0}, "valid_days"),
                          ({"kind": "imported", "prefix": "TET"}, "prefix")]:
        with pytest.raises(ValidationError) as err:
            create_pool(ops, **({"name": "x", "title": "x"} | kwargs))
        assert err.value.field == field
    with pytest.raises(ValidationError, match="already exists"):
        create_pool(ops, "tet", "again")


def test_imported_codes_are_counted_added_duplicate_or_invalid(ops):
    create_pool(ops, "hara", "Haravan", "imported")
    create_pool(ops, "gen", "Generated")
    counts = import_codes(ops, "hara", [*RETAILER_CODES, "HARA-0001", "", "HAS SPACE",
                                        "X" * 33, "MÃ-GIẢM"])
    assert (counts.added, counts.duplicates, counts.invalid) == (4, 1, 4)
    again = import_codes(ops, "hara", ["HARA-0004", "HARA-0005"])
    assert (again.added, again.duplicates, again.invalid) == (1, 1, 0)
    with ops.connect() as con:
        stored = sorted(con.execute(sa.select(coupons.c.code)).scalars())
    assert stored == ["HARA-0001", "HARA-0002", "HARA-0003", "HARA-0004", "HARA-0005"]
    with pytest.raises(ValidationError, match="generates its own codes"):
        import_codes(ops, "gen", ["ABC"])
    with pytest.raises(NotFoundError):
        import_codes(ops, "nope", ["ABC"])


def test_generated_codes_are_issued_once_per_message_with_an_event(store):
    ops = store.ops
    create_pool(ops, "tet", "Tết", prefix="TET", valid_days=30, offer="Giảm 50.000đ")
    m1, m2 = store.message(), store.message(record="a:anon-2")
    first = give(ops, "tet", m1)
    assert first.new and is_valid(first.code) and first.code.startswith("TET")
    assert len(first.code) == 3 + 8 + 1 and set(first.code) <= set(ALPHABET)
    assert first.expires_at == NOW + timedelta(days=30) and first.offer == "Giảm 50.000đ"
    again = give(ops, "tet", m1, now=NOW + timedelta(hours=1))
    assert (again.code, again.new, again.expires_at) == (first.code, False, first.expires_at)
    other = give(ops, "tet", m2, record="a:anon-2")
    assert other.code != first.code
    issued = pending(ops, COUPON_ISSUED)
    assert [e["message_id"] for e in issued] == [f"coupon-issued:{first.code}",
                                                  f"coupon-issued:{other.code}"]
    assert issued[0]["user_id"] == "KH01" and issued[1]["anonymous_id"] == "anon-2"
    assert issued[0]["properties"] == {
        "coupon": first.code, "pool": "tet", "offer": "Giảm 50.000đ", "message_id": m1,
        "campaign_id": "tet", "journey_id": None, "channel": "sms",
        "expires_at": "2025-02-19T03:00:00Z"}


def test_a_collision_draws_another_code(store):
    ops = store.ops
    create_pool(ops, "tet", "Tết")
    m1, m2 = store.message(), store.message()
    first = give(ops, "tet", m1, rng=random.Random(5))
    second = give(ops, "tet", m2, rng=random.Random(5))  # the same first draw: taken
    assert second.code != first.code and is_valid(second.code)


def test_imported_pools_hand_out_each_code_once_then_run_dry(store):
    ops = store.ops
    create_pool(ops, "hara", "Haravan", "imported")
    import_codes(ops, "hara", ["B-2", "A-1", "C-3"])
    redeem(ops, "C-3", order_id="HD-OLD", store="Q1", channel="store", source="pos", at=NOW)
    ids = [store.message() for _ in range(3)]
    got = [give(ops, "hara", m).code for m in ids[:2]]
    assert got == ["A-1", "B-2"]  # the redeemed C-3 is never handed out
    with pytest.raises(PoolEmptyError, match="no codes left") as err:
        give(ops, "hara", ids[2])
    assert "/api/coupon-pools/hara/codes" in err.value.hint
    assert give(ops, "hara", ids[0]).code == "A-1"  # still idempotent
    stats = pool_stats(ops, "hara", now=NOW)
    assert (stats.codes, stats.issued, stats.redeemed, stats.available) == (3, 2, 1, 0)


def test_threads_drawing_from_one_imported_pool_never_share_a_code(store):
    ops = store.ops
    create_pool(ops, "hara", "Haravan", "imported")
    import_codes(ops, "hara", [f"HR-{i:04d}" for i in range(60)])
    ids = [store.message() for _ in range(80)]
    got: list[str] = []
    empty: list[int] = []
    lock = threading.Lock()

    def worker(chunk: list[int]) -> None:
        for mid in chunk:
            try:
                code = give(ops, "hara", mid).code
            except PoolEmptyError:
                with lock:
                    empty.append(mid)
            else:
                with lock:
                    got.append(code)

    threads = [threading.Thread(target=worker, args=(ids[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 60 and len(set(got)) == 60 and len(empty) == 20
    with ops.connect() as con:
        holders = con.execute(sa.select(coupons.c.message_id).where(
            coupons.c.message_id.is_not(None))).scalars().all()
    assert len(holders) == len(set(holders)) == 60


def test_redeeming_marks_once_and_says_when_and_where(store):
    ops = store.ops
    create_pool(ops, "tet", "Tết", valid_days=30, offer="Giảm 50.000đ")
    mid = store.message(campaign="tet", channel="zalo", journey=None)
    code = give(ops, "tet", mid).code
    typed = "-".join([code[:4].lower(), code[4:]])  # as a cashier types it
    at = NOW + timedelta(days=2)
    done = redeem(ops, typed, order_id="HD001", store="Q1", channel="store", source="pos",
                  at=at)
    assert (done.code, done.repeated, done.message_id, done.campaign, done.offer) == (
        code, False, mid, "tet", "Giảm 50.000đ")
    again = redeem(ops, code, order_id="HD001", store="Q1", channel="store", source="pos",
                   at=at + timedelta(minutes=5))
    assert again.repeated and again.redeemed_at == at
    with pytest.raises(CouponAlreadyRedeemedError) as err:
        redeem(ops, code, order_id="HD002", store="Q3", channel="store", source="pos",
               at=at + timedelta(hours=1))
    assert isinstance(err.value, ConflictError)
    assert "22/01/2025 03:00 at store Q1, order HD001" in err.value.message
    assert err.value.details == {"code": code, "redeemed_at": "2025-01-22T03:00:00Z",
                                 "store": "Q1", "order_id": "HD001", "channel": "store",
                                 "source": "pos"}
    (event,) = pending(ops, COUPON_REDEEMED)
    assert event["message_id"] == f"coupon-redeemed:{code}" and event["user_id"] == "KH01"
    assert event["timestamp"] == at
    assert event["properties"] == {
        "coupon": code, "pool": "tet", "message_id": mid, "campaign_id": "tet",
        "journey_id": None, "channel": "zalo", "order_id": "HD001", "store": "Q1",
        "source": "pos", "redeemed_channel": "store"}
    assert status_of(ops, code, now=at).status == "redeemed"


def test_two_tills_redeeming_one_code_at_once_make_one_redemption(store):
    ops = store.ops
    create_pool(ops, "tet", "Tết")
    codes = [give(ops, "tet", store.message()).code for _ in range(6)]
    outcomes: list[str] = []
    lock = threading.Lock()

    def till(order: str) -> None:
        for code in codes:
            try:
                redeem(ops, code, order_id=order, store=order, channel="store", source="pos",
                       at=NOW)
                result = "ok"
            except CouponAlreadyRedeemedError:
                result = "refused"
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=till, args=(f"Q{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes).count("ok") == 6 and outcomes.count("refused") == 18
    assert len(pending(ops, COUPON_REDEEMED)) == 6


def test_unknown_mistyped_and_expired_codes_are_different_errors(store):
    ops = store.ops
    create_pool(ops, "tet", "Tết", valid_days=7)
    code = give(ops, "tet", store.message()).code
    slip = code[:3] + next(c for c in ALPHABET if c != code[3]) + code[4:]
    args = {"order_id": "HD9", "store": "Q1", "channel": "store", "source": "pos"}
    with pytest.raises(CouponMistypedError, match="check the code, a character looks mistyped"):
        redeem(ops, slip, at=NOW, **args)
    with pytest.raises(CouponMistypedError, match="never contain"):
        redeem(ops, code[:3] + "O" + code[4:], at=NOW, **args)
    with pytest.raises(CouponNotFoundError):
        redeem(ops, "SUMMER-2024", at=NOW, **args)
    assert status_of(ops, code, now=NOW + timedelta(days=8)).status == "expired"
    with pytest.raises(CouponExpiredError, match="expired on 27/01/2025") as err:
        redeem(ops, code, at=NOW + timedelta(days=8), **args)
    assert err.value.details["expires_at"] == "2025-01-27T03:00:00Z"
    assert pending(ops, COUPON_REDEEMED) == []
    with pytest.raises(ValidationError, match="order_id"):
        redeem(ops, code, at=NOW, **(args | {"order_id": "x" * 121}))


def test_a_retailer_code_is_found_as_typed_and_a_never_issued_one_goes_to_the_buyer(store):
    ops = store.ops
    create_pool(ops, "hara", "Haravan", "imported")
    import_codes(ops, "hara", RETAILER_CODES)
    mid = store.message(record="u:KH07")
    assert give(ops, "hara", mid, record="u:KH07").code == "HARA-0001"
    redeem(ops, "hara-0001", order_id="W1", store=None, channel="web", source="web-shop",
           at=NOW, record="a:buyer")
    redeem(ops, "HARA-0004", order_id="W2", store=None, channel="web", source="web-shop",
           at=NOW, record="u:KH99")
    events = pending(ops, COUPON_REDEEMED)
    assert [(e["properties"]["coupon"], e["user_id"], e["anonymous_id"]) for e in events] == [
        ("HARA-0001", "KH07", None),  # issued: the recipient
        ("HARA-0004", "KH99", None)]  # never issued: the buyer
    assert events[1]["properties"]["message_id"] is None
