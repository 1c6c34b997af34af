"""Segments a Vietnamese footwear chain's marketers start from, saved by ``sen demo up``.

Each is an ordinary saved segment (edit, archive or delete it); together they
show every kind of condition on the demo retailer: traits, orders with line
items, events, messages and the top share of a predicted value.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from sen.errors import NotFoundError
from sen.segments import rules, saved

EXAMPLES: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("lapsed-90-vela-south", "Khách Vela miền Nam 90 ngày chưa quay lại",
     "Win back: favourite brand Vela Saigon, South, no purchase for 90 days.",
     {"all": [{"trait": "last_purchase_at", "op": "more_than_days_ago", "value": 90},
              {"trait": "favourite_brand", "op": "=", "value": "Vela Saigon"},
              {"trait": "region", "op": "=", "value": "South"}]}),
    ("bought-7d", "Vừa mua trong 7 ngày",
     "Exclude from ads: anyone with a completed order in the last 7 days.",
     {"order": "completed", "within_days": 7}),
    ("cart-abandoned-3d", "Bỏ giỏ hàng trong 3 ngày",
     "Added a product in the last 3 days and has not bought since.",
     {"all": [{"event": "Product Added", "within_days": 3},
              {"not": {"order": "completed", "within_days": 3}}]}),
    ("clicked-7d-not-bought", "Bấm vào tin nhắn 7 ngày qua nhưng chưa mua",
     "Clicked a message in the last 7 days and did not buy in them.",
     {"all": [{"message": "clicked", "within_days": 7},
              {"not": {"order": "completed", "within_days": 7}}]}),
    ("store-only-bags", "Mua túi xách tại cửa hàng, chưa mua online",
     "Bought a bag in a store in the last year, never ordered on the web, app or a "
     "marketplace: candidates for the online shop.",
     {"all": [{"order": "completed", "within_days": 365,
               "where": [{"field": "channel", "op": "=", "value": "store"},
                         {"field": "category", "op": "=", "value": "Túi xách"}]},
              {"not": {"order": "any", "where": [
                  {"field": "channel", "op": "in", "value": ["web", "app", "marketplace"]}]}}]}),
    ("top-5pct-clv", "5% khách có giá trị dự đoán cao nhất",
     "A lookalike seed: the top 5% by predicted 12-month value.",
     {"trait": "clv_12m", "op": "top_percent", "value": 5}),
)


def save_examples(ops: sa.Engine) -> list[str]:
    """Save the examples that do not exist yet (a marketer's edits are kept); their names."""
    added = []
    for name, title, description, rule in EXAMPLES:
        try:
            saved.get(ops, name)
        except NotFoundError:
            saved.save(ops, saved.Segment(name=name, title=title, description=description,
                                          rule=rules.parse(rule)), actor="demo")
            added.append(name)
    return added
