"""What eSMS sends to Sen: delivery receipts and keyword replies (pure).

**Receipts.** eSMS calls the request's ``CallbackUrl`` with HTTP GET once a
message's final status is known (retrying up to 5 times on timeout), with
``SMSID``, ``SendStatus`` (1 pending approval, 2 waiting, 4 rejected, 5 sent,
7 at the carrier awaiting its report), ``SendSuccess``, ``SendFailed``,
``TotalPrice``, ``TotalReceiver``, ``TotalSent``, ``RequestId``, ``TypeId``,
``telcoid`` and, for customer care, ``phonenumber``. Advertising gets one
aggregate callback per ``SMSID``, without a number.

**Keyword replies** reach Sen only through an eSMS short-code service: eSMS
calls the partner with GET ``sender`` (``84…``), ``content``, ``keyword``,
``serviceNumber``, ``smsid``, ``cpid``, ``receiverTime`` (``yyyyMMddHHmmss``)
and ``sign`` = Base64(MD5(cpid + smsid + content + receiverTime +
PrivateKey)), and takes an XML ``<ClientResponse>`` back whose ``Message`` it
sends to the customer. Replies to a brandname cannot be received at all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from xml.sax.saxutils import escape

from sen.errors import AuthError, ValidationError
from sen.messaging.keywords import is_opt_out
from sen.messaging.model import Channel, Inbound, Receipt, Status
from sen.messaging.providers import wire
from sen.messaging.providers.base import WebhookRequest, WebhookResult
from sen.messaging.providers.esms import KIND, EsmsConfig, EsmsSecrets

VIETNAM = timedelta(hours=7)  # receiverTime carries no zone; eSMS runs on Vietnam time


def parse_webhook(request: WebhookRequest, config: EsmsConfig,
                  secrets: EsmsSecrets) -> WebhookResult:
    """A receipt (``SMSID`` present) or a keyword reply (``sender`` and ``content``)."""
    query = request.query
    if "SMSID" in query:
        _check_token(query, secrets)
        receipt = to_receipt(query)
        return WebhookResult(receipts=(receipt,) if receipt else ())
    if "sender" in query and "content" in query:
        inbound = to_inbound(query, config, secrets)
        reply = config.opt_out_reply if inbound.opt_out else ""
        return WebhookResult(inbound=(inbound,), reply=client_response(query, reply),
                             reply_type="application/xml")
    raise ValidationError("This is neither an eSMS receipt (SMSID) nor a keyword reply "
                          "(sender, content).", field="query", rule="esms_webhook")


def receipt_status(query: dict[str, str]) -> Status | None:
    """DELIVERED, FAILED or SENT from ``SendStatus`` and the success/failure counts."""
    status = query.get("SendStatus", "")
    success, failed = _int(query.get("SendSuccess")), _int(query.get("SendFailed"))
    if status == "4":
        return Status.FAILED
    if status == "5":
        return Status.FAILED if failed and not success else Status.DELIVERED
    if status in ("1", "2", "7"):
        return Status.SENT
    return None


def to_receipt(query: dict[str, str]) -> Receipt | None:
    status = receipt_status(query)
    if status is None:
        return None
    receivers = _int(query.get("TotalReceiver"))
    total = _float(query.get("TotalPrice"))
    cost = None if total is None else round(total / receivers if receivers > 1 else total)
    phone = query.get("phonenumber")
    reason = None
    if status == Status.FAILED:
        reason = ("rejected by eSMS" if query.get("SendStatus") == "4"
                  else f"{query.get('SendFailed')} failed") + _error_info(query)
    return Receipt(provider=KIND, status=status, provider_id=query.get("SMSID") or None,
                   key=query.get("RequestId") or None,
                   address=wire.to_e164(phone) if phone else None, reason=reason, cost=cost)


def to_inbound(query: dict[str, str], config: EsmsConfig, secrets: EsmsSecrets) -> Inbound:
    if not secrets.mo_private_key:
        raise AuthError("eSMS keyword replies are signed, and this provider has no key to "
                        "check them with.", hint="Set the secret mo_private_key (eSMS gives "
                        "it with the CPID of the short-code service).")
    parts = [query.get(f, "") for f in ("cpid", "smsid", "content", "receiverTime")]
    expected = base64.b64encode(hashlib.md5(
        ("".join(parts) + secrets.mo_private_key).encode()).digest()).decode()
    if not hmac.compare_digest(expected, query.get("sign", "")):
        raise AuthError("The eSMS keyword reply's sign does not match.",
                        hint="Check the secret mo_private_key.")
    text = query["content"]
    return Inbound(provider=KIND, channel=Channel.SMS, address=wire.to_e164(query["sender"]),
                   text=text, opt_out=is_opt_out(text, [config.brandname]),
                   at=_vietnam_time(query.get("receiverTime", "")), raw=dict(query))


def client_response(query: dict[str, str], message: str) -> bytes:
    """The ``<ClientResponse>`` eSMS expects back from a keyword reply."""
    return ("<ClientResponse>"
            f"<Message>{escape(message)}</Message>"
            f"<Smsid>{escape(query.get('smsid', ''))}</Smsid>"
            f"<Receiver>{escape(query.get('sender', ''))}</Receiver>"
            "</ClientResponse>").encode()


def _check_token(query: dict[str, str], secrets: EsmsSecrets) -> None:
    if secrets.callback_token and not hmac.compare_digest(
            query.get("token", ""), secrets.callback_token):
        raise AuthError("The eSMS receipt does not carry this provider's callback token.",
                        hint="Check that callback_url and the secret callback_token were "
                        "saved together.")


def _error_info(query: dict[str, str]) -> str:
    info = query.get("error_info")
    return f": {info}" if info else ""


def _vietnam_time(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S") - VIETNAM
    except ValueError:
        return None


def _int(value: str | None) -> int:
    try:
        return int(float(value or 0))
    except ValueError:
        return 0


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None
