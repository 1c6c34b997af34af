"""`sen demo up` reaches customers: sandbox providers set up as Sen's own, example
templates, a coupon pool and a draft campaign that, once launched, arrives in the
sandboxes and comes back as delivery receipts through Sen's hooks."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from typer.testing import CliRunner

from sen.cli import app as cli
from sen.config import Settings
from sen.demo import campaign as demo
from sen.demo.reach import Reach, numbers_without_zalo, start_reach
from sen.demo.sandbox import free_port
from sen.demo.sandboxes import EMAIL, ESMS, SETTINGS_KEY, ZALO
from sen.messaging import campaigns, consent_events, coupons, provider_store, templates
from sen.messaging.campaigns import ChannelStep
from sen.messaging.model import Channel, Status
from sen.messaging.runtime import Messaging
from sen.messaging.settings import read_value
from sen.store import operational
from sen.store.analytics import DuckDBEngine
from sen.store.operational import consents, messages, pending_events
from sen.store.secrets import SecretBox
from sen.web import create_app

PASSWORD = "demo-mật-khẩu"
CUSTOMERS = "400"


@dataclass
class Demo:
    data: Path
    port: int
    output: str

    @property
    def public(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings(self, **more: Any) -> Settings:
        quiet = {k: 0 for k in ("identity_interval_s", "traits_interval_s",
                                "profile_events_interval_s", "segments_interval_s",
                                "audience_sync_interval_s", "dispatch_interval_s",
                                "relay_interval_s")}
        return Settings(data_dir=self.data, port=self.port, public_url=self.public,
                        **{**quiet, **more})

    def up(self) -> str:
        result = CliRunner().invoke(cli, ["demo", "up", "--data-dir", str(self.data),
                                          "--customers", CUSTOMERS, "--port", str(self.port),
                                          "--password", PASSWORD, "--no-serve"])
        assert result.exit_code == 0, result.output
        return result.output

    @property
    def retailer(self) -> Path:
        name = (self.data / "demo" / "loaded.txt").read_text().strip()
        return self.data / "demo" / f"retailer-{name}"


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    d = Demo(tmp_path_factory.mktemp("demo") / "data", free_port(), "")
    d.output = d.up()
    return d


@pytest.fixture
def ops(up: Demo) -> Iterator[sa.Engine]:
    engine = operational.connect(up.settings().operational_url)
    yield engine
    engine.dispose()


def accounts(ops: sa.Engine, up: Demo) -> dict[str, provider_store.ProviderAccount]:
    box = SecretBox.for_settings(up.settings())
    return {a.name: a for a in provider_store.accounts(ops, box)}


def loopback(url: str) -> bool:
    return re.fullmatch(r"http://127\.0\.0\.1:\d+(/.*)?", url) is not None


def test_demo_up_sets_up_providers_templates_a_pool_and_a_draft(up: Demo,
                                                                ops: sa.Engine) -> None:
    out = " ".join(up.output.split())
    assert out.count("/_sandbox/messages") == 3 and f"{up.public}/demo/inboxes" in out
    hooks = Messaging(up.settings(), None, ops)
    got = accounts(ops, up)
    esms, zalo, email = got[ESMS], got[ZALO], got[EMAIL]
    assert (esms.kind, esms.channel, zalo.kind, email.kind) == ("esms", "sms", "zalo", "smtp")
    assert esms.config["advertising_mode"] == "single" and loopback(esms.config["base_url"])
    assert esms.config["callback_url"] == hooks.webhook_url(ESMS)
    assert esms.config["callback_url"].startswith(f"{up.public}/hooks/{ESMS}/")
    assert loopback(zalo.config["base_url"]) and loopback(zalo.config["oauth_base_url"])
    assert {"app_secret", "oa_secret_key", "refresh_token"} <= set(zalo.secrets_set)
    assert (email.config["host"], email.config["security"]) == ("127.0.0.1", "starttls")
    assert "BEGIN CERTIFICATE" in Path(email.config["ca_file"]).read_text()
    assert email.config["sns_signing_certificates"] and "password" in email.secrets_set
    for name, channel in ((demo.SMS, Channel.SMS), (demo.ZNS, Channel.ZALO),
                          (demo.EMAIL, Channel.EMAIL)):
        t = templates.get_usable(ops, name)
        assert (t.channel, t.coupon_pool, t.created_by) == (channel, demo.POOL, "demo")
    [pool] = [p for p in coupons.list_pools(ops) if p.name == demo.POOL]
    assert (pool.kind, pool.prefix, pool.valid_days) == (coupons.GENERATED, "VM", 14)
    draft = campaigns.get(ops, demo.CAMPAIGN)
    assert draft.status == "draft" and draft.definition.segment == "lapsed-90-vela-south"
    assert [s.channel for s in draft.definition.channels] == [Channel.ZALO, Channel.SMS,
                                                              Channel.EMAIL]
    assert draft.definition.holdout_percent == 10
    with ops.connect() as con:  # consent was read before serving
        granted = con.execute(sa.select(sa.func.count()).select_from(consents)).scalar_one()
    assert granted > 100 and int(read_value(ops, consent_events.MARK, "-1")) > 0
    with ops.connect() as con:  # and in the log, so the traits computed next know it
        waiting = con.execute(sa.select(sa.func.count()).select_from(pending_events)
                              .where(pending_events.c.relayed_at.is_(None))).scalar_one()
    engine = DuckDBEngine(up.settings().analytics_path)
    try:
        consented = engine.execute("SELECT count(*) FROM profile_traits "
                                   "WHERE len(consented_channels) > 0").fetchall()[0][0]
    finally:
        engine.close()
    assert waiting == 0 and consented > 50
    inboxes = json.loads(read_value(ops, SETTINGS_KEY) or "[]")
    assert [i["provider"] for i in inboxes] == [ESMS, ZALO, EMAIL]


def test_a_second_demo_up_keeps_what_the_marketer_changed(up: Demo, ops: sa.Engine) -> None:
    box = SecretBox.for_settings(up.settings())
    now = datetime.now(UTC).replace(tzinfo=None)
    sms = templates.get(ops, demo.SMS)
    edited = sms.model_copy(update={"body": "{{ first_name | default('Bạn') }} ơi, mã "
                                            "{{ coupon }} giảm 150K: https://velamoc.vn/sale"})
    templates.save(ops, edited, actor="lan")
    plan = campaigns.get(ops, demo.CAMPAIGN).definition
    campaigns.save(ops, plan.model_copy(update={"holdout_percent": 20.0}), now=now, actor="lan")
    old = accounts(ops, up)[EMAIL]
    provider_store.save(ops, box, name=EMAIL, kind="smtp", secrets=None, now=now,
                        config={**old.config, "from_name": "Vela & Mộc Sale"}, priority=7)
    before = {n: a.config for n, a in accounts(ops, up).items()}

    output = up.up()

    assert "already loaded" in output and "Saved for the demo" not in output
    assert templates.get(ops, demo.SMS).body == edited.body
    assert templates.get(ops, demo.SMS).version == sms.version + 1
    again = campaigns.get(ops, demo.CAMPAIGN)
    assert (again.status, again.definition.holdout_percent) == ("draft", 20.0)
    after = accounts(ops, up)
    assert after[EMAIL].config["from_name"] == "Vela & Mộc Sale" and after[EMAIL].priority == 7
    owned = {ESMS: ("base_url", "callback_url"), ZALO: ("base_url", "oauth_base_url"),
             EMAIL: ("host", "port", "security", "ca_file", "sns_topic_arns",
                     "sns_signing_certificates")}
    for name, keys in owned.items():  # only what connects it to its sandbox was rewritten
        unchanged = {k: v for k, v in before[name].items() if k not in keys}
        assert {k: after[name].config[k] for k in unchanged} == unchanged
    assert after[EMAIL].config["sns_signing_certificates"] != \
        before[EMAIL]["sns_signing_certificates"]  # a new topic, a new certificate
    assert [p.name for p in coupons.list_pools(ops)].count(demo.POOL) == 1
    assert len(campaigns.all_campaigns(ops)) == 1


def test_a_provider_pointed_elsewhere_is_left_alone(up: Demo, ops: sa.Engine) -> None:
    from sen.demo.reach import configure_providers, plans

    box = SecretBox.for_settings(up.settings())
    now = datetime.now(UTC).replace(tzinfo=None)
    old = accounts(ops, up)[ESMS]
    real = {**old.config, "base_url": "https://rest.esms.vn/MainService.svc/json"}
    provider_store.save(ops, box, name=ESMS, kind="esms", config=real, secrets=None, now=now)
    reach = start_reach(up.settings(), ops, retailer=up.retailer, now=now)
    try:
        assert reach.providers == {ESMS: "kept", ZALO: "re-pointed", EMAIL: "re-pointed"}
        assert accounts(ops, up)[ESMS].config == real
        provider_store.save(ops, box, name=ESMS, kind="esms", config=old.config, secrets=None,
                            now=now)
        assert configure_providers(ops, box, plans(reach.sandboxes, lambda n: f"x/{n}"),
                                   now=now)[ESMS] == "re-pointed"
    finally:
        reach.stop()


@contextmanager
def serving(app: Any, port: int) -> Iterator[None]:
    """The app with its lifespan (stores, writer) on 127.0.0.1:port, in a thread."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, ws="none",
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "Sen did not start"
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(30)


def daytime() -> datetime:
    """10:00 in Hà Nội today or yesterday: advertising SMS may go (decree 91)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    at = now.replace(hour=3, minute=0, second=0, microsecond=0)
    return at if at <= now else at - timedelta(days=1)


def outbox(ops: sa.Engine) -> list[Any]:
    with ops.connect() as con:
        return list(con.execute(sa.select(messages).order_by(messages.c.id)))


def settle(ops: sa.Engine, timeout: float = 30.0) -> list[Any]:
    """The outbox once no message handed to a provider still waits for its receipt."""
    deadline = time.monotonic() + timeout
    while True:
        rows = outbox(ops)
        if not any(r.status == Status.SENT for r in rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def dispatch(m: Messaging) -> None:
    dispatcher = m.dispatcher()
    try:
        for _ in range(10):
            if not dispatcher.run_once().total():
                break
    finally:
        dispatcher.close()


def someone_with_email_consent(m: Messaging, not_these: set[str]) -> str:
    with m.ops.connect() as con:
        emails = list(con.execute(sa.select(consents.c.address).where(
            consents.c.channel == "email", consents.c.status == "granted")).scalars())
    found = m.engine.execute("SELECT profile_id FROM profiles WHERE lower(trim(email)) IN "
                             "(SELECT unnest(?::VARCHAR[])) ORDER BY profile_id",
                             [emails]).fetchall()
    return next(p for (p,) in found if p not in not_these)


def e164(phone: str) -> str:
    return "+84" + phone[1:] if phone.startswith("0") else "+" + phone.lstrip("+")


def test_the_launched_draft_arrives_in_the_sandboxes_and_receipts_come_back(
        up: Demo) -> None:
    settings = up.settings()
    ops = operational.connect(settings.operational_url)
    reach: Reach = start_reach(settings, ops, retailer=up.retailer,
                               now=datetime.now(UTC).replace(tzinfo=None))
    sb = reach.sandboxes
    try:
        app = create_app(settings)
        with serving(app, up.port):
            m = Messaging(settings, app.state.analytics, app.state.ops, clock=daytime)
            plan = campaigns.get(ops, demo.CAMPAIGN).definition
            assert m.estimate(plan).gate.queued > 0
            m.launch(demo.CAMPAIGN)
            dispatch(m)
            # and the email template to one more customer who agreed to email, whatever
            # the day's audience held: the email path, end to end, every time
            one = someone_with_email_consent(m, {r.profile_id for r in outbox(ops)})
            by_email = plan.model_copy(update={"channels": [
                ChannelStep(channel=Channel.EMAIL, template=demo.EMAIL)]})
            assert m.test_send(by_email, [one]).queued == 1
            dispatch(m)
            rows = settle(ops)
            page = inbox_page(up)
        stats = campaigns.stats(ops, demo.CAMPAIGN)
    finally:
        reach.stop()
        ops.dispose()
    delivered = [r for r in rows if r.status == Status.DELIVERED]
    failed = [r for r in rows if r.status == Status.FAILED]
    assert delivered and {r.status for r in rows} <= {Status.DELIVERED, Status.FAILED,
                                                       Status.SUPPRESSED}
    assert all(r.provider_id and r.delivered_at for r in delivered)
    assert stats.holdout > 0
    assert stats.treatment == len({r.profile_id for r in rows if r.campaign})
    for f in failed:  # no Zalo account: the same customer gets the next channel
        assert f.channel == Channel.ZALO and "-118" in f.error
        assert any(r.fallback_of == f.id and r.channel == Channel.SMS for r in rows)
    by_channel = {ch: {r.address for r in delivered if r.channel == ch} for ch in Channel}
    assert by_channel[Channel.ZALO] and by_channel[Channel.SMS] and by_channel[Channel.EMAIL]
    # what each sandbox took is exactly what Sen recorded as delivered on its channel
    assert {e164(a.phone) for a in sb.esms.messages()} == by_channel[Channel.SMS]
    assert {e164(a.phone) for a in sb.zalo.messages()} == by_channel[Channel.ZALO]
    assert {r.address for r in failed} <= set(numbers_without_zalo(up.retailer))
    assert {t for mail in sb.relay.messages for t in mail.rcpt_tos} == by_channel[Channel.EMAIL]
    texts = {e164(a.phone): a.text for a in sb.esms.messages()}
    for r in delivered:
        assert r.coupon and r.coupon.startswith("VM")
        if r.channel == Channel.SMS:
            text = texts[r.address]
            assert text == r.body and text.startswith("[QC] ") and r.coupon in text
            assert f"{up.public}/l/" in text and f"Tu choi QC: {up.public}/u/" in text
    for a in sb.zalo.messages():
        params = json.loads(a.text)
        assert set(params) == {"customer_name", "voucher_code", "expiry", "store_name"}
        assert params["voucher_code"].startswith("VM") and params["customer_name"]
    for mail in sb.relay.messages:
        assert mail.tls and mail.header("Subject").startswith("[QC] ")
        assert f"<{up.public}/u/" in mail.header("List-Unsubscribe")
    calls = sb.esms.courier.sent + sb.zalo.courier.sent
    assert calls and all(url.startswith(f"{up.public}/hooks/") and status == 200
                         for _, url, status in calls)
    assert page["counts"] == {ESMS: len(sb.esms.messages()), ZALO: len(sb.zalo.messages()),
                              EMAIL: len(sb.relay.messages)}
    assert page["refresh"] == "5"


def inbox_page(up: Demo) -> dict[str, Any]:
    """The demo inbox page as the admin sees it: its counts per sandbox."""
    with httpx.Client(base_url=up.public, timeout=10) as client:
        form = client.get("/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert csrf is not None
        r = client.post("/login", data={"username": "admin", "password": PASSWORD,
                                        "csrf_token": csrf.group(1), "next": "/"})
        assert r.status_code == 303, r.text
        page = client.get("/demo/inboxes")
        draft = client.get(f"/campaigns/{demo.CAMPAIGN}")
    assert page.status_code == 200
    assert draft.status_code == 200 and "Mời khách Vela miền Nam quay lại" in draft.text
    counts = dict(re.findall(r'data-provider="([^"]+)"><span class="label">[^<]*</span>'
                             r'<span class="value" data-value="(\d+)"', page.text))
    return {"counts": {k: int(v) for k, v in counts.items()},
            "refresh": page.headers.get("refresh")}
