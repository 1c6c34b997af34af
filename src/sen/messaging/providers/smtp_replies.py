"""One SMTP transaction, and what its replies mean for Sen.

:func:`run_transaction` speaks MAIL, RCPT and DATA on an open connection and
reports any refusal as an :class:`SmtpFailure` (where it happened, the reply,
whether the connection is still usable, whether nothing of the message had
gone out yet). :func:`classify` turns a failure into Sen's
:class:`~sen.errors.ProviderError`, following RFC 5321 §4.2 (reply codes) and
RFC 3463 (enhanced status codes: ``5.1.x`` is a bad address, ``5.2.1`` a
disabled mailbox).
"""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass

from sen.errors import ProviderError

RECIPIENT_CODES = frozenset({550, 551, 553})
_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


@dataclass
class SmtpFailure(Exception):
    """Where an SMTP exchange stopped and what the server (or the network) said.

    ``stage`` is connect, tls, auth, mail, rcpt or data; ``code`` the reply code
    (``None`` when there was no reply, -1 when the reply was not SMTP); ``closed``
    that the connection cannot be reused; ``retry_on_new_connection`` that the
    connection dropped before any of the message went out, so sending it again
    on a new connection cannot duplicate it.
    """

    stage: str
    code: int | None
    reply: str
    closed: bool = False
    retry_on_new_connection: bool = False
    certificate: bool = False
    timeout: bool = False

    def __str__(self) -> str:
        return f"{self.stage}: {self.code} {self.reply}"

    @classmethod
    def from_connect(cls, exc: BaseException) -> SmtpFailure:
        """A failure while connecting, upgrading to TLS or logging in."""
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return cls("auth", exc.smtp_code, _text(exc.smtp_error), closed=True)
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            stage = "tls" if "STARTTLS" in str(exc).upper() else "auth"
            return cls(stage, None, str(exc), closed=True)
        if isinstance(exc, smtplib.SMTPResponseException):
            return cls("connect", exc.smtp_code, _text(exc.smtp_error), closed=True)
        if isinstance(exc, ssl.SSLCertVerificationError):
            return cls("tls", None, str(exc), closed=True, certificate=True)
        if isinstance(exc, ssl.SSLError):
            return cls("tls", None, str(exc), closed=True)
        return cls("connect", None, str(exc) or type(exc).__name__, closed=True,
                   timeout=isinstance(exc, TimeoutError))


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _refused(smtp: smtplib.SMTP, stage: str, code: int, reply: bytes) -> SmtpFailure:
    """A refusal the connection survived unless it was 421 or garbage; RSET clears it."""
    closed = code == 421 or code < 0
    if not closed:
        try:
            closed = smtp.rset()[0] != 250
        except (smtplib.SMTPException, OSError):
            closed = True
    return SmtpFailure(stage, code, _text(reply), closed=closed)


def run_transaction(smtp: smtplib.SMTP, sender: str, recipient: str,
                    data: bytes) -> tuple[int, str]:
    """Send one message to one recipient; the final reply. Raises :class:`SmtpFailure`."""
    stage = "mail"
    try:
        options: list[str] = []
        if not (sender + recipient).isascii():
            if not smtp.has_extn("smtputf8"):
                raise SmtpFailure("rcpt", 553, "the address is not ASCII and the relay "
                                  "does not offer SMTPUTF8")
            options.append("SMTPUTF8")
        code, reply = smtp.mail(sender, options)
        if code != 250:
            raise _refused(smtp, stage, code, reply)
        stage = "rcpt"
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            raise _refused(smtp, stage, code, reply)
        stage = "data"
        code, reply = smtp.data(data)
        if code != 250:
            raise _refused(smtp, stage, code, reply)
        return code, _text(reply)
    except smtplib.SMTPDataError as exc:  # DATA itself was refused: nothing went out
        raise _refused(smtp, stage, exc.smtp_code, exc.smtp_error) from None
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        raise SmtpFailure(stage, None, str(exc) or type(exc).__name__, closed=True,
                          retry_on_new_connection=stage in ("mail", "rcpt"),
                          timeout=isinstance(exc, TimeoutError)) from None


def _enhanced(reply: str) -> tuple[int, int, int] | None:
    found = _ENHANCED.search(reply)
    return tuple(int(g) for g in found.groups()) if found else None  # type: ignore[return-value]


def _about_recipient(failure: SmtpFailure) -> bool:
    enhanced = _enhanced(failure.reply)
    if failure.stage == "rcpt":
        return failure.code in RECIPIENT_CODES
    if failure.stage == "data" and failure.code is not None and failure.code >= 500:
        return enhanced is not None and (enhanced[1] == 1 or enhanced[1:] == (2, 1))
    return False


def classify(failure: SmtpFailure, provider: str, username: str | None) -> ProviderError:
    """Sen's error for an SMTP failure: transient, about the recipient, or a setting to fix."""
    code = None if failure.code is None else str(failure.code)
    said = f"The SMTP relay answered {failure.code} {failure.reply}".strip() \
        if failure.code is not None else f"The SMTP relay could not be reached ({failure.reply})"
    where = f" at {failure.stage.upper()}"
    if failure.certificate:
        return ProviderError(f"The relay's TLS certificate was refused: {failure.reply}.",
                             provider=provider, code="certificate",
                             hint="Check the host setting, or set ca_file to the authority "
                             "that signed the relay's certificate.")
    if failure.stage == "auth" or failure.code in (530, 534, 535, 538):
        return ProviderError(f"{said}{where}: the relay refused the login.", provider=provider,
                             code=code, hint=f"Check the username setting ({username or 'empty'})"
                             " and the password secret; SES needs its SMTP credentials, not "
                             "the AWS access key.")
    if failure.stage == "tls":
        return ProviderError(f"TLS with the relay failed: {failure.reply}.", provider=provider,
                             code="tls", hint="Check the security setting (starttls on 587, "
                             "tls on 465) and the port.")
    if failure.code is None or failure.code < 0 or 400 <= failure.code < 500:
        return ProviderError(f"{said}{where}; it will be tried again.", provider=provider,
                             code=code or ("timeout" if failure.timeout else "connection"),
                             transient=True)
    if _about_recipient(failure):
        return ProviderError(f"{said}{where}: the mailbox cannot receive.", provider=provider,
                             code=code, recipient=True)
    hint = ("Check the from_address and return_path settings (SES sends only from verified "
            "identities).") if failure.stage == "mail" else \
        "Read the relay's answer; the message was not sent."
    return ProviderError(f"{said}{where}.", provider=provider, code=code, hint=hint)
