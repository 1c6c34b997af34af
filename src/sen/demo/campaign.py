"""What a marketer finds ready in the demo: message templates, a coupon pool and a
draft win-back campaign, saved by ``sen demo up`` once.

Each is an ordinary template, pool or campaign: she edits, archives or launches
it like her own. A later ``sen demo up`` saves only what does not exist yet,
so her changes stay (as the example segments do).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from sen.demo.sandboxes import ZNS_TEMPLATE_ID
from sen.errors import NotFoundError
from sen.messaging import campaigns, coupons, templates
from sen.messaging.campaigns import CampaignDefinition, ChannelStep, Goal
from sen.messaging.model import Channel, Purpose
from sen.messaging.templates import Template, ZnsSpec

POOL = "demo-winback"
CAMPAIGN = "demo-winback-vela-south"
SEGMENT = "lapsed-90-vela-south"
SMS, ZNS, EMAIL = "demo-sms-winback", "demo-zns-winback", "demo-email-winback"
ACTOR = "demo"
SITE = "https://velamoc.vn/bst-moi"

TEMPLATES: tuple[Template, ...] = (
    Template(
        name=SMS, title="SMS: quà 100K mời khách quay lại", channel=Channel.SMS,
        purpose=Purpose.ADVERTISING, strip_diacritics=True, coupon_pool=POOL,
        body="{{ first_name | default('Bạn') }} ơi, Vela & Mộc tặng {{ xung_ho }} mã "
             "{{ coupon }} giảm 100K cho đơn từ 800K, hạn {{ coupon.expires }}. "
             f"Mẫu mới: {SITE}"),
    Template(
        name=ZNS, title="Zalo ZNS: ưu đãi quay lại", channel=Channel.ZALO,
        purpose=Purpose.ADVERTISING, coupon_pool=POOL,
        zns=ZnsSpec(template_id=ZNS_TEMPLATE_ID, params={
            "customer_name": "name | default('Quý khách')",
            "voucher_code": "coupon",
            "expiry": "coupon.expires",
            "store_name": "favourite_store_name | default('Vela & Mộc')"})),
    Template(
        name=EMAIL, title="Email: quà 100.000 ₫ đang chờ", channel=Channel.EMAIL,
        purpose=Purpose.ADVERTISING, coupon_pool=POOL,
        subject="{{ first_name | default('Bạn') }} ơi, quà 100.000 ₫ đang chờ ở Vela & Mộc",
        body="{{ first_name | default('Bạn') }} thân mến,\n\n"
             "Đã lâu không gặp! Vela & Mộc gửi {{ xung_ho }} mã {{ coupon }}: "
             "{{ coupon.offer }}, dùng đến {{ coupon.expires }} tại mọi cửa hàng và trên "
             f"web.\n\nXem bộ sưu tập mới: {SITE}\n\nVela & Mộc",
        html="<p>{{ first_name | default('Bạn') }} thân mến,</p>"
             "<p>Đã lâu không gặp! Vela &amp; Mộc gửi {{ xung_ho }} mã "
             "<strong>{{ coupon }}</strong>: {{ coupon.offer }}, dùng đến "
             "{{ coupon.expires }} tại mọi cửa hàng và trên web.</p>"
             f'<p><a href="{SITE}">Xem bộ sưu tập mới</a></p><p>Vela &amp; Mộc</p>'),
)

DRAFT = CampaignDefinition(
    name=CAMPAIGN, title="Mời khách Vela miền Nam quay lại",
    description="Khách Vela Saigon ở miền Nam chưa mua 90 ngày: mã giảm 100K qua Zalo, "
                "không có Zalo thì SMS, không nhận SMS thì email; giữ lại 10% để đo hiệu quả.",
    segment=SEGMENT, purpose=Purpose.ADVERTISING,
    channels=[ChannelStep(channel=Channel.ZALO, template=ZNS),
              ChannelStep(channel=Channel.SMS, template=SMS),
              ChannelStep(channel=Channel.EMAIL, template=EMAIL)],
    holdout_percent=10.0, goal=Goal(event="Order Completed", within_days=14))


def _pool_exists(ops: sa.Engine) -> bool:
    return any(p.name == POOL for p in coupons.list_pools(ops))


def save_examples(ops: sa.Engine, *, now: datetime) -> list[str]:
    """Save the pool, templates and draft campaign that do not exist yet; their names."""
    added = []
    if not _pool_exists(ops):
        coupons.create_pool(ops, POOL, "Quà quay lại 100K", coupons.GENERATED, prefix="VM",
                            offer="Giảm 100.000 ₫ cho đơn từ 800.000 ₫", valid_days=14)
        added.append(POOL)
    for template in TEMPLATES:
        try:
            templates.get(ops, template.name)
        except NotFoundError:
            templates.save(ops, template, actor=ACTOR)
            added.append(template.name)
    try:
        campaigns.get(ops, CAMPAIGN)
    except NotFoundError:
        campaigns.save(ops, DRAFT, now=now, actor=ACTOR)
        added.append(CAMPAIGN)
    return added
