"""A relay to send email to: aiosmtpd on 127.0.0.1, answering like Amazon SES.

It offers STARTTLS (or implicit TLS) with the certificate it is given, requires
AUTH PLAIN or LOGIN when users are configured (over TLS only, as RFC 4954
advises), keeps every message it accepts, parsed back with the standard
library's parser, and answers the final ``250`` with an id the way SES's SMTP
interface does (``250 Ok <id>``). Failures can be asked for, one per coming
transaction (:attr:`SmtpSandbox.fail_next`):

==================  ====================================================
``421``             MAIL answered 421 and the connection closed
``451``             the message refused after DATA with 451 (try later)
``550``             RCPT answered 550 5.1.1 (no such mailbox)
``554``             the message refused after DATA with 554 5.7.1
``drop``            the connection closed at MAIL, without an answer
``drop_after_data`` the message kept, the connection closed before the reply
==================  ====================================================

or per address (:attr:`SmtpSandbox.fail_addresses`). With a :class:`SnsTopic`
it posts SES bounce, complaint and delivery notifications about a kept message
to Sen's webhook.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import uuid
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from sen.demo.sandbox.sns import SnsTopic, ses_bounce, ses_complaint, ses_delivery, ses_mail

REPLIES = {
    "421": "421 4.3.2 Service not available, closing transmission channel",
    "451": "451 4.3.0 Temporary local problem, try again later",
    "550": "550 5.1.1 Recipient address rejected: User unknown",
    "554": "554 5.7.1 Message rejected: content refused",
}


@dataclass
class StoredMail:
    """A message the relay accepted, with its id and the parsed message."""

    id: str
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage = field(repr=False)
    connection: int = 0
    tls: bool = False

    def header(self, name: str) -> str | None:
        value = self.message[name]
        return None if value is None else str(value)

    def part(self, subtype: str) -> str | None:
        """The ``text/<subtype>`` part as a reader shows it (decoded, canonical CRLF line
        ends as newlines), if there is one."""
        for part in self.message.walk():
            if part.get_content_type() == f"text/{subtype}":
                return part.get_content().replace("\r\n", "\n")
        return None


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class SmtpSandbox:
    """The relay; :meth:`start` runs it in a thread, :meth:`stop` ends it."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0,
                 tls: ssl.SSLContext | None = None, implicit_tls: bool = False,
                 users: dict[str, str] | None = None, sns: SnsTopic | None = None,
                 ses_ids: bool = True) -> None:
        self.host, self.port = host, port or _free_port(host)
        self.tls, self.implicit_tls = tls, implicit_tls
        self.users = users or {}
        self.sns = sns
        self.ses_ids = ses_ids  # False: answer like Postfix ("250 2.0.0 Ok: queued as …")
        self.messages: list[StoredMail] = []
        self.fail_next: list[str] = []
        self.fail_addresses: dict[str, str] = {}
        self.connections = 0
        self.logins: list[str] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    # -- running -------------------------------------------------------------------
    def start(self) -> SmtpSandbox:
        starttls = self.tls if self.tls is not None and not self.implicit_tls else None
        self._controller = Controller(
            self, hostname=self.host, port=self.port, server_hostname="sandbox.sen.test",
            ssl_context=self.tls if self.implicit_tls else None, tls_context=starttls,
            require_starttls=starttls is not None, authenticator=self._authenticate,
            # aiosmtpd counts only STARTTLS as TLS (on an implicit-TLS port all of it is),
            # so there AUTH is offered as is and required at MAIL below.
            auth_required=bool(self.users) and not self.implicit_tls,
            auth_require_tls=starttls is not None,
            ready_timeout=10)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- aiosmtpd hooks ----------------------------------------------------------
    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope,
                      mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = auth_data.login.decode(), auth_data.password.decode()
        ok = user in self.users and self.users[user] == password
        if ok:
            self.logins.append(f"{mechanism}:{user}")
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    async def handle_EHLO(self, server: SMTP, session: Session, envelope: Envelope,
                          hostname: str, responses: list[str]) -> list[str]:
        if getattr(server, "sandbox_number", None) is None:  # once per connection
            with self._lock:
                self.connections += 1
                server.sandbox_number = self.connections  # type: ignore[attr-defined]
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, options: list[str]) -> str | None:
        if self.users and not session.authenticated:
            return "530 5.7.0 Authentication required"
        with self._lock:
            failure = self.fail_next.pop(0) if self.fail_next else None
        session.failure = failure  # type: ignore[attr-defined]
        if failure == "drop":
            server.transport.close()  # what is answered below never leaves
            return REPLIES["421"]
        if failure == "421":  # the reply goes out, then the channel closes (RFC 5321 3.8)
            asyncio.get_running_loop().call_soon(server.transport.close)
            return REPLIES["421"]
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, options: list[str]) -> str:
        code = self.fail_addresses.get(address.lower())
        if code is None and getattr(session, "failure", None) == "550":
            code = "550"
        if code is not None:
            return REPLIES[code]
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        failure = getattr(session, "failure", None)
        if failure in ("451", "554"):
            return REPLIES[failure]
        raw = bytes(envelope.original_content or b"")
        ses_id = f"0100{uuid.uuid4().hex[:12]}-{uuid.uuid4()}-000000"
        parsed = message_from_bytes(raw, policy=policy.default)
        self.messages.append(StoredMail(
            ses_id, str(envelope.mail_from), list(envelope.rcpt_tos), raw,
            parsed, getattr(server, "sandbox_number", 0),  # type: ignore[arg-type]
            tls=session.ssl is not None or self.implicit_tls))
        if failure == "drop_after_data":
            server.transport.close()
        return f"250 Ok {ses_id}" if self.ses_ids else f"250 2.0.0 Ok: queued as {ses_id[4:14]}"

    # -- SES notifications -------------------------------------------------------
    def _mail(self, stored: StoredMail, with_headers: bool) -> dict[str, Any]:
        return ses_mail(stored.id, source=stored.mail_from, destination=stored.rcpt_tos,
                        message_id=stored.header("Message-ID") if with_headers else None,
                        subject=stored.header("Subject") or "")

    def _topic(self) -> SnsTopic:
        if self.sns is None:
            raise RuntimeError("This sandbox was started without an SNS topic to post to.")
        return self.sns

    def bounce(self, stored: StoredMail, *, bounce_type: str = "Permanent",
               with_headers: bool = True) -> httpx.Response:
        topic = self._topic()
        return topic.post(topic.envelope(ses_bounce(self._mail(stored, with_headers),
                                                    stored.rcpt_tos, bounce_type=bounce_type)))

    def complain(self, stored: StoredMail, *, feedback_type: str = "abuse",
                 with_headers: bool = True) -> httpx.Response:
        topic = self._topic()
        return topic.post(topic.envelope(ses_complaint(self._mail(stored, with_headers),
                                                       stored.rcpt_tos,
                                                       feedback_type=feedback_type)))

    def deliver(self, stored: StoredMail, *, with_headers: bool = True) -> httpx.Response:
        topic = self._topic()
        return topic.post(topic.envelope(ses_delivery(self._mail(stored, with_headers),
                                                      stored.rcpt_tos)))
