"""Checks on save as a fixture table: template → the problems it has (field, rule, severity)."""

from __future__ import annotations

from typing import Any

import pytest

from sen.messaging import context
from sen.messaging.checks import check, unguarded
from sen.messaging.sandbox import TEXT
from sen.messaging.templates import PushSpec, Template, ZnsSpec

FIELDS = context.fields()


def tpl(channel: str = "sms", purpose: str = "care", **kw: Any) -> Template:
    return Template(name="t", title="T", channel=channel, purpose=purpose, **kw)


def found(template: Template, fields: Any = FIELDS) -> set[tuple[str, str, str]]:
    return {(p.field, p.rule, p.severity) for p in check(template, fields)}


E, W = "error", "warning"
CASES: list[tuple[str, Template, set[tuple[str, str, str]]]] = [
    ("clean", tpl(body="Chào {{ xung_ho }} {{ first_name | default('bạn') }}! "
                       "Mua tại https://vela.vn/sale, mã {{ coupon }}", coupon_pool="bf"),
     set()),
    ("coupon without a pool", tpl(body="Mã {{ coupon }}"),
     {("coupon_pool", "coupon_pool_missing", E)}),
    ("or is a fallback", tpl(body="Chào {{ first_name or 'bạn' }}"), set()),
    ("tested by if", tpl(body="{% if first_name %}Chào {{ first_name }}{% endif %}"), set()),
    ("never empty", tpl(body="{{ xung_ho }} {{ spend_text }} {{ orders }}"), set()),
    ("no fallback", tpl(body="Chào {{ first_name }}"),
     {("body", "empty_without_fallback", W)}),
    ("no fallback through a filter", tpl(body="Chào {{ first_name | upper }}"),
     {("body", "empty_without_fallback", W)}),
    ("unknown field", tpl(body="Chào {{ fist_name | default('bạn') }}"),
     {("body", "unknown_variable", E)}),
    ("self is not a field", tpl(body="{{ self }}"), {("body", "unknown_variable", E)}),
    ("no scheme", tpl(body="Xem vela.vn/sale và www.vela.com.vn nhé"),
     {("body", "untracked_link", W)}),
    ("upper-case scheme", tpl(body="Xem HTTPS://VELA.VN/SALE"), {("body", "untracked_link", W)}),
    ("not links", tpl(body="Email cskh@vela.vn, giá 1.250.000 ₫, v.v. https://vela.vn/a.b"),
     set()),
    ("untracked link in HTML", tpl("email", subject="S", html='<a href="vela.vn/sale">x</a>'),
     {("html", "untracked_link", W)}),
    ("QC typed", tpl(purpose="advertising", body="[QC] Sale 50%"),
     {("body", "label_typed", E)}),
    ("AD typed, any case", tpl(purpose="advertising", body="[ ad ] Sale"),
     {("body", "label_typed", E)}),
    ("care may say anything", tpl(body="[QC] không phải quảng cáo"), set()),
    ("opt-out typed", tpl(purpose="advertising", body="Sale. Từ chối QC soạn TC gửi 8077"),
     {("body", "opt_out_typed", W)}),
    ("email without subject", tpl("email", html="<p>Hi</p>"), {("subject", "required", E)}),
    ("email without content", tpl("email", subject="Hi"), {("html", "required", E)}),
    ("email subject with QC", tpl("email", "advertising", subject="[QC] Sale", body="x"),
     {("subject", "label_typed", E)}),
    ("sms without text", tpl(body=""), {("body", "required", E)}),
    ("sms with a subject", tpl(body="x", subject="s"), {("subject", "not_for_channel", E)}),
    ("email cannot strip", tpl("email", subject="s", body="x", strip_diacritics=True),
     {("strip_diacritics", "not_for_channel", E)}),
    ("zns without id", tpl("zalo", zns=ZnsSpec(params={"ten": "first_name"})),
     {("zns.template_id", "required", E), ("zns.params.ten", "empty_without_fallback", W)}),
    ("zns unmapped", tpl("zalo", zns=ZnsSpec(template_id="1", params={"ten": " "})),
     {("zns.params.ten", "zns_unmapped", E)}),
    ("zns unknown field", tpl("zalo", zns=ZnsSpec(template_id="1", params={"ten": "fist"})),
     {("zns.params.ten", "unknown_variable", E)}),
    ("zns mapped", tpl("zalo", zns=ZnsSpec(template_id="1", params={
        "ten": "first_name | default('Quý khách')", "ma": "coupon", "tien": "spend_text"}),
        coupon_pool="bf"), set()),
    ("zalo needs zns", tpl("zalo"), {("zns.template_id", "required", E)}),
    ("push without title", tpl("push", body="x", push=PushSpec(url="https://vela.vn")),
     {("push.title", "required", E)}),
    ("push fine", tpl("push", body="x", push=PushSpec(title="Sale", url="https://vela.vn")),
     set()),
    ("webhook needs a body", tpl("webhook"), {("webhook", "required", E)}),
    ("webhook part syntax", tpl("webhook", webhook={"a": ["{{ x "]}),
     {("webhook.a.0", "syntax", E)}),
    ("syntax", tpl(body="Chào {{ first_name "), {("body", "syntax", E)}),
    ("unknown filter", tpl(body="{{ first_name | attr('x') }}"), {("body", "syntax", E)}),
    ("private attribute", tpl(body="{{ xung_ho.__class__ }}"), {("body", "unsafe", E)}),
    ("sandbox refusal on trial", tpl(body="{{ 'x' * 1000000 }}"), {("body", "render", E)}),
    ("fails when empty", tpl(body="{% if days_since_last_purchase > 30 %}Lâu rồi{% endif %}"),
     {("body", "fails_when_empty", W)}),
]


@pytest.mark.parametrize(("case", "template", "expected"), CASES, ids=[c[0] for c in CASES])
def test_problems(case: str, template: Template, expected: set) -> None:
    assert found(template) == expected


def test_every_problem_speaks_both_languages() -> None:
    for _, template, _ in CASES:
        for p in check(template, FIELDS):
            assert p.message_vi and p.message_en and p.message_vi != p.message_en
            assert p.message("vi") == p.message_vi and p.message("en") == p.message_en
            assert p.as_dict()["message"] == {"vi": p.message_vi, "en": p.message_en}


def test_messages_say_what_to_do() -> None:
    (unknown,) = check(tpl(body="{{ fist_name | default('b') }}"), FIELDS)
    assert "'first_name'" in unknown.message_en and "'first_name'" in unknown.message_vi
    (link,) = check(tpl(body="Xem vela.vn/sale."), FIELDS)
    assert "https://vela.vn/sale" in link.message_en and "'vela.vn/sale'" in link.message_vi
    (syntax,) = check(tpl(body="Dòng 1\nDòng 2\n{% if %}"), FIELDS)
    assert "line 3" in syntax.message_en and "dòng 3" in syntax.message_vi
    (empty,) = check(tpl(body="{{ first_name }}"), FIELDS)
    assert "default('bạn')" in empty.message_vi


def test_user_defined_traits_are_fields_when_given(store: Any) -> None:
    template = tpl(body="Bạn ghé {{ visits | default(0) }} lần, màu {{ colour or 'nào' }}")
    assert found(template) == {("body", "unknown_variable", E)}
    assert found(template, context.fields(store)) == set()
    by_name = {f.name: f for f in context.fields(store)}
    assert found(template, by_name) == set()


@pytest.mark.parametrize(("source", "names"), [
    ("{{ a }}{{ b | default('x') }}{{ c or 'y' }}", {"a"}),
    ("{{ (a or 'x') | upper }}{{ b | upper | default('z') }}", set()),
    ("{% if a %}{{ a }}{% endif %}{{ b if b else 'x' }}", set()),
    ("{{ 'x' or a }}", {"a"}),  # only the left side of "or" is guarded
    ("{% for x in items %}{{ x }}{% endfor %}", {"items", "x"}),
])
def test_unguarded_names(source: str, names: set) -> None:
    assert unguarded(TEXT.parse(source)) == names
