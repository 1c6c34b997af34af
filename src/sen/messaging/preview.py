"""A template rendered for one real customer, before anything is sent.

The customer's own fields fill the template; links and the coupon are
placeholders of the real length, plainly marked as examples (``VIDU`` is *ví
dụ*, example), and nothing is issued or recorded. For SMS the preview shows
the message with and without diacritics, each with its encoding, parts and
price, since that is the choice that decides what a campaign costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from sen.errors import NotFoundError
from sen.identity.profiles import current_id
from sen.messaging import sms, templates
from sen.messaging.context import DEFAULT_TIMEZONE, profile_context
from sen.messaging.examples import ExampleServices
from sen.messaging.model import Channel
from sen.messaging.render import CouponLike, Rendered, Services, compile_template, render

EXAMPLES = {
    "links": ("Liên kết rút gọn là ví dụ (VIDU…); mỗi khách hàng nhận liên kết riêng khi gửi.",
              "Short links are examples (VIDU…); each customer gets her own when sent."),
    "coupon": ("Mã giảm giá là ví dụ (VIDU1234); mã thật được cấp khi gửi.",
               "The coupon code is an example (VIDU1234); a real one is issued when sent."),
    "unsubscribe_url": ("Liên kết từ chối nhận tin là ví dụ.",
                        "The unsubscribe link is an example."),
}


@dataclass(frozen=True)
class SmsVersion:
    """One way of sending an SMS: its text, encoding, length and price."""

    text: str
    encoding: str
    units: int
    parts: int
    per_part: int
    cost: int | None  # VND at the given price per part

    @classmethod
    def of(cls, text: str, price_per_part: int | None) -> SmsVersion:
        m = sms.measure(text)
        cost = m.parts * price_per_part if price_per_part is not None else None
        return cls(text, m.encoding, m.units, m.parts, m.per_part, cost)


@dataclass(frozen=True)
class Preview:
    """``rendered`` is the message as it would be sent; ``sms`` holds, for an SMS,
    the ``accented`` and ``stripped`` versions, ``sends`` which one the template
    sends; ``examples`` says which parts are placeholders (vi, en)."""

    profile_id: str
    context: dict[str, Any]
    rendered: Rendered
    sms: dict[str, SmsVersion] | None = None
    sends: str | None = None
    examples: dict[str, tuple[str, str]] = field(default_factory=dict)


class _Once:
    """Services that answer each question once, so rendering twice issues nothing twice."""

    def __init__(self, services: Services) -> None:
        self._services, self._coupon, self._links = services, None, {}

    @property
    def unsubscribe_url(self) -> str:
        return self._services.unsubscribe_url

    def shorten(self, url: str, index: int) -> str:
        if (url, index) not in self._links:
            self._links[url, index] = self._services.shorten(url, index)
        return self._links[url, index]

    def coupon(self) -> CouponLike:
        if self._coupon is None:
            self._coupon = self._services.coupon()
        return self._coupon


def preview(engine: Any, ops: sa.Engine, template: templates.Template | str, profile_id: str,
            services: Services | None = None, *, price_per_part: int | None = None,
            timezone: str = DEFAULT_TIMEZONE) -> Preview:
    """Render ``template`` (or the saved template of that name) for ``profile_id`` (a
    merged profile's old id is followed). Raises :class:`NotFoundError` for an
    unknown customer and :class:`~sen.errors.ValidationError` for a broken template."""
    if isinstance(template, str):
        template = templates.get(ops, template)
    pid = current_id(engine.cursor(), profile_id)
    if pid is None:
        raise NotFoundError(f"There is no customer {profile_id!r}.",
                            hint="Look the customer up by phone, email or name and pick one.")
    settings = templates.render_settings(ops)
    settings = settings.model_copy(update={"timezone": timezone})
    compiled = compile_template(template)
    values = profile_context(engine, [pid], compiled.variables, timezone=timezone).get(pid, {})
    once = _Once(services or ExampleServices())
    rendered = render(compiled, values, once, settings)
    examples = {k: v for k, v in EXAMPLES.items()
                if (k == "links" and rendered.links) or (k == "coupon" and compiled.uses_coupon)
                or (k == "unsubscribe_url" and (compiled.uses_unsubscribe or (
                    compiled.channel is Channel.SMS and compiled.purpose == "advertising")))}
    if compiled.channel is not Channel.SMS:
        return Preview(pid, values, rendered, examples=examples)
    other = template.model_copy(update={"strip_diacritics": not template.strip_diacritics,
                                        "version": None})
    twin = render(compile_template(other), values, once, settings)
    accented, stripped = (twin, rendered) if template.strip_diacritics else (rendered, twin)
    versions = {"accented": SmsVersion.of(accented.body, price_per_part),
                "stripped": SmsVersion.of(stripped.body, price_per_part)}
    return Preview(pid, values, rendered, versions,
                   "stripped" if template.strip_diacritics else "accented", examples)
