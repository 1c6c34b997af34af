"""Unique coupon codes: generated or imported pools, issued per message, redeemed
through the API and from orders on every ingest path.

* :mod:`.codes`: the code alphabet and its check character (pure);
* :mod:`.pools`: pools, uploads of a retailer's codes, counts;
* :mod:`.issuing`: a code per message, inside the dispatcher's transaction;
* :mod:`.ledger`: finding and redeeming codes;
* :mod:`.from_orders`: redemptions found in the ``orders`` projection.
"""

from sen.messaging.coupons.codes import (
    ALPHABET,
    check_character,
    is_valid,
    lookup_keys,
    new_code,
    normalise,
)
from sen.messaging.coupons.from_orders import (
    COUPON_REDEMPTION_REFUSED,
    CouponRedeemer,
    redeem_from_orders,
)
from sen.messaging.coupons.issuing import IssuedCoupon, PoolEmptyError, issue
from sen.messaging.coupons.ledger import (
    CouponAlreadyRedeemedError,
    CouponExpiredError,
    CouponMistypedError,
    CouponNotFoundError,
    CouponStatus,
    Redemption,
    redeem,
    status_of,
)
from sen.messaging.coupons.pools import (
    GENERATED,
    IMPORTED,
    ImportCounts,
    Pool,
    PoolStats,
    create_pool,
    import_codes,
    list_pools,
    pool_stats,
)

__all__ = [
    "ALPHABET", "COUPON_REDEMPTION_REFUSED", "GENERATED", "IMPORTED",
    "CouponAlreadyRedeemedError", "CouponExpiredError", "CouponMistypedError",
    "CouponNotFoundError", "CouponRedeemer", "CouponStatus", "ImportCounts", "IssuedCoupon", "Pool",
    "PoolEmptyError", "PoolStats", "Redemption", "check_character", "create_pool",
    "import_codes", "is_valid", "issue", "list_pools", "lookup_keys", "new_code", "normalise",
    "pool_stats", "redeem", "redeem_from_orders", "status_of",
]
