"""What every messaging provider is: one small interface, wire formats inside.

A provider turns an :class:`~sen.messaging.model.OutgoingMessage` into its own
request and its answer into a :class:`~sen.messaging.model.SendResult`, or
raises :class:`~sen.errors.ProviderError` (transient or terminal, about the
recipient or not). It never touches the outbox, the log or the settings store:
the dispatcher calls it and records what happened.

Network traffic goes through an ``httpx.Client`` the provider is given (or
builds from its settings), so tests point it at a local server that speaks the
provider's documented wire format.

Receipts and inbound messages arrive at Sen's webhook routes; the web layer
turns the request into a :class:`WebhookRequest` and hands it to the
provider's pure ``parse_webhook`` function, which returns receipts and inbound
messages (or raises :class:`~sen.errors.AuthError` when a signature is wrong).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sen.errors import ProviderError
from sen.messaging.model import Channel, Inbound, OutgoingMessage, Receipt, SendResult


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """An HTTP request a provider sent to Sen (a receipt, an inbound SMS), as data."""

    method: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class WebhookNote:
    """Something a webhook call told Sen that changes no message or consent, for the
    admin to see: an SNS subscription waiting to be confirmed (``data`` holds its
    ``subscribe_url``), a soft bounce. ``kind`` names it for code, ``text`` for people."""

    kind: str
    text: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WebhookResult:
    """What a webhook call carried, and what to answer the provider."""

    receipts: Sequence[Receipt] = ()
    inbound: Sequence[Inbound] = ()
    notes: Sequence[WebhookNote] = ()
    reply: bytes = b'{"ok":true}'
    reply_type: str = "application/json"


class Provider(ABC):
    """One configured provider account (an eSMS brandname, an SMTP relay…).

    Class attributes say what the dispatcher may rely on:

    * ``idempotent``: the provider takes Sen's idempotency key and drops a
      repeat, so a message caught mid-send by a crash is simply sent again;
      otherwise it becomes ``unknown`` and is reconciled, never resent blindly.
    * ``max_batch``: how many messages :meth:`send_batch` takes at once.
    * ``has_status_api``: :meth:`status` can tell what happened to a message.
    """

    kind: ClassVar[str]
    channel: ClassVar[Channel]
    idempotent: ClassVar[bool] = False
    max_batch: ClassVar[int] = 1
    has_status_api: ClassVar[bool] = False

    def __init__(self, name: str, *, rate_per_s: float | None = None) -> None:
        self.name = name
        self.rate_per_s = rate_per_s

    @abstractmethod
    def send(self, message: OutgoingMessage) -> SendResult:
        """Hand one message to the provider; raise :class:`ProviderError` on failure."""

    def send_batch(self, messages: Sequence[OutgoingMessage]
                   ) -> list[SendResult | ProviderError]:
        """Hand several messages over; one result or error per message, in order."""
        results: list[SendResult | ProviderError] = []
        for message in messages:
            try:
                results.append(self.send(message))
            except ProviderError as exc:
                results.append(exc)
        return results

    def batchable(self, message: OutgoingMessage) -> bool:
        """Whether ``message`` goes in :meth:`send_batch` with others (eSMS advertising
        in bulk); the rest are sent one by one, several at a time."""
        return False

    def estimate_cost(self, message: OutgoingMessage) -> int:
        """What sending ``message`` costs, in VND (0 when the channel is free)."""
        return 0

    def status(self, provider_id: str) -> Receipt | None:
        """The provider's word on one message it took (``None``: it does not say)."""
        return None

    def close(self) -> None:  # noqa: B027 - most providers hold nothing to release
        """Release connections."""
