"""Rendering: fixture tables of template → message, links, coupons, decree 91 marks, SMS parts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest

from sen.errors import ValidationError
from sen.messaging import sms
from sen.messaging.render import (
    RenderError,
    RenderSettings,
    compile_template,
    render,
    variables,
)
from sen.messaging.templates import PushSpec, Template, ZnsSpec

UNSUB = "https://s.vela.vn/u/Un5ub"


@dataclass
class Coupon:
    code: str = "VELA8K2P"
    offer: str = "Giảm 20% đơn từ 500.000 ₫"
    expires_at: datetime | date | None = datetime(2026, 11, 30, 17, 30)  # 00:30 on 1/12 local


class Services:
    """One recipient's services: numbered short links, coupons counted as issued."""

    def __init__(self, short: str = "https://s.vela.vn/l/R") -> None:
        self.short, self.shortened, self.issued = short, [], 0
        self.unsubscribe_url = UNSUB

    def shorten(self, url: str, index: int) -> str:
        self.shortened.append((url, index))
        return f"{self.short}{index}"

    def coupon(self) -> Coupon:
        self.issued += 1
        return Coupon()


def sms_template(body: str, purpose: str = "care", strip: bool = False, name: str = "t"
                 ) -> Template:
    return Template(name=name, title="T", channel="sms", purpose=purpose, body=body,
                    strip_diacritics=strip)


def run(template: Template, context: dict[str, Any] | None = None,
        services: Services | None = None, settings: RenderSettings | None = None):
    args = [compile_template(template), context or {}, services or Services()]
    return render(*args, settings) if settings else render(*args)


LAN = {"first_name": "Lan", "xung_ho": "chị", "spend": 1_250_000, "spend_text": "1.250.000 ₫"}


@pytest.mark.parametrize(("body", "context", "expected"), [
    ("Chào {{ xung_ho }} {{ first_name | default('bạn') }}!", LAN, "Chào chị Lan!"),
    ("Chào {{ first_name | default('bạn') }}!", {"first_name": None}, "Chào bạn!"),
    ("Chào {{ first_name | default('bạn') }}!", {"first_name": ""}, "Chào bạn!"),
    ("Chào {{ first_name or 'bạn' }}!", {}, "Chào bạn!"),
    ("Chào {{ first_name }}!", {}, "Chào !"),
    ("Bạn đã mua {{ spend_text }}", LAN, "Bạn đã mua 1.250.000 ₫"),
    ("Bạn đã mua {{ spend | vnd }}", LAN, "Bạn đã mua 1.250.000 ₫"),
    ("{{ first_name | upper }} ơi", LAN, "LAN ơi"),
    ("{% if spend > 1000000 %}Khách VIP{% else %}Khách{% endif %} {{ first_name }}", LAN,
     "Khách VIP Lan"),
    ("{% if spend > 1000000 %}Khách VIP{% else %}Khách{% endif %}", {"spend": 10},
     "Khách"),
    ("Mã {{ coupon }} ({{ coupon.offer }}), hạn {{ coupon.expires }}", {},
     "Mã VELA8K2P (Giảm 20% đơn từ 500.000 ₫), hạn 01/12/2026"),
    ("Dòng 1\nDòng 2\n", {}, "Dòng 1\nDòng 2"),
])
def test_care_sms(body: str, context: dict, expected: str) -> None:
    out = run(sms_template(body), context)
    assert out.body == expected
    assert out.sms == sms.measure(expected)


OPT_OUT_PLAIN = f"Tu choi QC: {UNSUB}"
OPT_OUT_VI = f"Từ chối QC: {UNSUB}"


@pytest.mark.parametrize(("body", "strip", "context", "expected"), [
    # A plain body gets the plain opt-out, so the message stays GSM-7.
    ("Sale 50% tai Vela", False, {}, f"[QC] Sale 50% tai Vela. {OPT_OUT_PLAIN}"),
    ("Giảm 50% tại Vela!", False, {}, f"[QC] Giảm 50% tại Vela! {OPT_OUT_VI}"),
    ("Giảm 50% tại Vela!", True, {}, f"[QC] Giam 50% tai Vela! {OPT_OUT_PLAIN}"),
    ("Chào {{ xung_ho }} {{ first_name }}, đơn mới giảm 10%", True,
     {"xung_ho": "chị", "first_name": "Ánh"},
     f"[QC] Chao chi Anh, don moi giam 10%. {OPT_OUT_PLAIN}"),
    ("   ", False, {}, f"[QC] {OPT_OUT_PLAIN}"),
])
def test_advertising_sms_starts_with_the_label_and_ends_with_the_opt_out(
        body: str, strip: bool, context: dict, expected: str) -> None:
    out = run(sms_template(body, "advertising", strip), context)
    assert out.body == expected
    assert out.sms.encoding == ("ucs2" if "ả" in expected else "gsm7")


def test_care_sms_has_neither_label_nor_opt_out() -> None:
    out = run(sms_template("Đơn hàng của chị đã giao", "care"))
    assert out.body == "Đơn hàng của chị đã giao"


def test_strip_diacritics_covers_the_text_the_values_and_the_coupon() -> None:
    template = sms_template("Đặng {{ first_name }}: {{ coupon.offer }} tại {{ store }}", "care",
                            strip=True)
    out = run(template, {"first_name": "Ngọc Ánh", "store": "Đà Nẵng"})
    assert out.body == "Dang Ngoc Anh: Giam 20% don tu 500.000 ₫ tai Da Nang"
    assert out.body == sms.strip_diacritics(out.body)


def test_opt_out_and_label_are_settings() -> None:
    keyword = RenderSettings(advertising_label="[AD]",
                             sms_opt_out="Từ chối QC soạn TC gửi 8077")
    out = run(sms_template("Sale", "advertising"), settings=keyword)
    assert out.body == "[AD] Sale. Tu choi QC soan TC gui 8077"
    with pytest.raises(ValueError, match="timezone"):
        RenderSettings(timezone="Mars/Olympus")
    with pytest.raises(ValueError):
        RenderSettings(advertising_label="[XX]")


# -- links --------------------------------------------------------------------------------

def test_every_url_in_text_becomes_a_short_link_once_per_distinct_url() -> None:
    body = ("Xem https://vela.vn/sale?a=1&b=2. Lại https://vela.vn/sale?a=1&b=2 nữa "
            "(https://vela.vn/moi) và {{ link }}")
    services = Services()
    out = run(sms_template(body), {"link": "https://vela.vn/x/giày"}, services)
    assert out.body == ("Xem https://s.vela.vn/l/R0. Lại https://s.vela.vn/l/R0 nữa "
                        "(https://s.vela.vn/l/R1) và https://s.vela.vn/l/R2")
    assert out.links == ["https://vela.vn/sale?a=1&b=2", "https://vela.vn/moi",
                         "https://vela.vn/x/giày"]
    assert services.shortened == [(url, i) for i, url in enumerate(out.links)]


def test_addresses_an_html_page_loads_are_not_tracked() -> None:
    template = Template(
        name="img", title="I", channel="email", purpose="care", subject="S",
        html='<img src="https://vela.vn/a.png"><img SRC = \'https://vela.vn/b.png\'>'
             '<link rel="stylesheet" href="https://vela.vn/s.css">'
             '<td style="background: url(https://vela.vn/bg.png)" background="https://vela.vn/c">'
             '<a href="https://vela.vn/sale"><img src="https://vela.vn/d.png"></a>')
    out = run(template)
    assert out.links == ["https://vela.vn/sale"]
    assert out.html.count("https://s.vela.vn/l/R0") == 1 and "https://vela.vn/a.png" in out.html


def test_a_text_without_links_calls_no_shortener() -> None:
    services = Services()
    out = run(sms_template("Không có liên kết, chỉ vela.vn và http thôi"), {}, services)
    assert (out.links, services.shortened) == ([], [])


def test_links_in_html_and_hrefs_are_rewritten_and_escaped() -> None:
    template = Template(
        name="mail", title="Mail", channel="email", purpose="care", subject="Chào {{ name }}",
        body="Xem https://vela.vn/sale?a=1&b=2",
        html='<p>Chào {{ name }}</p><a href="https://vela.vn/sale?a=1&amp;b=2">Mua</a> '
             '<a href="{{ url }}">Mới</a> <a href="{{ unsubscribe_url }}">Hủy</a>')
    services = Services(short="https://s.vela.vn/l/?k=")
    out = run(template, {"name": "<b>Lan</b>", "url": "https://vela.vn/new?x=1&y=2"}, services)
    assert out.links == ["https://vela.vn/sale?a=1&b=2", "https://vela.vn/new?x=1&y=2"]
    assert out.html == ('<p>Chào &lt;b&gt;Lan&lt;/b&gt;</p>'
                        '<a href="https://s.vela.vn/l/?k=0">Mua</a> '
                        '<a href="https://s.vela.vn/l/?k=1">Mới</a> '
                        f'<a href="{UNSUB}">Hủy</a>')
    assert out.body == "Xem https://s.vela.vn/l/?k=0"  # the text part: same link, same index
    assert out.subject == "Chào <b>Lan</b>"  # a subject is text, not HTML
    services = Services(short="https://s.vela.vn/l/a&b")
    assert 'href="https://s.vela.vn/l/a&amp;b0"' in run(template, {}, services).html


# -- the coupon ----------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "issued"), [
    ("Chào {{ first_name }}", 0),
    ("Mã {{ coupon }}", 1),
    ("Mã {{ coupon.code }}, lại là {{ coupon }}, hạn {{ coupon.expires }}", 1),
    ("{% if spend > 100 %}Mã {{ coupon }}{% endif %}", 0),  # the branch is not taken
    ("{% if coupon %}có mã{% endif %}", 0),  # testing it issues nothing
])
def test_a_coupon_is_issued_only_when_printed(body: str, issued: int) -> None:
    services = Services()
    out = run(sms_template(body), {"first_name": "Lan", "spend": 1}, services)
    assert services.issued == issued
    assert (out.coupon is not None) == bool(issued)
    if issued:
        assert out.coupon.code == "VELA8K2P"


def test_coupon_expiry_is_a_date_in_the_retailers_zone() -> None:
    template = sms_template("Hạn {{ coupon.expires }}")

    class DateCoupon(Services):
        def coupon(self) -> Coupon:
            return Coupon(expires_at=date(2026, 12, 31))

    assert run(template).body == "Hạn 01/12/2026"
    utc = RenderSettings(timezone="UTC")
    assert run(template, settings=utc).body == "Hạn 30/11/2026"
    assert run(template, services=DateCoupon()).body == "Hạn 31/12/2026"


# -- other channels ----------------------------------------------------------------------

def test_zns_params_are_rendered_from_their_mapping() -> None:
    template = Template(name="zns", title="ZNS", channel="zalo", purpose="care",
                        zns=ZnsSpec(template_id="231077", params={
                            "customer_name": "first_name | default('Quý khách')",
                            "spend": "spend | vnd", "code": "coupon",
                            "note": "Cảm ơn {{ xung_ho }}!", "link": "'https://vela.vn/don'"}))
    out = run(template, {"xung_ho": "chị", "spend": 1_250_000})
    assert out.data == {"template_id": "231077", "template_data": {
        "customer_name": "Quý khách", "spend": "1.250.000 ₫", "code": "VELA8K2P",
        "note": "Cảm ơn chị!", "link": "https://s.vela.vn/l/R0"}}
    assert out.links == ["https://vela.vn/don"] and out.sms is None


def test_push_title_body_and_tracked_url() -> None:
    template = Template(name="push", title="Push", channel="push", purpose="advertising",
                        body="Giảm 30% cho {{ favourite_brand }}",
                        push=PushSpec(title="{{ first_name }} ơi!", url="https://vela.vn/sale",
                                      icon="https://vela.vn/icon.png"))
    out = run(template, {"first_name": "Lan", "favourite_brand": "Vela"})
    assert out.data == {"title": "Lan ơi!", "body": "Giảm 30% cho Vela",
                        "url": "https://s.vela.vn/l/R0", "icon": "https://vela.vn/icon.png"}
    assert out.links == ["https://vela.vn/sale"]


def test_email_subject_is_one_line_and_labelled_when_advertising() -> None:
    template = Template(name="mail", title="M", channel="email", purpose="advertising",
                        subject="Ưu đãi cho {{ first_name }}", html="<p>Hi</p>")
    out = run(template, {"first_name": "Lan\r\nBcc: x@y.vn"})
    assert out.subject == "[QC] Ưu đãi cho Lan Bcc: x@y.vn"
    assert out.body == "" and out.html == "<p>Hi</p>"


def test_webhook_document_strings_are_rendered_and_the_rest_kept() -> None:
    template = Template(name="hook", title="H", channel="webhook", purpose="care",
                        webhook={"text": "Chào {{ first_name }}", "n": 3,
                                 "items": ["{{ spend }}", True, None, {"x": "{{ name }}"}]})
    out = run(template, {"first_name": "Lan", "spend": 5, "name": "Nguyễn Thị Lan"})
    assert out.data == {"text": "Chào Lan", "n": 3,
                        "items": ["5", True, None, {"x": "Nguyễn Thị Lan"}]}


# -- SMS length of rendered messages ---------------------------------------------------

@pytest.mark.parametrize(("literal", "name", "strip", "encoding", "parts", "per_part"), [
    ("x" * 157, "Lan", False, "gsm7", 1, 160),
    ("x" * 157, "Lanh", False, "gsm7", 2, 153),
    ("x" * 303, "Lan", False, "gsm7", 2, 153),
    ("x" * 303, "Lanh", False, "gsm7", 3, 153),
    ("ư" * 67, "Lan", False, "ucs2", 1, 70),
    ("ư" * 67, "Lanh", False, "ucs2", 2, 67),
    ("ư" * 131, "Lan", False, "ucs2", 2, 67),
    ("ư" * 131, "Lanh", False, "ucs2", 3, 67),
    ("ư" * 67, "Lanh", True, "gsm7", 1, 160),  # stripped: 71 plain letters
    ("x" * 157, "Lân", False, "ucs2", 3, 67),  # one accented letter of the name: UCS-2
    ("x" * 157, "Lân", True, "gsm7", 1, 160),
])
def test_parts_of_rendered_sms_at_the_boundaries(literal: str, name: str, strip: bool,
                                                 encoding: str, parts: int, per_part: int
                                                 ) -> None:
    out = run(sms_template(literal + "{{ first_name }}", strip=strip), {"first_name": name})
    assert (out.sms.encoding, out.sms.parts, out.sms.per_part) == (encoding, parts, per_part)


@pytest.mark.parametrize(("extra", "parts"), [(0, 1), (1, 2)])
def test_label_and_opt_out_count_in_the_length(extra: int, parts: int) -> None:
    # "[" and "]" are in GSM-7's extension table: "[QC]" takes six septets, not four.
    fixed = len(f"[QC] . {OPT_OUT_PLAIN}") + 2
    body = "x" * (160 - fixed + extra)
    out = run(sms_template(body, "advertising"))
    assert (out.sms.units, out.sms.parts) == (160 + extra, parts)


# -- the sandbox ----------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    "{{ ''.__class__ }}",
    "{{ first_name.__class__.__mro__ }}",
    "{{ coupon._issue }}",
    "{{ first_name.__init__.__globals__ }}",
    "{{ '{0.__class__}'.format(first_name) }}",
    "{{ 'x' * 1000000 }}",
    "{{ 2 ** 1000 }}",
    "{{ range(10) }}",
    "{{ lipsum() }}",
    "{{ items.append(1) }}",
    "{{ self.__init__ }}",
])
def test_the_sandbox_refuses_unsafe_templates(body: str) -> None:
    with pytest.raises(RenderError) as caught:
        run(sms_template(body), {"first_name": "Lan", "items": [1]})
    assert (caught.value.field, caught.value.rule) == ("body", "render")


@pytest.mark.parametrize("body", ["{{ first_name | attr('__class__') }}",
                                  "{{ x | map('upper') }}", "{{ first_name "])
def test_filters_outside_the_list_and_bad_syntax_do_not_compile(body: str) -> None:
    with pytest.raises(ValidationError) as caught:
        compile_template(sms_template(body, name="bad"))
    assert (caught.value.field, caught.value.rule) == ("body", "syntax")
    assert "line 1" in caught.value.message


def test_a_failure_names_the_part_and_customer_data_cannot_break_it() -> None:
    template = Template(name="p", title="P", channel="push", purpose="care", body="x",
                        push=PushSpec(title="{{ days_since_last_purchase > 3 }}"))
    with pytest.raises(RenderError) as caught:
        run(template, {})
    assert caught.value.field == "push.title"
    hostile = {"first_name": "{{ 7 * 7 }} {% raw %}", "xung_ho": "<script>"}
    assert run(sms_template("{{ xung_ho }} {{ first_name }}"), hostile).body == \
        "<script> {{ 7 * 7 }} {% raw %}"


# -- compiling ------------------------------------------------------------------------------

def test_variables_are_the_profile_fields_of_every_part() -> None:
    template = Template(name="v", title="V", channel="email", purpose="advertising",
                        subject="{{ first_name }}", body="{{ spend_text }} {{ coupon }}",
                        html="{% if spend > 1 %}{{ favourite_store_name }}{% endif %}"
                             "{{ unsubscribe_url }}")
    assert variables(template) == {"first_name", "spend_text", "spend", "favourite_store_name"}
    compiled = compile_template(template)
    assert compiled.uses_coupon and compiled.uses_unsubscribe
    zns = Template(name="z", title="Z", channel="zalo", purpose="care",
                   zns=ZnsSpec(template_id="1", params={"a": "name", "b": "{{ phone }}"}))
    assert variables(zns) == {"name", "phone"}


def test_compiled_templates_are_cached_by_name_and_version_but_never_stale() -> None:
    first = sms_template("Một {{ first_name }}", name="cached").model_copy(update={"version": 3})
    assert compile_template(first) is compile_template(first.model_copy())
    edited = first.model_copy(update={"body": "Hai {{ first_name }}"})
    assert run(edited, {"first_name": "Lan"}).body == "Hai Lan"
    assert compile_template(edited) is not compile_template(first)
