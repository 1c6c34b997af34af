"""Email through an SMTP relay (Amazon SES, a shop's own server…), stdlib smtplib.

One connection is kept open across messages, since a TLS handshake and AUTH
cost more than the message; a connection the server closed meanwhile (idle
timeout, restart) is noticed at the next command and opened again, once, when
that happened before the message's data went out. Each message is its own
transaction (MAIL, RCPT, DATA) so that the final ``250`` reply is read: SES
answers ``250 Ok <id>``, the id its bounce and complaint notifications name,
which becomes the message's ``provider_id`` (else the Message-ID does).

Replies are classified at this boundary (RFC 5321 §4.2 and RFC 3463 codes):

=================================  ==========================================
4xx, a dropped connection, a       transient (a drop after the data went out
timeout, a malformed reply         too: the relay may hold a copy, and SMTP's
                                   own rule is to retry and accept a duplicate)
550/551/553 at RCPT, or 5.1.x /    about this recipient (``recipient=True``)
5.2.1 at DATA
535 and other AUTH refusals        terminal, hint names username and password
other 5xx                          terminal
=================================  ==========================================

Per-domain throttling waits for a slot up to ``max_throttle_wait_s`` (default
one second: cheaper than requeueing) and beyond that raises a transient error
with ``retry_after`` so the dispatcher's worker moves on to other domains.
"""

from __future__ import annotations

import base64
import contextlib
import re
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any, Literal

import httpx
from pydantic import BaseModel, Field, field_validator

from sen.errors import ProviderError
from sen.messaging.model import Channel, OutgoingMessage, SendResult
from sen.messaging.providers import mime
from sen.messaging.providers.base import Provider
from sen.messaging.providers.smtp_replies import SmtpFailure, classify, run_transaction
from sen.messaging.providers.throttle import Busy, DomainThrottle, domain_of

_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_SES_ID = re.compile(r"^(?:\d\.\d{1,3}\.\d{1,3}\s+)?ok\s+<?([A-Za-z0-9._-]+)>?\s*$", re.I)


class SmtpSettings(BaseModel):
    """What may be shown back of an SMTP relay account."""

    host: str = Field(description="Relay host, e.g. email-smtp.ap-southeast-1.amazonaws.com.")
    port: int = Field(default=587, ge=1, le=65535,
                      description="587 for STARTTLS, 465 for implicit TLS, 25 for none.")
    security: Literal["none", "starttls", "tls"] = Field(
        default="starttls", description="none: plain text (local relays only); starttls: "
        "upgrade after connecting; tls: TLS from the first byte (port 465).")
    verify_certificates: bool = Field(
        default=True, description="Check the relay's certificate and host name.")
    ca_file: str | None = Field(
        default=None, description="PEM file of the authority that signed the relay's "
        "certificate, when it is not a public one (a test or in-house relay).")
    username: str | None = Field(
        default=None, description="AUTH user name (SES: the SMTP user name); empty: no AUTH.")
    from_address: str = Field(description="Sender address; its domain ends the Message-ID.")
    from_name: str = Field(default="", description="Sender name shown in the inbox.")
    reply_to: str | None = Field(default=None, description="Where replies go, if not From.")
    return_path: str | None = Field(
        default=None, description="Envelope sender (MAIL FROM) for bounces; From if empty.")
    domain_rates: dict[str, float] = Field(
        default_factory=dict, description="Messages per second per recipient domain, e.g. "
        "{\"gmail.com\": 5}; a domain also covers its subdomains.")
    default_domain_rate: float | None = Field(
        default=None, gt=0, description="Messages per second to any other domain (empty: "
        "no limit).")
    max_throttle_wait_s: float = Field(
        default=1.0, ge=0, description="Longest wait for a domain's slot; beyond it the "
        "message is retried later.")
    timeout_s: float = Field(default=30.0, gt=0, description="Seconds per SMTP command.")
    sns_topic_arns: list[str] = Field(
        default_factory=list, description="SES notifications: SNS topics accepted (empty: "
        "any topic that passes authentication).")
    sns_signing_certificates: str = Field(
        default="", description="SES notifications: PEM certificate(s) SNS signs with; "
        "when set, every notification's signature is checked against them.")

    @field_validator("from_address", "reply_to", "return_path")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and not _ADDRESS.match(value):
            raise ValueError("use a plain address such as cskh@shop.vn")
        return value


class SmtpSecrets(BaseModel):
    """What is sealed and never shown back."""

    password: str = Field(default="", description="AUTH password (SES: SMTP password).")
    webhook_token: str = Field(
        default="", description="SES notifications: the token in the subscribed URL "
        "(…?token=…); when set, notifications without it are refused.")


class SmtpProvider(Provider):
    kind = "smtp"
    channel = Channel.EMAIL
    idempotent = False

    def __init__(self, name: str, config: SmtpSettings, secrets: SmtpSecrets, *,
                 client: httpx.Client | None = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, **extra: Any) -> None:
        super().__init__(name)
        self.config, self._secrets = config, secrets
        self._clock, self._sleep = clock, sleep
        self._throttle = DomainThrottle(config.domain_rates, config.default_domain_rate)
        self._smtp: smtplib.SMTP | None = None
        self._lock = threading.Lock()

    def send(self, message: OutgoingMessage) -> SendResult:
        try:
            mail = mime.build(message, from_address=self.config.from_address,
                              from_name=self.config.from_name, reply_to=self.config.reply_to)
        except mime.MessageRefused as exc:
            raise ProviderError(str(exc), provider=self.name, hint=exc.hint) from exc
        self._wait_for_slot(message.address)
        with self._lock:
            _, reply = self._deliver(message.address, mime.as_bytes(mail))
        found = _SES_ID.match(reply)
        return SendResult(provider_id=found.group(1) if found else mail["Message-ID"])

    def _wait_for_slot(self, address: str) -> None:
        try:
            wait = self._throttle.reserve(domain_of(address), self._clock(),
                                          self.config.max_throttle_wait_s)
        except Busy as busy:
            raise ProviderError(
                f"{busy.domain} takes {self._throttle.rule(busy.domain)[1]:g} messages a "
                f"second from this account; the next slot is {busy.retry_after:.1f} s away.",
                provider=self.name, code="throttled", transient=True,
                retry_after=busy.retry_after) from None
        if wait > 0:
            self._sleep(wait)

    def _deliver(self, recipient: str, data: bytes) -> tuple[int, str]:
        sender = self.config.return_path or self.config.from_address
        for attempt in (1, 2):
            kept = self._smtp is not None
            smtp = self._connection()
            try:
                return run_transaction(smtp, sender, recipient, data)
            except SmtpFailure as failure:
                if failure.closed:
                    self._drop()
                if failure.retry_on_new_connection and kept and attempt == 1:
                    continue  # the server had closed the connection we kept: open another
                raise classify(failure, self.name, self.config.username) from None
            except BaseException:
                self._drop()
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            self._smtp = self._connect()
        return self._smtp

    def _tls_context(self) -> ssl.SSLContext:
        try:
            ctx = ssl.create_default_context(cafile=self.config.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ProviderError(f"The ca_file {self.config.ca_file} cannot be read: {exc}.",
                                provider=self.name, code="ca_file",
                                hint="Point ca_file at a PEM certificate file, or empty it to "
                                "trust the system's authorities.") from exc
        if not self.config.verify_certificates:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        smtp: smtplib.SMTP | None = None
        try:
            if cfg.security == "tls":
                smtp = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_s,
                                        context=self._tls_context())
            else:
                smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s)
            smtp.ehlo()
            if cfg.security == "starttls":
                smtp.starttls(context=self._tls_context())
                smtp.ehlo()
            if cfg.username:
                _login(smtp, cfg.username, self._secrets.password)
            return smtp
        except (smtplib.SMTPException, OSError) as exc:
            if smtp is not None:
                _close(smtp)
            raise classify(SmtpFailure.from_connect(exc), self.name, cfg.username) from exc

    def _drop(self) -> None:
        if self._smtp is not None:
            _close(self._smtp)
            self._smtp = None

    def close(self) -> None:
        with self._lock:
            if self._smtp is not None:
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    self._smtp.quit()
                self._drop()


def _login(smtp: smtplib.SMTP, username: str, password: str) -> None:
    """AUTH; smtplib encodes credentials as ASCII, so others go as AUTH PLAIN in UTF-8
    (RFC 4616), which a password with Vietnamese letters needs."""
    if (username + password).isascii():
        smtp.login(username, password)
        return
    if "plain" not in smtp.esmtp_features.get("auth", "").lower().split():
        raise smtplib.SMTPAuthenticationError(
            504, b"non-ASCII credentials need AUTH PLAIN, which the relay does not offer")
    token = base64.b64encode(f"\0{username}\0{password}".encode()).decode()
    code, reply = smtp.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def _close(smtp: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        smtp.close()
