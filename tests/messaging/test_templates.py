"""The template store on SQLite and PostgreSQL: versions, archive, checks on save, settings."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from sen.errors import ConflictError, NotFoundError, ValidationError
from sen.messaging import context, templates
from sen.messaging.render import DEFAULT_SETTINGS, RenderSettings
from sen.messaging.templates import PushSpec, Template, TemplateProblems, ZnsSpec

SMS = {"name": "sale-11", "title": "Sale 11/11", "channel": "sms", "purpose": "advertising",
       "body": "Chào {{ first_name | default('bạn') }}, giảm 50% tại https://vela.vn/sale",
       "strip_diacritics": True}


def save(ops: sa.Engine, data: dict[str, Any], **kw: Any) -> templates.Saved:
    return templates.save(ops, templates.parse(data), **kw)


def test_save_get_and_list(ops: sa.Engine) -> None:
    saved = save(ops, SMS, actor="lan")
    assert (saved.template.version, saved.changed, saved.problems) == (1, True, [])
    got = templates.get(ops, "sale-11")
    assert got.model_dump(exclude={"updated_at"}) == templates.parse(SMS).model_dump(
        exclude={"updated_at"}) | {"version": 1, "created_by": "lan"}
    save(ops, {**SMS, "name": "welcome", "purpose": "care", "body": "Chào mừng!"})
    save(ops, {"name": "zns-order", "title": "Đơn hàng", "channel": "zalo", "purpose": "care",
               "zns": {"template_id": "231077", "params": {"ten": "first_name or 'bạn'"}}})
    assert [t.name for t in templates.list_templates(ops)] == ["sale-11", "welcome",
                                                               "zns-order"]
    assert [t.name for t in templates.list_templates(ops, channel="zalo")] == ["zns-order"]


def test_channel_parts_survive_the_store(ops: sa.Engine) -> None:
    originals = [
        Template(name="z", title="Z", channel="zalo", purpose="care",
                 zns=ZnsSpec(template_id="42", params={"ten": "first_name | default('bạn')"})),
        Template(name="p", title="P", channel="push", purpose="advertising", body="Giảm 30%",
                 push=PushSpec(title="Sale", url="https://vela.vn/sale", icon="https://i")),
        Template(name="w", title="W", channel="webhook", purpose="care",
                 webhook={"text": "{{ name or 'x' }}", "n": [1, True, None]}),
        Template(name="e", title="E", channel="email", purpose="care", subject="Chào",
                 html="<p>{{ first_name or 'bạn' }}</p>", body="Chào"),
    ]
    for t in originals:
        templates.save(ops, t)
        got = templates.get(ops, t.name)
        assert got.model_dump(exclude={"updated_at", "version"}) == t.model_dump(
            exclude={"updated_at", "version"})


def test_the_version_goes_up_when_the_content_changes_only(ops: sa.Engine) -> None:
    save(ops, SMS)
    retitled = save(ops, {**SMS, "title": "Sale lớn"})
    assert (retitled.template.version, retitled.changed, retitled.template.title) == (
        1, False, "Sale lớn")
    assert save(ops, {**SMS, "body": "Giảm 60%"}).template.version == 2
    assert save(ops, {**SMS, "body": "Giảm 60%", "strip_diacritics": False}).template.version \
        == 3
    assert save(ops, {**SMS, "body": "Giảm 60%", "purpose": "care"}).template.version == 4
    assert save(ops, {**SMS, "body": "Giảm 60%", "purpose": "care", "version": 4}
                ).template.version == 4


def test_a_stale_edit_and_a_channel_change_are_refused(ops: sa.Engine) -> None:
    save(ops, SMS)
    save(ops, {**SMS, "body": "Giảm 60%"})
    with pytest.raises(ConflictError) as stale:
        save(ops, {**SMS, "body": "Giảm 70%", "version": 1})
    assert stale.value.details == {"version": 2}
    with pytest.raises(ValidationError) as channel:
        save(ops, {**SMS, "channel": "push", "body": "x", "strip_diacritics": False,
                   "push": {"title": "t"}})
    assert (channel.value.field, channel.value.rule) == ("channel", "immutable")
    assert templates.get(ops, "sale-11").body == "Giảm 60%"


def test_archived_templates_cannot_be_used_or_edited_until_restored(ops: sa.Engine) -> None:
    save(ops, SMS)
    assert templates.archive(ops, "sale-11").archived
    with pytest.raises(ConflictError, match="archived"):
        templates.get_usable(ops, "sale-11")
    with pytest.raises(ConflictError, match="Restore"):
        save(ops, {**SMS, "body": "x"})
    assert templates.list_templates(ops) == []
    assert [t.name for t in templates.list_templates(ops, archived=True)] == ["sale-11"]
    templates.restore(ops, "sale-11")
    assert templates.get_usable(ops, "sale-11").version == 1
    with pytest.raises(NotFoundError):
        templates.archive(ops, "nothing")
    with pytest.raises(NotFoundError):
        templates.get(ops, "nothing")


def test_errors_refuse_the_save_and_warnings_come_back(ops: sa.Engine) -> None:
    with pytest.raises(TemplateProblems) as caught:
        save(ops, {**SMS, "body": "[QC] {{ fist_name }} vela.vn/sale"})
    assert (caught.value.field, caught.value.rule) == ("body", "unknown_variable")
    assert {(p.rule, p.severity) for p in caught.value.problems} == {
        ("unknown_variable", "error"), ("label_typed", "error"), ("untracked_link", "warning")}
    with pytest.raises(NotFoundError):
        templates.get(ops, "sale-11")
    saved = save(ops, {**SMS, "body": "Chào {{ first_name }}"})
    assert [(p.field, p.rule) for p in saved.problems] == [("body", "empty_without_fallback")]


def test_user_defined_traits_need_the_stores_field_list(ops: sa.Engine, store: Any) -> None:
    data = {**SMS, "body": "Bạn đã ghé {{ visits | default(0) }} lần"}
    with pytest.raises(TemplateProblems):
        save(ops, data)
    assert save(ops, data, fields=context.fields(store)).template.version == 1


@pytest.mark.parametrize(("data", "field", "rule"), [
    ({**SMS, "name": "Sale 11"}, "name", "string_pattern_mismatch"),
    ({**SMS, "title": ""}, "title", "string_too_short"),
    ({**SMS, "channel": "fax"}, "channel", "enum"),
    ({**SMS, "colour": "red"}, "colour", "extra_forbidden"),
    ({**SMS, "zns": {"template_id": "1", "params": {"tên khách": "name"}}}, "zns.params",
     "value_error"),
    ({key: v for key, v in SMS.items() if key != "purpose"}, "purpose", "missing"),
])
def test_parse_names_the_field(data: dict, field: str, rule: str) -> None:
    with pytest.raises(ValidationError) as caught:
        templates.parse(data)
    assert (caught.value.field, caught.value.rule) == (field, rule)


def test_render_settings_are_stored(ops: sa.Engine) -> None:
    assert templates.render_settings(ops) == DEFAULT_SETTINGS
    keyword = {"advertising_label": "[AD]", "sms_opt_out": "Tu choi QC soan TC gui 8077"}
    templates.save_render_settings(ops, keyword, actor="admin")
    assert templates.render_settings(ops) == RenderSettings(**keyword)
    templates.save_render_settings(ops, RenderSettings())
    assert templates.render_settings(ops) == DEFAULT_SETTINGS
    with pytest.raises(ValidationError) as caught:
        templates.save_render_settings(ops, {"advertising_label": "[XX]"})
    assert caught.value.field == "advertising_label"
