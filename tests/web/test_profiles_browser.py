"""End to end in headless Chromium: find a customer by phone, read the 360, unmerge.

A real server on 127.0.0.1 over a store holding Lan: anonymous on the web shop,
then logged in with her phone; at the till with the same phone typed another way,
and an order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sen.config import Settings
from sen.identity import resolver
from sen.ingest.writer import EventWriter
from sen.store import operational
from sen.store.analytics import DuckDBEngine
from sen.web import create_app, create_user
from tests.support import serve_in_thread

from . import customers as data

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "mat-khau-cskh"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """Sen on 127.0.0.1 with a support agent and Lan's web and till events resolved."""
    settings = Settings(data_dir=tmp_path / "data", secret_key="browser-test",
                        identity_interval_s=0.5)
    ops = operational.connect(settings.operational_url)
    create_user(ops, "hoa", PASSWORD, "support", display_name="Trần Thu Hoa")
    ops.dispose()
    engine = DuckDBEngine(settings.analytics_path)
    writer = EventWriter(engine)
    writer.write_sync(data.rows(data.lan_web(), "web"))
    writer.write_sync(data.rows(data.lan_pos(), "pos"))
    resolver.rebuild(engine)
    engine.close()
    with serve_in_thread(create_app(settings)) as url:
        yield url


def fetch_json(browser, path: str) -> dict:  # noqa: ANN001
    """GET ``path`` with the page's session cookie, from inside the page."""
    text = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {headers: {Accept: 'application/json'}})"
        ".then(r => r.text().then(t => done(JSON.stringify({status: r.status, body: t}))))"
        ".catch(e => done(JSON.stringify({status: 0, body: String(e)})));", path)
    answer = json.loads(text)
    return {"status": answer["status"], "body": json.loads(answer["body"])}


def test_find_by_phone_read_the_360_and_unmerge(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 20)
    browser.get(server + "/profiles")
    wait.until(ec.presence_of_element_located((By.ID, "login-submit")))
    browser.find_element(By.ID, "username").send_keys("hoa")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login-submit").click()

    search = wait.until(ec.presence_of_element_located((By.ID, "q")))
    assert browser.find_element(By.CSS_SELECTOR, 'nav a[aria-current="page"]').text == \
        "Khách hàng"
    search.send_keys("0912.345.678")
    browser.find_element(By.ID, "search").click()
    rows = wait.until(ec.presence_of_all_elements_located((By.CSS_SELECTOR,
                                                           "#results tbody tr")))
    assert len(rows) == 1
    assert "Nguyễn Thị Lan" in rows[0].text and data.LAN_E164 in rows[0].text
    rows[0].find_element(By.TAG_NAME, "a").click()

    wait.until(ec.presence_of_element_located((By.ID, "golden")))
    pid = browser.find_element(By.ID, "profile-id").text

    def fact(field: str) -> str:
        return browser.find_element(By.CSS_SELECTOR, f'#golden dd[data-field="{field}"]').text

    assert browser.find_element(By.ID, "profile-name").text.startswith("Nguyễn Thị Lan")
    assert (fact("phone"), fact("email"), fact("birth_date"), fact("address")) == \
        (data.LAN_E164, "lan@gmail.com", "01/04/1990", "12 Lê Lợi, Huế")
    assert fact("user_ids") == "KH1, U1"
    assert fact("status") == "Định danh"
    order = browser.find_element(By.CSS_SELECTOR, '#orders tr[data-order="HD1"]')
    assert "990.000 ₫" in order.text and "HCM-01" in order.text
    timeline = [r.get_attribute("data-message-id")
                for r in browser.find_elements(By.CSS_SELECTOR, "#timeline tbody tr")]
    assert timeline == ["lan-w2", "lan-w1", "lan-p2", "lan-p1"]
    assert "Chưa có tin nhắn nào" in browser.find_element(By.ID, "no-messages").text
    raws = {r.find_elements(By.TAG_NAME, "td")[1].text for r in browser.find_elements(
        By.CSS_SELECTOR, '#identifiers tr[data-id-type="phone"]')}
    assert raws == {"0912 345 678", "84912345678"}

    before = fetch_json(browser, "/api/profiles/lookup?phone=" + "0912%20345%20678")
    assert before["status"] == 200
    assert [(p["profile_id"], p["records"]) for p in before["body"]] == [(pid, 3)]

    browser.find_element(By.CSS_SELECTOR, '#joining li[data-id-type="phone"] a.unmerge').click()
    confirm = wait.until(ec.element_to_be_clickable((By.ID, "confirm-unmerge")))
    assert data.LAN_E164 in browser.find_element(By.TAG_NAME, "h1").text
    confirm.click()

    flash = wait.until(ec.presence_of_element_located((By.ID, "flash")))
    assert "Đã tách hồ sơ theo +84912345678" in flash.text
    links = browser.find_elements(By.CSS_SELECTOR, "#flash a.profile-link")
    assert len(links) == 2 and pid in {a.get_attribute("data-profile") for a in links}
    assert browser.find_elements(By.CSS_SELECTOR, '#merge-history tr[data-action="split"]')

    def check_half(user_id: str) -> None:
        """The till's half keeps the order; the web half the email and its own events."""
        wait.until(ec.presence_of_element_located((By.ID, "golden")))
        assert fact("user_ids") == user_id
        if user_id == "KH1":
            assert browser.find_element(By.CSS_SELECTOR, '#orders tr[data-order="HD1"]')
        else:
            assert fact("email") == "lan@gmail.com"
            assert browser.find_element(By.ID, "no-orders")
            assert [r.get_attribute("data-message-id") for r in browser.find_elements(
                By.CSS_SELECTOR, "#timeline tbody tr")] == ["lan-w2", "lan-w1"]

    # The profile id stays with whichever record ranks first; the other half is new.
    first = fact("user_ids")
    assert first in {"KH1", "U1"}
    check_half(first)

    after = fetch_json(browser, "/api/profiles/lookup?phone=84912345678")
    assert after["status"] == 200
    assert sorted(p["records"] for p in after["body"]) == [1, 2]
    assert all(p["phone"] == data.LAN_E164 for p in after["body"])

    other = next(a for a in links if a.get_attribute("data-profile") != pid)
    other.click()
    check_half({"KH1", "U1"}.difference({first}).pop())
