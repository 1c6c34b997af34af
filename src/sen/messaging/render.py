"""Rendering a template for one customer: fields, tracked links, a coupon, SMS rules.

:func:`compile_template` (:mod:`sen.messaging.compiling`) turns a template
into code once per (name, version); :func:`render` fills it with one customer's context and the
:class:`Services` of that message:

* every ``http(s)`` URL in the text and HTML output becomes the short link
  ``services.shorten(url, index)`` returns (unique per recipient: the caller
  decides how); the original URLs are kept in order in :attr:`Rendered.links`,
  each once;
* ``services.coupon()`` is called only when the template prints ``coupon``
  (``{{ coupon }}`` is the code; ``coupon.offer`` and ``coupon.expires`` too);
* an advertising SMS starts with ``[QC]`` and ends with how to refuse
  (:class:`RenderSettings`), as decree 91/2020 requires; an advertising
  email's subject starts with the label as well;
* an SMS whose template says so goes without diacritics, label and opt-out
  included.

Rendering is on the path of every message, so the work that does not depend
on the customer (parsing, stripping the template's own text) happens at
compile time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from jinja2.exceptions import TemplateError
from pydantic import BaseModel, ConfigDict, Field, field_validator

from sen.errors import ValidationError
from sen.messaging import sms
from sen.messaging.compiling import (
    SERVICE_VARIABLES,
    Compiled,
    Leaf,
    compile_template,
    variables,
)
from sen.messaging.model import Channel, Purpose
from sen.messaging.shortening import Links

__all__ = ["DEFAULT_SETTINGS", "SERVICE_VARIABLES", "Compiled", "CouponLike", "LazyCoupon",
           "RenderError", "RenderSettings", "Rendered", "Services", "advertising_sms",
           "compile_template", "local_date", "render", "variables"]

class CouponLike(Protocol):
    code: str
    offer: str
    expires_at: datetime | date | None  # naive UTC when a moment


class Services(Protocol):
    """What rendering one message needs from its sender."""

    @property
    def unsubscribe_url(self) -> str: ...

    def shorten(self, url: str, index: int) -> str: ...

    def coupon(self) -> CouponLike: ...


class RenderSettings(BaseModel):
    """How advertising is marked. ``sms_opt_out`` ends every advertising SMS;
    ``{unsubscribe_url}`` in it becomes the message's unsubscribe link (the
    keyword form, ``Tu choi QC soan TC gui 8077``, needs the brandname's short
    code). It is sent without diacritics whenever the rest of the message is
    GSM-7, so it never doubles the price of a plain message."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    advertising_label: Literal["[QC]", "[AD]"] = "[QC]"
    sms_opt_out: str = Field("Từ chối QC: {unsubscribe_url}", min_length=5, max_length=100)
    timezone: str = "Asia/Ho_Chi_Minh"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (KeyError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Ho_Chi_Minh)") from exc
        return value


DEFAULT_SETTINGS = RenderSettings()


@dataclass(slots=True)
class Rendered:
    """A message ready for its provider. ``body`` is the SMS text, the email's text
    part or the push body; ``data`` holds ZNS ``template_id``/``template_data``, the
    push ``title``/``body``/``url``/``icon`` or the webhook document; ``coupon`` is
    the coupon issued for it, if any; ``sms`` its length and parts."""

    body: str = ""
    subject: str | None = None
    html: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    links: list[str] = field(default_factory=list)
    coupon: Any = None
    sms: sms.SmsLength | None = None


class RenderError(ValidationError):
    """A template failed for one customer (a sandbox refusal, a comparison with an
    empty value): terminal for that message; ``field`` names the template's part."""


_DATES: dict[tuple, str] = {}


def local_date(moment: datetime | date | None, timezone: str) -> str:
    """``23/11/2026``: a date as it is, a (naive UTC) moment in the retailer's zone.

    A day changes only on a whole minute in any zone, so the answer is kept per
    minute: a broadcast issues its coupons within a few of them."""
    if moment is None:
        return ""
    if not isinstance(moment, datetime):
        return f"{moment.day:02d}/{moment.month:02d}/{moment.year}"
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    key = (moment.year, moment.month, moment.day, moment.hour, moment.minute, timezone)
    text = _DATES.get(key)
    if text is None:
        day = moment.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone))
        text = f"{day.day:02d}/{day.month:02d}/{day.year}"
        if len(_DATES) >= 10_000:
            _DATES.clear()
        _DATES[key] = text
    return text


class LazyCoupon:
    """``coupon`` as a template sees it: issued on first use, never otherwise."""

    __slots__ = ("_issue", "_coupon", "_timezone", "_strip")

    def __init__(self, issue: Callable[[], CouponLike], timezone: str, strip: bool) -> None:
        self._issue, self._coupon, self._timezone, self._strip = issue, None, timezone, strip

    def _get(self) -> CouponLike:
        if self._coupon is None:
            self._coupon = self._issue()
        return self._coupon

    @property
    def code(self) -> str:
        return str(self._get().code)

    @property
    def offer(self) -> str:
        offer = self._get().offer or ""
        return sms.strip_diacritics(offer) if self._strip else offer

    @property
    def expires(self) -> str:
        return local_date(self._get().expires_at, self._timezone)

    def __str__(self) -> str:
        return self.code


@lru_cache(maxsize=64)
def _opt_out(text: str, strip: bool) -> tuple[str, str | None]:
    """The opt-out instruction around its link: (before, after), after None if none."""
    text = sms.strip_diacritics(text) if strip else text
    before, found, after = text.partition("{unsubscribe_url}")
    return before, (after if found else None)


def advertising_sms(body: str, unsubscribe_url: str, settings: RenderSettings,
                    strip: bool) -> str:
    """``[QC] <body>. <how to refuse>``: the label first, the opt-out last."""
    text = body.strip()
    before, after = _opt_out(settings.sms_opt_out, strip or sms.encoding(text) == "gsm7")
    instruction = before if after is None else f"{before}{unsubscribe_url}{after}"
    if not text:
        return f"{settings.advertising_label} {instruction}"
    sep = " " if text[-1] in ".!?" else ". "
    return f"{settings.advertising_label} {text}{sep}{instruction}"


_PLAIN: dict[str, str] = {}


def _plain(text: str) -> str:
    """A value without diacritics. Values repeat (given names, anh/chị, stores), so
    short ones are remembered, up to a bound."""
    if text.isascii():
        return text
    plain = _PLAIN.get(text)
    if plain is None:
        plain = sms.strip_diacritics(text)
        if len(text) <= 40 and len(_PLAIN) < 100_000:
            _PLAIN[text] = plain
    return plain


def _run(compiled: Compiled, name: str, values: dict[str, Any]) -> str:
    try:
        return compiled.parts[name](values)
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise RenderError(f"Template '{compiled.name}', {name}: {exc}. Check the template "
                          "(and the fallbacks of fields that can be empty).", field=name,
                          rule="render") from exc


def _sms(c: Compiled, values: dict, links: Links, services: Services,
         settings: RenderSettings, out: Rendered) -> None:
    body = links.text(_run(c, "body", values)) if "body" in c.parts else ""
    if c.strip and not body.isascii():
        body = sms.strip_diacritics(body)
    if c.purpose is Purpose.ADVERTISING:
        body = advertising_sms(body, services.unsubscribe_url, settings, c.strip)
    out.body, out.sms = body, sms.measure(body)


def _email(c: Compiled, values: dict, links: Links, services: Services,
           settings: RenderSettings, out: Rendered) -> None:
    subject = " ".join(_run(c, "subject", values).split()) if "subject" in c.parts else ""
    if c.purpose is Purpose.ADVERTISING:
        subject = f"{settings.advertising_label} {subject}".strip()
    out.subject = subject
    out.body = links.text(_run(c, "body", values)) if "body" in c.parts else ""
    out.html = links.html(_run(c, "html", values)) if "html" in c.parts else None


def _push(c: Compiled, values: dict, links: Links, services: Services,
          settings: RenderSettings, out: Rendered) -> None:
    def part(name: str) -> str:
        return _run(c, name, values).strip() if name in c.parts else ""

    out.body = part("body")
    url = part("push.url")
    out.data = {"title": part("push.title"), "body": out.body,
                "url": links.text(url) if url else "", "icon": part("push.icon")}


def _zalo(c: Compiled, values: dict, links: Links, services: Services,
          settings: RenderSettings, out: Rendered) -> None:
    params = {name.removeprefix("zns.params."): links.text(_run(c, name, values).strip())
              for name in c.parts if name.startswith("zns.params.")}
    out.data = {"template_id": c.zns_template_id, "template_data": params}


def _webhook(c: Compiled, values: dict, links: Links, services: Services,
             settings: RenderSettings, out: Rendered) -> None:
    def fill(node: Any) -> Any:
        if isinstance(node, Leaf):
            return _run(c, node.field, values)
        if isinstance(node, dict):
            return {k: fill(v) for k, v in node.items()}
        if isinstance(node, list):
            return [fill(v) for v in node]
        return node

    out.data = fill(c.webhook) if c.webhook is not None else {}


_CHANNELS = {Channel.SMS: _sms, Channel.EMAIL: _email, Channel.PUSH: _push,
             Channel.ZALO: _zalo, Channel.WEBHOOK: _webhook}


def render(compiled: Compiled, context: Mapping[str, Any], services: Services,
           settings: RenderSettings = DEFAULT_SETTINGS) -> Rendered:
    """One customer's message. ``context`` holds her field values (``None`` and ``""``
    count as empty, so ``default`` and ``or`` fall back); raises :class:`RenderError` when the
    template fails for her."""
    if compiled.strip:
        values = {k: _plain(v) if type(v) is str else v
                  for k, v in context.items() if v is not None and v != ""}
    else:
        values = {k: v for k, v in context.items() if v is not None and v != ""}
    coupon = None
    if compiled.uses_coupon:
        coupon = values["coupon"] = LazyCoupon(services.coupon, settings.timezone,
                                               compiled.strip)
    if compiled.uses_unsubscribe:
        values["unsubscribe_url"] = services.unsubscribe_url
    links = Links(services.shorten, values.get("unsubscribe_url"))
    out = Rendered()
    _CHANNELS[compiled.channel](compiled, values, links, services, settings, out)
    out.links = links.urls
    out.coupon = coupon._coupon if coupon is not None else None
    return out


