"""In headless Chromium against a real server and a real eSMS sandbox: a campaign set up
in the page, estimated, launched after the confirmation and watched until the sandbox's
delivery receipts come back; and an opt-out through the link an advertising SMS carries,
which the customer's 360 then shows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from sen.demo import audience
from sen.messaging.sms import measure

from . import messaging_shop as shop_support
from .messaging_shop import CUSTOMERS, SEGMENT, Shop, call_api, eventually, log_in, set_up_esms

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PHONE_BROWSER = ("Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 (KHTML, like "
                 "Gecko) Chrome/131.0.0.0 Mobile Safari/537.36")
TEMPLATE = {"name": "uu-dai", "title": "Ưu đãi cuối tuần", "channel": "sms",
            "purpose": "advertising",
            "body": "Chao {{ first_name | default('ban') }}, giam 20% giay da cuoi tuan nay."}


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


def _ready(browser, shop: Shop) -> None:  # noqa: ANN001
    """Logged in as the admin, eSMS as the SMS provider, the template saved."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    log_in(browser, shop.url, "/campaigns")
    WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.ID, "new-campaign")))
    set_up_esms(browser, shop)
    answer = call_api(browser, "PUT", "/api/templates/uu-dai", TEMPLATE)
    assert answer["status"] == 200, answer


def test_set_up_estimate_launch_and_watch_receipts_arrive(shop, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    wait = WebDriverWait(browser, 30)
    find = browser.find_element
    _ready(browser, shop)
    find(By.ID, "new-campaign").click()
    wait.until(ec.presence_of_element_located((By.ID, "campaign-form")))

    # A segment typed that matches no suggestion is flagged before saving, and refused.
    find(By.ID, "campaign-name").send_keys("cuoi-tuan")
    find(By.ID, "campaign-title").send_keys("Cuối tuần giảm 20%")
    find(By.ID, "campaign-segment").send_keys("khach-than")
    warning = find(By.ID, "segment-warning")
    wait.until(lambda _: warning.is_displayed())
    assert "khach-than" in warning.text
    Select(find(By.ID, "step-0-template")).select_by_value("uu-dai")
    find(By.ID, "campaign-budget").send_keys("1.000.000")
    find(By.ID, "save-campaign").click()
    problem = wait.until(ec.presence_of_element_located((By.ID, "problem-segment")))
    assert problem.text == "Không có “khach-than” trong danh sách gợi ý."
    assert find(By.ID, "campaign-title").get_attribute("value") == "Cuối tuần giảm 20%"
    assert find(By.ID, "campaign-budget").get_attribute("value") == "1.000.000"
    segment = find(By.ID, "campaign-segment")
    segment.send_keys("-thiet")
    wait.until(lambda _: not find(By.ID, "segment-warning").is_displayed())
    find(By.ID, "save-campaign").click()
    flash = wait.until(ec.presence_of_element_located((By.ID, "flash")))
    assert flash.text == "Đã lưu chiến dịch cuoi-tuan."
    assert find(By.ID, "campaign-status").text == "Bản nháp"

    find(By.ID, "estimate").click()
    wait.until(lambda _: find(By.ID, "est-audience").text == str(CUSTOMERS))
    assert find(By.ID, "est-queued").text == str(CUSTOMERS)
    assert find(By.ID, "est-channels").text == f"SMS: {CUSTOMERS}"
    assert find(By.ID, "est-suppressed").text == "0"
    cost = int(find(By.ID, "est-cost").get_attribute("data-cost"))
    assert cost == CUSTOMERS * 800 and find(By.ID, "est-cost").text == "4.000 ₫"

    find(By.ID, "launch").click()
    question = wait.until(ec.visibility_of_element_located((By.ID, "launch-question")))
    assert question.text.startswith(f"Gửi chiến dịch tới {CUSTOMERS} khách hàng, chi phí ước "
                                    "tính 4.000 ₫?")
    find(By.ID, "confirm-launch").click()
    live = wait.until(ec.presence_of_element_located((By.ID, "live")))

    def stat(name: str) -> str:
        return find(By.CSS_SELECTOR, f'#live [data-stat="{name}"]').text

    wait.until(lambda _: stat("delivered") == str(CUSTOMERS))
    assert (stat("treatment"), stat("sent"), stat("failed"), stat("suppressed")) == \
        (str(CUSTOMERS), str(CUSTOMERS), "0", "0")
    # What was spent is what eSMS charged: a name with a non-GSM letter makes two parts.
    charged = sum(measure(m.text).parts * 800 for m in shop.esms.messages())
    assert stat("cost") == f"{charged:,} ₫".replace(",", ".")
    assert live.get_attribute("data-refreshed")
    wait.until(lambda _: find(By.ID, "campaign-status").text == "Đã gửi xong")
    assert sorted(m.phone for m in shop.esms.messages()) == \
        sorted("0" + audience.phone(i)[3:] for i in range(CUSTOMERS))
    assert all(m.text.startswith("[QC] Chao ") for m in shop.esms.messages())

    browser.get(shop.url + "/campaigns")
    row = wait.until(ec.presence_of_element_located(
        (By.CSS_SELECTOR, 'tr[data-campaign="cuoi-tuan"]')))
    assert "Đã gửi xong" in row.text and SEGMENT in row.text
    assert row.find_element(By.CSS_SELECTOR, '[data-stat="delivered"]').text == str(CUSTOMERS)


def test_an_opt_out_link_in_an_advertising_sms_changes_the_360(shop, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 30)
    find = browser.find_element
    _ready(browser, shop)
    [minh] = call_api(browser, "GET", "/api/profiles/search?q=0960000001")["body"]
    pid = minh["profile_id"]
    draft = {"name": "nhac-lai", "title": "Nhắc lại", "segment": SEGMENT,
             "channels": [{"channel": "sms", "template": "uu-dai"}]}
    assert call_api(browser, "PUT", "/api/campaigns/nhac-lai", draft)["status"] == 200
    sent = call_api(browser, "POST", "/api/campaigns/nhac-lai/test", {"profile_ids": [pid]})
    assert sent["body"] == {"queued": 1, "suppressed": {}}
    [sms] = eventually(shop.esms.messages)
    link = re.search(r"Từ chối QC: (\S+)$|Tu choi QC: (\S+)$", sms.text)
    assert link, sms.text
    url = link.group(1) or link.group(2)
    assert url.startswith(shop.url + "/u/")

    # She opens it on her phone (a headless browser's own user agent is a link scanner's).
    browser.execute_cdp_cmd("Network.setUserAgentOverride", {"userAgent": PHONE_BROWSER})
    browser.get(url)
    done = wait.until(ec.presence_of_element_located((By.ID, "unsubscribe-done")))
    assert "Bạn đã từ chối nhận tin quảng cáo qua SMS tới 0960 *** 001" in done.text

    browser.get(f"{shop.url}/profiles/{pid}")
    row = wait.until(ec.presence_of_element_located(
        (By.CSS_SELECTOR, '#consents tr[data-channel="sms"][data-purpose="advertising"]')))
    assert row.get_attribute("data-status") == "revoked"
    assert "Đã từ chối" in row.text and "Liên kết từ chối nhận tin" in row.text
    care = find(By.CSS_SELECTOR, '#consents tr[data-channel="sms"][data-purpose="care"]')
    assert care.get_attribute("data-status") == "none" and "Chưa ghi nhận" in care.text
    message = find(By.CSS_SELECTOR, "#messages tbody tr")
    assert "SMS" in message.text and "[QC] Chao Minh, giam 20%" in message.text
    assert message.get_attribute("data-status") in ("sent", "delivered")
