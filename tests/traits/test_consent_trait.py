"""Consent as a trait: the channels whose latest advertising consent is a grant."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sen.segments import evaluate, rules
from sen.traits import runner
from tests.traits.shop import Shop

AS_OF = datetime(2026, 11, 30)


def consent(shop: Shop, record: str, channel: str, granted: bool, at: datetime,
            purpose: str = "advertising") -> None:
    shop.event(record, "Consent Granted" if granted else "Consent Revoked", at,
               {"channel": channel, "purpose": purpose, "status":
                "granted" if granted else "revoked", "source": "import"})


def test_latest_statement_per_channel_wins(tmp_path: Path) -> None:
    shop = Shop(tmp_path / "sen.duckdb")
    shop.customer("p_lan", "u:lan", "a:lan-web")
    shop.customer("p_minh", "u:minh")
    shop.customer("p_ha", "u:ha")
    day = AS_OF - timedelta(days=30)
    consent(shop, "u:lan", "sms", True, day)
    consent(shop, "a:lan-web", "email", True, day)  # another record of hers counts
    consent(shop, "u:lan", "zalo", True, day)
    consent(shop, "u:lan", "zalo", False, day + timedelta(days=1))  # then refused
    consent(shop, "u:lan", "sms", True, day, purpose="care")  # care is not advertising
    consent(shop, "u:minh", "sms", False, day)
    consent(shop, "u:ha", "email", True, AS_OF + timedelta(days=1))  # after as_of
    runner.refresh(shop.engine, as_of=AS_OF)
    got = dict(shop.engine.execute(
        "SELECT profile_id, consented_channels FROM profile_traits").fetchall())
    assert got == {"p_lan": ["email", "sms"], "p_minh": [], "p_ha": []}
    rule = rules.parse({"trait": "consented_channels", "op": "contains", "value": "sms"})
    assert evaluate.member_ids(shop.engine, rule) == ["p_lan"]
