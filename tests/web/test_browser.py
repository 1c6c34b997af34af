"""End to end in headless Chromium: a real server, the login form, the overview's counts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from sen.config import Settings
from sen.store import operational
from sen.store.analytics import DuckDBEngine
from sen.web import create_app
from sen.web.users import ensure_admin
from tests.support import serve_in_thread

from .test_overview import HCM, build_store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """Sen on 127.0.0.1 in a thread, with an admin and a small known data set."""
    settings = Settings(data_dir=tmp_path / "data", secret_key="browser-test")
    ops = operational.connect(settings.operational_url)
    ensure_admin(ops, "admin", "mat-khau-admin")
    ops.dispose()
    engine = DuckDBEngine(settings.analytics_path)
    build_store(engine, datetime.now(HCM).date())
    engine.close()
    with serve_in_thread(create_app(settings)) as url:
        yield url


def test_log_in_and_read_the_overview(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 20)
    browser.get(server + "/")
    wait.until(ec.presence_of_element_located((By.ID, "login-submit")))
    assert "/login" in browser.current_url
    browser.find_element(By.ID, "username").send_keys("admin")
    browser.find_element(By.ID, "password").send_keys("sai-mat-khau")
    browser.find_element(By.ID, "login-submit").click()
    error = wait.until(ec.presence_of_element_located((By.ID, "login-error")))
    assert error.text == "Sai tên đăng nhập hoặc mật khẩu."

    browser.find_element(By.ID, "password").send_keys("mat-khau-admin")
    browser.find_element(By.ID, "login-submit").click()
    total = wait.until(ec.presence_of_element_located((By.ID, "total-events")))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Tổng quan"
    assert total.text == "6"
    assert browser.find_element(By.ID, "total-orders").text == "3"
    assert browser.find_element(By.ID, "total-customers").text == "2"
    assert browser.find_element(By.ID, "total-revenue").text == "1.600.000 ₫"
    pos = browser.find_element(By.CSS_SELECTOR, '#by-source tr[data-source="pos"]')
    assert [td.text for td in pos.find_elements(By.TAG_NAME, "td")] == \
        ["pos", "2", "0", "3", "1.600.000 ₫"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar")) == 120

    browser.find_element(By.CSS_SELECTOR, 'a[lang="en"]').click()
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Overview"))
    assert browser.find_element(By.ID, "total-revenue").text == "₫1,600,000"

    browser.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
    wait.until(ec.presence_of_element_located((By.ID, "login-submit")))
    browser.get(server + "/")
    wait.until(ec.presence_of_element_located((By.ID, "login-submit")))
    assert "/login" in browser.current_url
