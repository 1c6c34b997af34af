"""The direct renderer gives Jinja's output exactly, and knows when to hand over to Jinja."""

from __future__ import annotations

from datetime import datetime

import pytest

from sen.messaging.direct import direct
from sen.messaging.render import LazyCoupon
from sen.messaging.sandbox import HTML, TEXT, parts, strip_source, vnd, zns_source
from sen.messaging.templates import PushSpec, Template, ZnsSpec


class Coupon:
    code, offer, expires_at = "VELA8K2P", "Giảm 20%", datetime(2026, 11, 30, 5)


CONTEXTS = [
    {},
    {"first_name": "Lan", "xung_ho": "chị", "spend": 1_250_000, "days": 0, "ratio": 2.5},
    {"first_name": "  ánh  ", "xung_ho": "bạn", "spend": 0, "flag": True},
]
SIMPLE = [
    "Chào {{ xung_ho }} {{ first_name }}!",
    "Chào {{ first_name | default('bạn') }}{{ first_name | d('x', true) }}",
    "{{ first_name or xung_ho or 'bạn' }} / {{ spend or 'chưa mua' }} / {{ days or 0 }}",
    "{{ first_name | trim | title }} {{ first_name | upper }} {{ xung_ho | capitalize }}",
    "{{ spend | vnd }} {{ ratio }} {{ flag }} {{ 'hằng số' }} {{ 3 }}",
    "{{ first_name | truncate(5, true, '…') }} {{ first_name | length }}",
    "Mã {{ coupon }} {{ coupon.code | lower }} {{ coupon.offer }} {{ coupon.expires }}",
    "Dòng 1\n  {{- first_name -}}  \nDòng 3\n",
    "",
    "chỉ có chữ",
]
NOT_SIMPLE = [
    "{% if spend %}x{% endif %}",
    "{% for c in 'ab' %}{{ c }}{% endfor %}",
    "{{ first_name.upper() }}",
    "{{ spend + 1 }}",
    "{{ first_name | replace('a', 'b') }}",  # replace takes the evaluation context
    "{{ first_name | default(xung_ho) }}",  # a default that is not a constant
    "{{ coupon.__class__ }}",
    "{{ other.code }}",
    "{% set x = 1 %}{{ x }}",
]


@pytest.mark.parametrize("source", SIMPLE)
@pytest.mark.parametrize("context", CONTEXTS)
def test_direct_rendering_equals_jinja(source: str, context: dict) -> None:
    fast = direct(TEXT.parse(source), TEXT)
    assert fast is not None
    values = dict(context, coupon=LazyCoupon(Coupon, "Asia/Ho_Chi_Minh", False))
    jinja_values = dict(context, coupon=LazyCoupon(Coupon, "Asia/Ho_Chi_Minh", False))
    assert fast(values) == TEXT.from_string(source).render(jinja_values)


@pytest.mark.parametrize("source", NOT_SIMPLE)
def test_everything_else_goes_through_jinja(source: str) -> None:
    assert direct(TEXT.parse(source), TEXT) is None


def test_html_always_goes_through_jinja_for_escaping() -> None:
    assert direct(HTML.parse("{{ first_name }}"), HTML) is None


def test_parts_name_every_piece_of_a_template() -> None:
    template = Template(name="all", title="A", channel="push", purpose="care", subject="s",
                        body="b", html="<p>h</p>",
                        zns=ZnsSpec(template_id="1", params={"ten": "first_name", "x": ""}),
                        push=PushSpec(title="t", url="https://u"),
                        webhook={"a": {"b": ["c", 1]}})
    assert [(p.field, p.source, p.html) for p in parts(template)] == [
        ("subject", "s", False), ("body", "b", False), ("html", "<p>h</p>", True),
        ("zns.params.ten", "{{ first_name }}", False), ("zns.params.x", "", False),
        ("push.title", "t", False), ("push.url", "https://u", False),
        ("webhook.a.b.0", "c", False)]


@pytest.mark.parametrize(("expression", "source"), [
    ("first_name", "{{ first_name }}"),
    ("  first_name | default('bạn') ", "{{ first_name | default('bạn') }}"),
    ("Chào {{ first_name }}", "Chào {{ first_name }}"),
    ("{% if a %}x{% endif %}", "{% if a %}x{% endif %}"),
    ("", ""),
])
def test_a_zns_mapping_is_an_expression_or_a_template(expression: str, source: str) -> None:
    assert zns_source(expression) == source


def test_stripping_a_template_keeps_its_urls_as_written() -> None:
    assert strip_source("Giày mới: https://vela.vn/giày-nữ. {{ x | default('bạn') }}") == \
        "Giay moi: https://vela.vn/giày-nữ. {{ x | default('ban') }}"


@pytest.mark.parametrize(("amount", "text"), [
    (1_250_000, "1.250.000 ₫"), (0, "0 ₫"), (-5000, "-5.000 ₫"), (999.6, "1.000 ₫"),
    (None, ""), ("", ""),
])
def test_vnd(amount: object, text: str) -> None:
    assert vnd(amount) == text
