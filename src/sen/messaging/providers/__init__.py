"""Messaging providers: one module per provider kind, one registry.

Each kind declares its settings (a pydantic model of what may be shown back),
its secrets (a pydantic model of what is sealed and never shown back), a
factory that builds a :class:`~sen.messaging.providers.base.Provider` from
them, and, where the provider calls Sen back, a pure webhook parser.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel
from pydantic import ValidationError as PydanticError

from sen.errors import ConfigError
from sen.messaging.model import Channel
from sen.messaging.providers.base import Provider, WebhookRequest, WebhookResult

WebhookParser = Callable[[WebhookRequest, Any, Any], WebhookResult]


@dataclass(frozen=True)
class ProviderKind:
    """What Sen knows of one kind of provider (``esms``, ``smtp``…)."""

    kind: str
    channel: Channel
    title: tuple[str, str]  # (vi, en)
    config: type[BaseModel]
    secrets: type[BaseModel]
    factory: Callable[..., Provider]
    parse_webhook: WebhookParser | None = None


KINDS: dict[str, ProviderKind] = {}


def register(kind: ProviderKind) -> ProviderKind:
    KINDS[kind.kind] = kind
    return kind


def _parse(model: type[BaseModel], data: dict[str, Any], what: str) -> BaseModel:
    try:
        return model.model_validate(data)
    except PydanticError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in exc.errors())
        raise ConfigError(f"The {what} are not valid: {problems}.",
                          hint="Correct them on the Channels page or with "
                          "`sen messaging provider set`.") from exc


def build(kind: str, name: str, config: dict[str, Any], secrets: dict[str, Any], *,
          client: httpx.Client | None = None, **extra: Any) -> Provider:
    """A provider of ``kind`` named ``name`` from its stored settings and secrets.

    ``extra`` goes to the provider's constructor as it is (web push takes Sen's
    VAPID keys this way: they live in the operational store, not in the provider's
    secrets)."""
    spec = KINDS.get(kind)
    if spec is None:
        raise ConfigError(f"There is no provider kind '{kind}'.",
                          hint=f"Use one of: {', '.join(sorted(KINDS))}.")
    return spec.factory(name, _parse(spec.config, config, f"settings of provider '{name}'"),
                        _parse(spec.secrets, secrets, f"secrets of provider '{name}'"),
                        client=client, **extra)


# The kinds Sen ships. Imported last: their modules use this package's helpers.
from sen.messaging.providers import (  # noqa: E402
    esms,
    esms_webhook,
    http_sms,
    speedsms,
    zalo,
    zalo_webhook,
)

register(ProviderKind(
    "esms", Channel.SMS, ("eSMS.vn (SMS thương hiệu)", "eSMS.vn (SMS brandname)"),
    esms.EsmsConfig, esms.EsmsSecrets, esms.EsmsProvider, esms_webhook.parse_webhook))
register(ProviderKind(
    "speedsms", Channel.SMS, ("SpeedSMS", "SpeedSMS"),
    speedsms.SpeedSmsConfig, speedsms.SpeedSmsSecrets, speedsms.SpeedSmsProvider,
    speedsms.parse_webhook))
register(ProviderKind(
    "http_sms", Channel.SMS, ("Cổng SMS HTTP tuỳ chỉnh", "Custom HTTP SMS gateway"),
    http_sms.HttpSmsConfig, http_sms.HttpSmsSecrets, http_sms.HttpSmsProvider,
    http_sms.parse_webhook))
register(ProviderKind(
    "zalo", Channel.ZALO, ("Zalo ZNS", "Zalo ZNS"),
    zalo.ZaloConfig, zalo.ZaloSecrets, zalo.ZaloProvider, zalo_webhook.parse_webhook))

# Provider modules import this package's base, so they are imported after it is defined.
from sen.messaging.providers import ses, smtp, webhook, webpush  # noqa: E402

register(ProviderKind("smtp", Channel.EMAIL, ("Email (SMTP)", "Email (SMTP)"), smtp.SmtpSettings,
                      smtp.SmtpSecrets, smtp.SmtpProvider, ses.parse_webhook))
register(ProviderKind("webpush", Channel.PUSH, ("Thông báo đẩy trên web", "Web Push"),
                      webpush.WebPushSettings, webpush.WebPushSecrets,
                      webpush.WebPushProvider))
register(ProviderKind("webhook", Channel.WEBHOOK, ("Webhook", "Webhook"),
                      webhook.WebhookSettings, webhook.WebhookSecrets,
                      webhook.WebhookProvider))

__all__ = ["KINDS", "Provider", "ProviderKind", "WebhookRequest", "WebhookResult", "build",
           "register"]
