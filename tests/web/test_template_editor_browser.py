"""In headless Chromium: a template typed in the editor, its live preview and SMS counter
changing as it grows past a part, a problem beside the text for an unknown field, fixed,
and the template saved."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from . import messaging_shop as shop_support
from .messaging_shop import Shop, call_api, log_in, set_up_esms

pytestmark = [pytest.mark.browser, pytest.mark.slow]
LONG = " Tuần lễ vàng: giảm giá đến 50% cho mọi đôi giày da, chỉ từ thứ sáu đến chủ nhật."


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    yield from shop_support.serve(tmp_path)


@pytest.fixture
def browser(tmp_path: Path):  # noqa: ANN201
    from .conftest import CHROMEDRIVER, CHROMIUM

    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("Chromium and chromedriver are not installed")
    driver = shop_support.chromium(tmp_path)
    yield driver
    driver.quit()


def test_type_watch_the_preview_and_counter_fix_a_problem_and_save(shop, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    wait = WebDriverWait(browser, 20)
    log_in(browser, shop.url, "/templates")
    wait.until(ec.presence_of_element_located((By.ID, "new-template-button")))
    set_up_esms(browser, shop)
    browser.find_element(By.ID, "new-template-button").click()
    body = wait.until(ec.presence_of_element_located((By.ID, "tpl-body")))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Tạo mẫu tin"
    find = browser.find_element

    def counter(which: str = "accented") -> tuple[str, str, str, str]:
        return tuple(find(By.ID, f"{k}-{which}").text for k in ("enc", "units", "parts", "cost"))

    # The preview is for a real customer picked by phone.
    customer = find(By.ID, "preview-customer")
    customer.clear()
    customer.send_keys("0960000001")
    wait.until(lambda _: "Trần Văn Minh" in customer.get_attribute("value"))
    assert "+84960000001" in customer.get_attribute("value")

    find(By.ID, "tpl-name").send_keys("uu-dai-cuoi-tuan")
    find(By.ID, "tpl-title").send_keys("Ưu đãi cuối tuần")
    Select(find(By.ID, "tpl-purpose")).select_by_value("care")
    body.send_keys("Chào {{ first_name | default('bạn') }}, Sen gửi bạn ưu đãi.")
    bubble = find(By.ID, "preview-sms-text")
    wait.until(lambda _: bubble.text == "Chào Minh, Sen gửi bạn ưu đãi.")
    assert counter("accented") == ("Unicode (có dấu)", "30 / 70", "1", "700 ₫")
    assert counter("stripped") == ("GSM-7 (không dấu)", "30 / 160", "1", "700 ₫")
    assert "sends" in find(By.ID, "parts-accented").get_attribute("class")

    # Past 70 Unicode characters the accented text needs two parts of 67; stripped, one.
    body.send_keys(LONG)
    wait.until(lambda _: counter("accented")[2] == "2")
    assert counter("accented") == ("Unicode (có dấu)", "111 / 134", "2", "1.400 ₫")
    assert counter("stripped") == ("GSM-7 (không dấu)", "111 / 160", "1", "700 ₫")
    find(By.ID, "tpl-strip").click()
    wait.until(lambda _: "sends" in find(By.ID, "parts-stripped").get_attribute("class"))
    assert bubble.text.startswith("Chao Minh, Sen gui ban uu dai. Tuan le vang")

    # An unknown field: the problem shows beside the text, in Vietnamese; fixed, it goes.
    body.send_keys(" Mã: {{ ma_giam_gia }}")
    problem = find(By.ID, "problem-body")
    wait.until(lambda _: problem.is_displayed() and "ma_giam_gia" in problem.text)
    assert "không phải là trường thông tin khách hàng" in problem.text
    assert body.get_attribute("aria-invalid") == "true"
    find(By.ID, "save-template").click()
    status = find(By.ID, "save-status")
    wait.until(lambda _: status.text.startswith("Chưa lưu"))
    assert "ma_giam_gia" in problem.text and "{{ ma_giam_gia }}" in body.get_attribute("value")
    for _ in " Mã: {{ ma_giam_gia }}":
        body.send_keys("\ue003")  # backspace
    wait.until(lambda _: not problem.is_displayed())

    find(By.ID, "save-template").click()
    flash = wait.until(ec.presence_of_element_located((By.ID, "flash")))
    assert flash.text == "Đã lưu mẫu tin uu-dai-cuoi-tuan."
    assert browser.current_url.startswith(shop.url + "/templates/uu-dai-cuoi-tuan")
    saved = call_api(browser, "GET", "/api/templates/uu-dai-cuoi-tuan")["body"]
    assert (saved["version"], saved["purpose"], saved["strip_diacritics"]) == (1, "care", True)
    assert saved["body"] == "Chào {{ first_name | default('bạn') }}, Sen gửi bạn ưu đãi." + LONG
    assert find(By.ID, "tpl-body").get_attribute("value") == saved["body"]
