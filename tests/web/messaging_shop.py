"""A shop for the messaging pages in headless Chromium: a real server on 127.0.0.1 whose
``public_url`` is its own address (so provider receipts and opt-out links come back to
it), dispatch and relay running inside it, a real eSMS sandbox, and a handful of
customers with phones and granted SMS advertising consent in a saved segment.

The browser records its console and every request it makes, so a test can require
no console errors and no request to another host.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sen.config import Settings
from sen.demo import audience
from sen.demo.sandbox import EsmsSandbox
from sen.demo.sandbox import serve_in_thread as serve_sandbox
from sen.identity import resolver
from sen.ingest.writer import EventWriter
from sen.messaging import consent
from sen.messaging.consent import ConsentChange
from sen.messaging.events import utc_now
from sen.messaging.model import Channel, ConsentStatus, Purpose
from sen.segments import rules, saved
from sen.store import operational
from sen.store.analytics import DuckDBEngine
from sen.web import create_app, create_user
from tests.support import free_port, serve_in_thread

from .customers import at, ev, rows

PASSWORD = "mat-khau-marketing"
SEGMENT = "khach-than-thiet"
CUSTOMERS = 5
ESMS_KEYS = {"api_key": "esms-api-key", "secret_key": "esms-secret"}


@dataclass
class Shop:
    url: str
    esms: EsmsSandbox
    esms_url: str
    settings: Settings


def customers() -> list[dict[str, Any]]:
    """Each customer's identify from the shop's server: a user id, a name and a phone
    typed nationally (``0960000001``); her E.164 phone is :func:`audience.phone`."""
    return [ev(f"kh-{i}", "identify", ts=at(i + 1), userId=f"KH{i}",
               traits={"name": audience.NAMES[i], "phone": "0" + audience.phone(i)[3:]})
            for i in range(CUSTOMERS)]


def build(tmp_path: Path, port: int) -> Settings:
    """The stores: users, customers with phones and granted SMS advertising consent,
    and a saved segment holding them all."""
    settings = Settings(data_dir=tmp_path / "data", secret_key="browser-test",
                        public_url=f"http://127.0.0.1:{port}", identity_interval_s=0,
                        traits_interval_s=0, profile_events_interval_s=0,
                        segments_interval_s=0, dispatch_interval_s=0.2, relay_interval_s=0.2)
    ops = operational.connect(settings.operational_url)
    create_user(ops, "thu", PASSWORD, "admin", display_name="Lê Anh Thư")
    create_user(ops, "hoa", PASSWORD, "support", display_name="Trần Thu Hoa")
    saved.save(ops, saved.Segment(SEGMENT, "Khách thân thiết", rules.parse(
        {"trait": "orders", "op": ">=", "value": 1})), actor="thu")
    now = utc_now()
    consent.apply(ops, [ConsentChange(Channel.SMS, audience.phone(i), Purpose.ADVERTISING,
                                      ConsentStatus.GRANTED, "import", now)
                        for i in range(CUSTOMERS)], now=now)
    ops.dispose()
    engine = DuckDBEngine(settings.analytics_path)
    EventWriter(engine).write_sync(rows(customers(), "server"))
    resolver.rebuild(engine)
    engine.execute("INSERT INTO segment_members SELECT ?, profile_id FROM profiles", [SEGMENT])
    engine.close()
    return settings


def serve(tmp_path: Path) -> Iterator[Shop]:
    """The shop's server and its eSMS sandbox (advertising one by one, receipts on)."""
    port = free_port()
    settings = build(tmp_path, port)
    esms = EsmsSandbox(single_advertising=True, receipt_delay=0.2)
    with serve_sandbox(esms.app()) as esms_url, \
            serve_in_thread(create_app(settings), port=port) as url:
        yield Shop(url, esms, esms_url, settings)
    esms.close()


def chromium(tmp_path: Path):  # noqa: ANN201 - a selenium driver
    """Headless Chromium that keeps its console and its requests for the test to read."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from .conftest import CHROMEDRIVER, CHROMIUM, FLAGS

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    return driver


def log_in(browser, url: str, path: str, username: str = "thu") -> None:  # noqa: ANN001
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url + path)
    WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.ID, "login-submit")))
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login-submit").click()


def console_errors(browser) -> list[str]:  # noqa: ANN001
    """Console messages of level SEVERE since the last call (a failed request included)."""
    return [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def requested_hosts(browser) -> set[str]:  # noqa: ANN001
    """Every host the browser sent a request to since the last call."""
    hosts = set()
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if url.startswith(("http:", "https:", "ws:", "wss:")):
                hosts.add(urlsplit(url).netloc)
    return hosts


def page_load_ms(browser) -> float:  # noqa: ANN001
    """The last navigation's time from request to the load event, in milliseconds."""
    return float(browser.execute_script(
        "const n = performance.getEntriesByType('navigation')[0];"
        "return n.loadEventEnd > 0 ? n.loadEventEnd - n.startTime : n.duration;"))


def call_api(browser, method: str, path: str, body: Any = None) -> dict:  # noqa: ANN001
    """A JSON request with the page's session cookie and CSRF token, from inside the page."""
    text = browser.execute_async_script(
        "const [method, path, body, done] = arguments;"
        "const csrf = document.querySelector('meta[name=\"csrf-token\"]').content;"
        "fetch(path, {method, headers: {'Content-Type': 'application/json',"
        " 'X-CSRF-Token': csrf}, body: body === null ? undefined : JSON.stringify(body)})"
        ".then(r => r.text().then(t => done(JSON.stringify({status: r.status, body: t}))))"
        ".catch(e => done(JSON.stringify({status: 0, body: JSON.stringify(String(e))})));",
        method, path, body)
    answer = json.loads(text)
    return {"status": answer["status"], "body": json.loads(answer["body"] or "null")}


def set_up_esms(browser, shop: Shop) -> dict:  # noqa: ANN001
    """The eSMS sandbox as the SMS provider, through the API as an admin would."""
    answer = call_api(browser, "PUT", "/api/providers/esms-chinh", {
        "kind": "esms", "secrets": ESMS_KEYS,
        "config": {"brandname": "SENSHOES", "base_url": shop.esms_url + "/MainService.svc/json",
                   "advertising_mode": "single", "price_advertising": 800, "price_care": 700,
                   "timeout_s": 5}})
    assert answer["status"] == 200, answer
    config = answer["body"]["config"] | {"callback_url": answer["body"]["webhook_url"]}
    answer = call_api(browser, "PUT", "/api/providers/esms-chinh",
                      {"kind": "esms", "config": config})
    assert answer["status"] == 200, answer
    return answer["body"]


def eventually(check: Any, timeout: float = 20.0, pause: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(pause)
