"""The words every part of messaging shares: channels, purposes, message states,
what goes to a provider and what comes back.

Plain data, no I/O. The policy gate, the outbox, the dispatcher, the providers
and the receipt handlers all speak these types, so a provider never sees the
outbox and the outbox never sees a wire format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Channel(StrEnum):
    """Where a message goes. A contact *address* is typed by its channel:
    ``sms`` and ``zalo`` a phone in E.164 (ZNS is addressed by phone), ``email``
    an address, ``push`` a Web Push subscription endpoint, ``webhook`` a URL."""

    SMS = "sms"
    ZALO = "zalo"
    EMAIL = "email"
    PUSH = "push"
    WEBHOOK = "webhook"


CONSENT_CHANNELS: tuple[Channel, ...] = (Channel.SMS, Channel.ZALO, Channel.EMAIL, Channel.PUSH)
"""Channels that reach a person and so need her consent (a webhook reaches a system)."""


class Purpose(StrEnum):
    """Why a message is sent. Decree 91/2020 rules apply to advertising; customer
    care (an order shipped, a ticket answered) has its own, lighter rules."""

    ADVERTISING = "advertising"
    CARE = "care"


class ConsentStatus(StrEnum):
    GRANTED = "granted"
    REVOKED = "revoked"


class Status(StrEnum):
    """A message's state in the outbox.

    ``queued`` → ``sending`` → ``sent`` → ``delivered`` | ``failed`` | ``bounced``;
    ``queued`` → ``suppressed`` (the gate refused it at dispatch) or ``held``
    (its campaign is paused) → ``queued`` again; ``sending`` → ``unknown`` when a
    crash caught it mid-send at a provider that takes no idempotency key: it is
    reconciled through the provider's status API where one exists, shown to the
    marketer, and never resent blindly.
    """

    QUEUED = "queued"
    HELD = "held"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    BOUNCED = "bounced"
    SUPPRESSED = "suppressed"
    UNKNOWN = "unknown"
    CANCELLED = "cancelled"


LIVE_STATUSES: frozenset[Status] = frozenset({
    Status.QUEUED, Status.HELD, Status.SENDING, Status.SENT, Status.DELIVERED, Status.UNKNOWN})
"""States that hold a frequency-cap slot: the message went, or may still go."""

FINAL_STATUSES: frozenset[Status] = frozenset({
    Status.DELIVERED, Status.FAILED, Status.BOUNCED, Status.SUPPRESSED, Status.CANCELLED})


class Reason(StrEnum):
    """Why the gate refused a message (the ``reason`` of ``Message Suppressed``)."""

    NO_CONTACT = "no_contact"
    NO_CONSENT = "no_consent"
    OPTED_OUT = "opted_out"
    QUIET_HOURS = "quiet_hours"
    FREQUENCY_CAP = "frequency_cap"
    EXCLUDED = "excluded"
    DUPLICATE = "duplicate"
    BUDGET = "budget"
    UNREACHABLE = "unreachable"  # hard bounce, invalid number, unsubscribed endpoint


# Names of the events messaging writes to the log (Segment e-commerce style).
MESSAGE_SENT = "Message Sent"
MESSAGE_DELIVERED = "Message Delivered"
MESSAGE_FAILED = "Message Failed"
MESSAGE_OPENED = "Message Opened"
MESSAGE_CLICKED = "Message Clicked"
MESSAGE_BOUNCED = "Message Bounced"
MESSAGE_UNSUBSCRIBED = "Message Unsubscribed"
MESSAGE_SUPPRESSED = "Message Suppressed"
COUPON_ISSUED = "Coupon Issued"
COUPON_REDEEMED = "Coupon Redeemed"
CONSENT_GRANTED = "Consent Granted"
CONSENT_REVOKED = "Consent Revoked"
HOLDOUT_ASSIGNED = "Holdout Assigned"


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One rendered message, as a provider needs it.

    ``key`` is the outbox's idempotency key: providers that accept one (eSMS's
    ``RequestId``) send it, so a resend after a crash is dropped by the
    provider. ``address`` is typed by ``channel`` (see :class:`Channel`).
    ``body`` is the text (SMS, push body, email text part); ``subject``,
    ``html`` and ``headers`` are email's; ``data`` carries channel-specific
    structured content (ZNS ``template_id`` and ``template_data``, a push
    subscription's keys and URL, a webhook's JSON document).
    """

    id: int
    key: str
    channel: Channel
    purpose: Purpose
    address: str
    body: str = ""
    subject: str | None = None
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    unicode: bool = False


@dataclass(frozen=True, slots=True)
class SendResult:
    """A provider's answer to one message it accepted.

    ``provider_id`` is the provider's own id (eSMS ``SMSID``, Zalo ``msg_id``,
    SMTP ``Message-ID``), which receipts name. ``cost`` is in VND when the
    provider says (else Sen's estimate). ``duplicate`` is true when the
    provider recognised the idempotency key of a message it already took.
    """

    provider_id: str | None
    cost: int | None = None
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class Receipt:
    """A delivery report from a provider, matched to a message by ``provider_id``
    (or by Sen's own ``key`` where the provider echoes it back)."""

    provider: str
    status: Status  # DELIVERED, FAILED or BOUNCED (SENT for "handed to the telco")
    provider_id: str | None = None
    key: str | None = None
    address: str | None = None
    reason: str | None = None
    at: datetime | None = None
    cost: int | None = None


@dataclass(frozen=True, slots=True)
class Inbound:
    """Something a customer sent back: an SMS keyword, an email complaint.

    ``opt_out`` is set by the provider's parser when the text or notification
    means "stop" (``TC``, ``HUY``, a complaint); the consent module acts on it.
    """

    provider: str
    channel: Channel
    address: str
    text: str = ""
    opt_out: bool = False
    at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)
