"""Previews of a real customer from the small store, with placeholder links and coupon."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from sen.errors import NotFoundError, ValidationError
from sen.messaging import templates
from sen.messaging.examples import ExampleServices
from sen.messaging.preview import preview
from sen.messaging.templates import Template

BODY = ("Chào {{ xung_ho }} {{ first_name | default('bạn') }}! Tặng mã {{ coupon }} giảm "
        "20% tại {{ favourite_store_name | default('Vela') }}: https://vela.vn/sale")


def sms(**kw: Any) -> Template:
    return Template(**{"name": "sale", "title": "Sale", "channel": "sms",
                       "purpose": "advertising", "body": BODY} | kw)


def test_an_sms_preview_shows_both_spellings_with_their_price(store: Any, ops: sa.Engine
                                                              ) -> None:
    services = ExampleServices("https://s.vela.vn")
    got = preview(store, ops, sms(), "p_lan", services, price_per_part=800)
    accented = ("[QC] Chào chị Lan! Tặng mã VIDU1234 giảm 20% tại Cầu Giấy: "
                "https://s.vela.vn/l/VIDU0000. Từ chối QC: https://s.vela.vn/u/VIDU0000")
    assert got.rendered.body == accented and got.sends == "accented"
    assert got.context == {"xung_ho": "chị", "first_name": "Lan",
                           "favourite_store_name": "Cầu Giấy"}
    a, s = got.sms["accented"], got.sms["stripped"]
    assert (a.text, a.encoding, a.units, a.parts, a.cost) == (accented, "ucs2", 129, 2, 1600)
    assert s.text == ("[QC] Chao chi Lan! Tang ma VIDU1234 giam 20% tai Cau Giay: "
                      "https://s.vela.vn/l/VIDU0000. Tu choi QC: https://s.vela.vn/u/VIDU0000")
    assert (s.encoding, s.units, s.parts, s.per_part, s.cost) == ("gsm7", 131, 1, 160, 800)
    assert len(accented) == len(s.text) == 129  # "[" and "]" take two septets each
    assert services.issued == 1  # two renderings, one (example) coupon
    assert set(got.examples) == {"links", "coupon", "unsubscribe_url"}
    assert all(vi and en for vi, en in got.examples.values())


def test_a_stripped_template_sends_the_stripped_version(store: Any, ops: sa.Engine) -> None:
    got = preview(store, ops, sms(strip_diacritics=True), "p_minh")
    assert got.sends == "stripped" and got.rendered.body == got.sms["stripped"].text
    assert got.rendered.body.startswith("[QC] Chao anh Minh! Tang ma VIDU1234 giam 20% tai Vela")
    assert got.sms["accented"].cost is None  # no price given


def test_a_saved_template_by_name_and_a_merged_customer(store: Any, ops: sa.Engine) -> None:
    templates.save(ops, sms(purpose="care", body="Chào {{ first_name | default('bạn') }}"))
    got = preview(store, ops, "sale", "p_old")  # p_old was merged into p_lan
    assert (got.profile_id, got.rendered.body, got.examples) == ("p_lan", "Chào Lan", {})


def test_the_stored_opt_out_setting_is_used(store: Any, ops: sa.Engine) -> None:
    templates.save_render_settings(ops, {"sms_opt_out": "Tu choi QC soan TC gui 8077"})
    got = preview(store, ops, sms(body="Sale {{ first_name or 'bạn' }}"), "p_tuan")
    assert got.rendered.body == "[QC] Sale bạn. Tu choi QC soan TC gui 8077"


def test_an_email_preview(store: Any, ops: sa.Engine) -> None:
    email = Template(name="mail", title="M", channel="email", purpose="care",
                     subject="{{ first_name or 'Bạn' }} ơi, đơn đã giao",
                     html='<p>Chi tiêu: {{ spend_text }}</p><a href="https://vela.vn/don">Xem</a>')
    got = preview(store, ops, email, "p_hoa")
    assert got.rendered.subject == "Hoa ơi, đơn đã giao"
    assert got.rendered.html == ('<p>Chi tiêu: 700.000 ₫</p>'
                                 '<a href="https://sen.example/l/VIDU0000">Xem</a>')
    assert got.sms is None and set(got.examples) == {"links"}


def test_unknown_customers_and_broken_templates_say_so(store: Any, ops: sa.Engine) -> None:
    with pytest.raises(NotFoundError):
        preview(store, ops, sms(), "nobody")
    with pytest.raises(NotFoundError):
        preview(store, ops, "no-such-template", "p_lan")
    with pytest.raises(ValidationError) as caught:
        preview(store, ops, sms(name="broken", body="{{ first_name "), "p_lan")
    assert caught.value.rule == "syntax"
