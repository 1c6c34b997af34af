"""Checks run on a template when it is saved, each problem shown beside its field.

A :class:`Problem` names the field (``body``, ``subject``, ``zns.params.ten``…),
the rule, and says what to do in Vietnamese and in English. Errors stop the
save; warnings are shown and the template is saved.

Rules, in the order they run: parts that do not belong to the channel and
parts the channel needs (``not_for_channel``, ``required``); template syntax
with the line (``syntax``); names that are not customer fields
(``unknown_variable``); private attributes (``unsafe``); fields that can be
empty printed without a fallback (``empty_without_fallback``); links written
without ``https://``, which cannot be tracked (``untracked_link``); an
advertising SMS or email subject that types its own ``[QC]`` (``label_typed``)
or SMS opt-out (``opt_out_typed``); ZNS parameters mapped to nothing
(``zns_unmapped``); and finally a trial render with the fields' examples
(``render``) and with every field that can be empty left empty
(``fails_when_empty``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from jinja2 import TemplateSyntaxError, meta, nodes

from sen.errors import ValidationError
from sen.messaging import sms
from sen.messaging.compiling import SERVICE_VARIABLES, compile_template
from sen.messaging.context import Field
from sen.messaging.examples import ExampleServices
from sen.messaging.model import Channel, Purpose
from sen.messaging.render import RenderError, render
from sen.messaging.sandbox import HTML, TEXT, URL, Part, parts

Severity = Literal["error", "warning"]
# A web address typed without its scheme: vela.vn/sale, www.vela.com.vn.
_BARE_LINK = re.compile(
    r"(?i)(?<![\w@./:-])(?:www\.)?(?:[a-z0-9-]+\.)+"
    r"(?:vn|com|net|org|info|biz|shop|store|online|site|xyz|asia|io|co|me|app)\b"
    r"(?:/[^\s<>\"'`]*)?")
_UPPER_SCHEME = re.compile(r"(?i)https?://[^\s<>\"'`]+")
_LABEL = re.compile(r"(?i)\[\s*(?:QC|AD|ADV)\s*\]")
_OPT_OUT = re.compile(r"(?i)\btu choi\b|\bsoan tc\b")
_WHAT = {"subject": ("tiêu đề", "a subject"), "html": ("nội dung HTML", "HTML"),
         "body": ("nội dung văn bản", "a text"), "zns": ("tham số ZNS", "ZNS parameters"),
         "push": ("phần thông báo đẩy", "push settings"),
         "webhook": ("nội dung webhook", "a webhook body"),
         "strip_diacritics": ("bỏ dấu tiếng Việt", "diacritics stripping")}
_PARTS = {Channel.SMS: {"body", "strip_diacritics"}, Channel.EMAIL: {"subject", "body", "html"},
          Channel.ZALO: {"zns"}, Channel.PUSH: {"body", "push"}, Channel.WEBHOOK: {"webhook"}}


@dataclass(frozen=True)
class Problem:
    field: str
    rule: str
    severity: Severity
    message_vi: str
    message_en: str

    def message(self, lang: str) -> str:
        return self.message_en if lang == "en" else self.message_vi

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "rule": self.rule, "severity": self.severity,
                "message": {"vi": self.message_vi, "en": self.message_en}}


def _present(template: Any, name: str) -> bool:
    value = getattr(template, name)
    return bool(value) if name in ("body", "strip_diacritics") else value is not None


def _structure(t: Any) -> Iterator[Problem]:
    """Parts the channel has no use for, and parts it cannot do without."""
    channel = Channel(t.channel)
    for name, (vi, en) in _WHAT.items():
        if name not in _PARTS[channel] and _present(t, name):
            yield Problem(name, "not_for_channel", "error",
                          f"Kênh {channel} không dùng {vi}; hãy bỏ trống.",
                          f"{channel} templates have no {en}; leave it empty.")
    need: list[tuple[str, bool, str, str]] = {
        Channel.SMS: [("body", bool(t.body), "Tin SMS cần có nội dung.", "An SMS needs a text.")],
        Channel.EMAIL: [
            ("subject", bool((t.subject or "").strip()), "Email cần có tiêu đề.",
             "An email needs a subject."),
            ("html", bool(t.html or t.body), "Email cần có nội dung (HTML hoặc văn bản).",
             "An email needs content (HTML or text).")],
        Channel.ZALO: [("zns.template_id", bool(t.zns and t.zns.template_id.strip()),
                        "Nhập mã mẫu ZNS (template_id) đã đăng ký với Zalo.",
                        "Enter the ZNS template id registered at Zalo.")],
        Channel.PUSH: [("push.title", bool(t.push and t.push.title.strip()),
                        "Thông báo đẩy cần có tiêu đề.", "A push notification needs a title.")],
        Channel.WEBHOOK: [("webhook", bool(t.webhook), "Webhook cần có nội dung JSON.",
                           "A webhook needs a JSON body.")],
    }[channel]
    for name, ok, vi, en in need:
        if not ok:
            yield Problem(name, "required", "error", vi, en)
    if channel is Channel.ZALO and t.zns is not None:
        for param, expression in t.zns.params.items():
            if not expression.strip():
                yield Problem(f"zns.params.{param}", "zns_unmapped", "error",
                              f"Tham số ZNS '{param}' chưa được gán trường nào; chọn một "
                              "trường (ví dụ first_name) hoặc nhập biểu thức.",
                              f"The ZNS parameter '{param}' is not mapped; pick a field "
                              "(e.g. first_name) or type an expression.")


def _names_in(node: nodes.Node) -> set[str]:
    found = {n.name for n in node.find_all(nodes.Name)}
    return found | {node.name} if isinstance(node, nodes.Name) else found


def unguarded(ast: nodes.Template) -> set[str]:
    """Names used with no fallback: not inside ``| default(…)``, not the left side of
    ``or``, and never tested by an ``if``."""
    tested = {name for node in ast.find_all((nodes.If, nodes.CondExpr))
              for name in _names_in(node.test)}
    found: set[str] = set()

    def walk(node: nodes.Node, guarded: bool) -> None:
        if isinstance(node, nodes.Filter) and node.name in ("default", "d"):
            if node.node is not None:
                walk(node.node, True)
            for child in (*node.args, *node.kwargs):
                walk(child, guarded)
            return
        if isinstance(node, nodes.Or):
            walk(node.left, True)
            walk(node.right, guarded)
            return
        if isinstance(node, nodes.Name) and node.ctx == "load" and not guarded:
            found.add(node.name)
        for child in node.iter_child_nodes():
            walk(child, guarded)

    walk(ast, False)
    return found - tested


def _literals(ast: nodes.Template) -> Iterator[str]:
    for node in ast.find_all((nodes.TemplateData, nodes.Const)):
        if isinstance(node.data if isinstance(node, nodes.TemplateData) else node.value, str):
            yield node.data if isinstance(node, nodes.TemplateData) else node.value


def _part(part: Part, t: Any, known: Mapping[str, Field]) -> Iterator[Problem]:
    env = HTML if part.html else TEXT
    try:
        ast = env.parse(part.source)
        names = meta.find_undeclared_variables(ast)  # also finds unknown filters
    except TemplateSyntaxError as exc:
        yield Problem(part.field, "syntax", "error",
                      f"Lỗi cú pháp ở dòng {exc.lineno}: {exc.message}. Kiểm tra các dấu "
                      "{{ }} và {% %}.",
                      f"Syntax error on line {exc.lineno}: {exc.message}. Check the {{ }} "
                      "and {% %} marks.")
        return
    allowed = known.keys() | SERVICE_VARIABLES
    # Jinja's own "self" is not reported as undeclared
    names |= {n.name for n in ast.find_all(nodes.Name) if n.name == "self"}
    for name in sorted(names - allowed):
        close = difflib.get_close_matches(name, list(allowed), n=1)
        hint_vi = f" Có phải là '{close[0]}'?" if close else ""
        hint_en = f" Did you mean '{close[0]}'?" if close else ""
        yield Problem(part.field, "unknown_variable", "error",
                      f"'{name}' không phải là trường thông tin khách hàng; chọn trường trong "
                      f"danh sách.{hint_vi}",
                      f"'{name}' is not a customer field; pick one from the list.{hint_en}")
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        key = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", "")
        if isinstance(key, str) and key.startswith("_"):
            yield Problem(part.field, "unsafe", "error",
                          f"Mẫu tin không được đọc thuộc tính nội bộ '{key}'.",
                          f"Templates may not read the internal attribute '{key}'.")
    for name in sorted(n for n in unguarded(ast) if n in known and known[n].can_be_empty):
        yield Problem(part.field, "empty_without_fallback", "warning",
                      f"'{name}' có thể trống với một số khách hàng; thêm giá trị thay thế, ví "
                      f"dụ {{{{ {name} | default('bạn') }}}} hoặc {{{{ {name} or 'bạn' }}}}.",
                      f"'{name}' can be empty for some customers; add a fallback, e.g. "
                      f"{{{{ {name} | default('bạn') }}}} or {{{{ {name} or 'bạn' }}}}.")
    for text in _literals(ast):
        for m in _UPPER_SCHEME.finditer(URL.sub(" ", text)):
            yield Problem(part.field, "untracked_link", "warning",
                          f"Viết 'http' của liên kết '{m.group()}' bằng chữ thường để đếm "
                          "được lượt bấm.",
                          f"Write the 'http' of '{m.group()}' in lower case so its clicks "
                          "are counted.")
        for m in _BARE_LINK.finditer(_UPPER_SCHEME.sub(" ", URL.sub(" ", text))):
            link = m.group().rstrip(".,;:!?)")
            yield Problem(part.field, "untracked_link", "warning",
                          f"Liên kết '{link}' thiếu https:// nên không rút gọn và đếm lượt bấm "
                          f"được; hãy viết https://{link}.",
                          f"The link '{link}' has no https://, so it cannot be shortened or "
                          f"its clicks counted; write https://{link}.")
    yield from _advertising(part, t)


def _advertising(part: Part, t: Any) -> Iterator[Problem]:
    if Purpose(t.purpose) is not Purpose.ADVERTISING:
        return
    channel = Channel(t.channel)
    if (channel, part.field) in ((Channel.SMS, "body"), (Channel.EMAIL, "subject")):
        found = _LABEL.search(part.source)
        if found:
            yield Problem(part.field, "label_typed", "error",
                          f"Không tự gõ {found.group()}: Sen tự thêm nhãn quảng cáo vào đầu "
                          "tin (Nghị định 91/2020).",
                          f"Do not type {found.group()}: Sen adds the advertising label at the "
                          "start (decree 91/2020).")
    if channel is Channel.SMS and part.field == "body" and \
            _OPT_OUT.search(sms.strip_diacritics(part.source)):
        yield Problem(part.field, "opt_out_typed", "warning",
                      "Sen tự thêm cách từ chối nhận tin vào cuối tin quảng cáo; bỏ phần bạn "
                      "đã gõ để tin không bị lặp.",
                      "Sen adds how to refuse at the end of advertising SMS; remove yours so "
                      "it is not said twice.")


def _trial(t: Any, known: Mapping[str, Field]) -> Iterator[Problem]:
    """Render with the examples, then with every field that can be empty left empty."""
    try:
        compiled = compile_template(t)
    except ValidationError:
        return  # reported by the syntax rule
    examples = {n: f.example for n, f in known.items() if n in compiled.variables}
    empties = {n: (None if known[n].can_be_empty else v) for n, v in examples.items()}
    for values, rule, severity in ((examples, "render", "error"),
                                   (empties, "fails_when_empty", "warning")):
        try:
            render(compiled, values, ExampleServices())
        except RenderError as exc:
            detail = str(exc.__cause__ or exc)
            vi = (f"Mẫu tin lỗi khi tạo thử: {detail}." if rule == "render" else
                  f"Mẫu tin lỗi với khách hàng thiếu thông tin: {detail}. Thêm giá trị thay "
                  "thế (| default(…) hoặc or …).")
            en = (f"The template fails on a trial render: {detail}." if rule == "render" else
                  f"The template fails for customers with empty fields: {detail}. Add "
                  "fallbacks (| default(…) or or …).")
            yield Problem(exc.field or "body", rule, severity, vi, en)
            return


def _coupon_pool(t: Any) -> Iterator[Problem]:
    try:
        compiled = compile_template(t)
    except ValidationError:
        return
    if compiled.uses_coupon and not getattr(t, "coupon_pool", None):
        yield Problem("coupon_pool", "coupon_pool_missing", "error",
                      "Mẫu tin in mã giảm giá nhưng chưa chọn kho mã: hãy chọn kho mã để mỗi "
                      "tin nhận một mã riêng.",
                      "The template prints a coupon but names no coupon pool: choose one so "
                      "each message gets its own code.")


def check(template: Any, fields: Iterable[Field] | Mapping[str, Field]) -> list[Problem]:
    """Every problem of ``template`` against the field catalogue ``fields``."""
    known = dict(fields) if isinstance(fields, Mapping) else {f.name: f for f in fields}
    problems = list(_structure(template)) + list(_coupon_pool(template))
    for part in parts(template):
        if part.field.split(".")[0] in _PARTS[Channel(template.channel)] and part.source:
            problems += _part(part, template, known)
    if not any(p.severity == "error" for p in problems):
        problems += _trial(template, known)
    return problems
