"""Placeholder services for previews and checks: plainly examples, of real length."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta


@dataclass(frozen=True, slots=True)
class ExampleCoupon:
    code: str
    offer: str
    expires_at: datetime | date | None


class ExampleServices:
    """Placeholder links and coupon for previews and checks, plainly examples
    (``VIDU`` is *ví dụ*, example), as long as real ones so lengths hold."""

    def __init__(self, link_base: str = "https://sen.example", *,
                 offer: str = "Ưu đãi mẫu", valid_days: int = 30) -> None:
        self.link_base = link_base.rstrip("/")
        self.offer, self.valid_days = offer, valid_days
        self.issued = 0

    @property
    def unsubscribe_url(self) -> str:
        return f"{self.link_base}/u/VIDU0000"

    def shorten(self, url: str, index: int) -> str:
        return f"{self.link_base}/l/VIDU{index:04d}"

    def coupon(self) -> ExampleCoupon:
        self.issued += 1
        now = datetime.now(UTC).replace(tzinfo=None)
        return ExampleCoupon("VIDU1234", self.offer, now + timedelta(days=self.valid_days))
