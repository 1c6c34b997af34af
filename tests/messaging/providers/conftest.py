"""Local servers the providers send to, each test its own on 127.0.0.1: a catcher of
receipts and replies, an SMTP relay with STARTTLS and AUTH, a push service, a
webhook receiver."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from sen.demo.sandbox import serve_in_thread
from sen.demo.sandbox.push import PushService
from sen.demo.sandbox.serve import Served
from sen.demo.sandbox.smtp import SmtpSandbox
from sen.demo.sandbox.webhook import WebhookReceiver
from tests.messaging.providers.support import Catcher

SMTP_USER, SMTP_PASSWORD = "sen-relay", "mật khẩu relay"


@pytest.fixture
def catcher() -> Iterator[tuple[Catcher, str]]:
    catcher = Catcher()
    with serve_in_thread(catcher.app()) as url:
        yield catcher, url


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    return ctx


@pytest.fixture(scope="session")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture
def relay(server_tls: ssl.SSLContext) -> Iterator[SmtpSandbox]:
    """A relay that wants STARTTLS, then AUTH, like SES's SMTP interface on port 587."""
    with SmtpSandbox(tls=server_tls, users={SMTP_USER: SMTP_PASSWORD}) as sandbox:
        yield sandbox


@pytest.fixture
def push_service() -> Iterator[tuple[PushService, str]]:
    service = PushService()
    with Served(service.app()) as served:
        yield service, served.url


@pytest.fixture
def receiver() -> Iterator[tuple[WebhookReceiver, str]]:
    hook = WebhookReceiver(secret="whsec-0123456789abcdef")
    with Served(hook.app()) as served:
        yield hook, served.url
