"""End to end in headless Chromium: build a nested segment rule, watch the count, save it.

A real server on 127.0.0.1 over the customers of :mod:`tests.web.customers` with
their traits computed: Lan is the one buyer (a new customer); everyone else is a
prospect, and nobody lives in the South.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sen.config import Settings
from sen.identity import resolver
from sen.ingest.writer import EventWriter
from sen.segments import events, rules
from sen.store import operational
from sen.store.analytics import DuckDBEngine
from sen.traits import runner
from sen.web import create_app, create_user
from tests.support import serve_in_thread

from . import customers as data

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "mat-khau-marketing"
ROOT = "#builder > .node.group"
FIRST = f"{ROOT} > .node-children > .node:nth-child(1)"
GROUP = f"{ROOT} > .node-children > .node:nth-child(2)"
REGION = f"{GROUP} > .node-children > .node:nth-child(1)"
STAGE = f"{GROUP} > .node-children > .node:nth-child(2)"


def rule(orders: int, stage: str) -> dict[str, Any]:
    return {"all": [{"trait": "orders", "op": ">=", "value": orders},
                    {"any": [{"trait": "region", "op": "=", "value": "South"},
                             {"not": {"trait": "lifecycle_stage", "op": "=", "value": stage}}]}]}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """Sen on 127.0.0.1 with a marketer and every test customer, traits computed."""
    settings = Settings(data_dir=tmp_path / "data", secret_key="browser-test",
                        identity_interval_s=0, traits_interval_s=0)
    ops = operational.connect(settings.operational_url)
    create_user(ops, "thu", PASSWORD, "marketer", display_name="Lê Anh Thư")
    ops.dispose()
    engine = DuckDBEngine(settings.analytics_path)
    writer = EventWriter(engine)
    for batch, source in data.everyone():
        writer.write_sync(data.rows(batch, source))
    resolver.rebuild(engine)
    runner.refresh(engine)
    events.rebuild(engine)
    engine.close()
    with serve_in_thread(create_app(settings)) as url:
        yield url


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
    return {"status": answer["status"], "body": json.loads(answer["body"])}


class Builder:
    """The builder page in Chromium for a logged-in marketer. Nodes are redrawn as the
    rule changes, so every lookup is made afresh."""

    def __init__(self, browser, server: str, path: str = "/segments/new") -> None:  # noqa: ANN001
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        self.browser, self.by, self.ec = browser, By, ec
        self.wait = WebDriverWait(browser, 20)
        browser.get(server + path)
        self.wait.until(ec.presence_of_element_located((By.ID, "login-submit")))
        browser.find_element(By.ID, "username").send_keys("thu")
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        browser.find_element(By.ID, "login-submit").click()

    def find(self, css: str):  # noqa: ANN201 - a selenium element
        return self.browser.find_element(self.by.CSS_SELECTOR, css)

    def choose(self, node: str, what: str, value: str) -> None:
        from selenium.webdriver.support.ui import Select

        Select(self.find(f"{node} > .node-head > select.{what}")).select_by_value(value)

    def settled(self) -> int:
        """The builder's count once it has answered for the rule as it is now (asking the
        API before that would compare with a count still on its way)."""
        self.wait.until(lambda _: "busy" not in self.find(".count-card").get_attribute("class")
                        and self.find("#segment-count").get_attribute("data-count"))
        return int(self.find("#segment-count").get_attribute("data-count"))

    def api_count(self, rule: dict) -> int:
        answer = call_api(self.browser, "POST", "/api/segments/preview", {"rule": rule})
        assert answer["status"] == 200, answer
        return answer["body"]["count"]


def test_build_a_nested_rule_watch_the_count_and_save(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select

    page = Builder(browser, server)
    wait, find, choose, settled, api_count = (page.wait, page.find, page.choose, page.settled,
                                              page.api_count)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, FIRST)))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Tạo phân khúc"
    assert find('nav a[aria-current="page"]').text == "Phân khúc"

    # all: [orders >= 1, any: [region = South, not(lifecycle_stage = prospect)]]
    choose(FIRST, "field", "orders")
    assert Select(find(f"{FIRST} select.op")).first_selected_option.get_attribute("value") == ">="
    find(f"{FIRST} input.value").send_keys("1")
    find(f"{ROOT} > .node-tools > .add-group").click()
    choose(GROUP, "group-op", "any")
    choose(REGION, "field", "region")
    choose(REGION, "value", "South")
    find(f"{GROUP} > .node-tools > .add-condition").click()
    choose(STAGE, "field", "lifecycle_stage")
    choose(STAGE, "value", "prospect")
    find(f"{STAGE} > .node-head > button.negate").click()
    assert "negated" in find(STAGE).get_attribute("class")

    shown = settled()
    api = call_api(browser, "POST", "/api/segments/preview", {"rule": rule(1, "prospect")})
    assert api["status"] == 200, api
    assert shown == api["body"]["count"] == 1 and find("#segment-count").text == "1"
    branches = {b["path"]: b["count"] for b in api["body"]["branches"]}
    for node, path in ((FIRST, "all[0]"), (GROUP, "all[1]"), (REGION, "all[1].any[0]"),
                       (STAGE, "all[1].any[1]")):
        assert find(node).get_attribute("data-path") == path
        badge = find(f"{node} > .node-head > .branch-count")
        assert badge.get_attribute("data-count") == str(branches[path]), path
    assert branches["all[1].any[1]"] == 1 and branches["all[1].any[0]"] == 0
    sample = browser.find_elements(By.CSS_SELECTOR, "#sample tbody tr a")
    assert [a.text for a in sample] == ["Nguyễn Thị Lan"]
    assert "/profiles/p_" in sample[0].get_attribute("href")

    # Not a new customer instead of not a prospect: Lan (new) drops out.
    choose(STAGE, "value", "new")
    assert settled() == api_count(rule(1, "new")) == 0
    # Orders >= 0: every prospect comes in.
    value = find(f"{FIRST} input.value")
    value.clear()
    value.send_keys("0")
    assert settled() == api_count(rule(0, "new")) == 6
    assert find(f"{FIRST} > .node-head > .branch-count").text == "7"

    find("#show-sql").click()
    wait.until(lambda _: "profile_traits" in find("#segment-sql").text)

    find("#segment-name").send_keys("chua-mua-hang")
    find("#segment-title").send_keys("Khách chưa mua hàng")
    find("#save-segment").click()
    wait.until(ec.url_to_be(server + "/segments/chua-mua-hang"))
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Khách chưa mua hàng"))
    saved = call_api(browser, "GET", "/api/segments/chua-mua-hang")
    assert saved["status"] == 200
    assert saved["body"]["title"] == "Khách chưa mua hàng"
    assert saved["body"]["rule"] == rules.dump(rules.parse(rule(0, "new")))

    # The saved rule loads back into the builder, with its count; then run it.
    assert settled() == 6
    assert find(f"{STAGE} > .node-head > select.value").get_attribute("value") == "new"
    assert find("#no-runs")
    find("#run-now").click()
    flash = wait.until(ec.presence_of_element_located((By.ID, "flash")))
    assert "6 khách hàng, 6 vào" in flash.text
    cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#history tbody td")]
    assert cells[1:4] == ["6", "6", "0"]
    listed = call_api(browser, "GET", "/api/segments")["body"]
    assert [(s["name"], s["history"][0]["members"]) for s in listed] == [("chua-mua-hang", 6)]


def test_a_saved_rule_of_every_kind_loads_and_saves_back_unchanged(server, browser):
    """Events (with a property filter the builder has no inputs for), segment membership,
    messages and a negated group: loaded into the builder, counted, saved again as is."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select

    wait = Builder(browser, server, "/login").wait
    wait.until(ec.presence_of_element_located((By.ID, "who")))
    everything = {"all": [
        {"event": "Product Viewed", "within_days": 30,
         "where": [{"property": "sku", "op": "is_set"}],
         "aggregate": {"fn": "count", "op": ">=", "value": 3}},
        {"not": {"any": [{"segment": "buyers"},
                         {"message": "clicked", "campaign": "C1", "channel": "zalo",
                          "within_days": 7}]}},
        {"trait": "age", "op": "between", "value": [18, 60]},
        {"trait": "channels", "op": "in", "value": ["store", "web"]},
        {"order": "completed", "within_days": 90,
         "where": [{"field": "brand", "op": "=", "value": "Vela"},
                   {"field": "total", "op": ">=", "value": 500000}],
         "aggregate": {"fn": "sum", "field": "total", "op": ">=", "value": 2000000}},
    ]}
    assert call_api(browser, "PUT", "/api/segments/buyers",
                    {"title": "Khách đã mua", "rule": {"trait": "orders", "op": ">=",
                                                       "value": 1}})["status"] == 200
    assert call_api(browser, "PUT", "/api/segments/mixed",
                    {"title": "Đủ loại", "rule": everything})["status"] == 200
    expected = call_api(browser, "POST", "/api/segments/preview",
                        {"rule": everything})["body"]

    browser.get(server + "/segments/mixed")
    wait.until(lambda _: "busy" not in browser.find_element(
        By.CSS_SELECTOR, ".count-card").get_attribute("class")
        and browser.find_element(By.ID, "segment-count").get_attribute("data-count"))
    assert browser.find_element(By.ID, "segment-count").get_attribute(
        "data-count") == str(expected["count"])
    group = browser.find_element(By.CSS_SELECTOR, '[data-path="all[1]"]')
    assert "negated" in group.get_attribute("class")
    kinds = [Select(s).first_selected_option.get_attribute("value") for s in
             browser.find_elements(By.CSS_SELECTOR, "#builder select.kind")]
    assert kinds == ["event", "segment", "message", "trait", "trait", "order"]
    first = '[data-path="all[0]"] > .node-head'
    assert browser.find_element(By.CSS_SELECTOR, f"{first} > input.times").get_attribute(
        "value") == "3"
    channel = browser.find_element(By.CSS_SELECTOR, '[data-path="all[1].not.any[1]"] > '
                                   '.node-head > select.channel')
    assert Select(channel).first_selected_option.get_attribute("value") == "zalo"
    order = '[data-path="all[4]"] > .node-head'
    assert Select(browser.find_element(By.CSS_SELECTOR, f"{order} > select.measure")
                  ).first_selected_option.get_attribute("value") == "spent"
    assert browser.find_element(By.CSS_SELECTOR, f"{order} > input.times").get_attribute(
        "value") == "2000000"
    branches = {b["path"]: b["count"] for b in expected["branches"]}
    badge = browser.find_element(By.CSS_SELECTOR,
                                 '[data-path="all[1].not.any[1]"] > .node-head > .branch-count')
    assert badge.get_attribute("data-count") == str(branches["all[1].not.any[1]"])

    browser.find_element(By.ID, "save-segment").click()
    wait.until(ec.staleness_of(group))
    wait.until(ec.presence_of_element_located((By.ID, "segment-count")))
    saved = call_api(browser, "GET", "/api/segments/mixed")["body"]
    assert saved["rule"] == rules.dump(rules.parse(everything))
    assert saved["title"] == "Đủ loại"


def test_an_order_condition_built_in_the_page_counts_like_the_api(server, browser):
    """Kind "order": bought in a store (Lan's one order), then did not."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    page = Builder(browser, server)
    find, settled, api_count = page.find, page.settled, page.api_count
    page.wait.until(page.ec.presence_of_element_located((page.by.CSS_SELECTOR, FIRST)))

    Select(find(f"{FIRST} > .node-head > select.kind")).select_by_value("order")
    statuses = [o.get_attribute("value") for o in
                Select(find(f"{FIRST} select.order-status")).options]
    assert statuses == ["completed", "refunded", "cancelled", "any"]
    Select(find(f"{FIRST} select.order-field")).select_by_value("channel")
    suggested = [o.get_attribute("value") for o in
                 browser.find_elements(By.CSS_SELECTOR, f"{FIRST} datalist option")]
    assert suggested == ["store"]
    find(f"{FIRST} input.value").send_keys("store")
    in_store = {"all": [{"order": "completed",
                         "where": [{"field": "channel", "op": "=", "value": "store"}]}]}
    assert settled() == api_count(in_store) == 1
    # Spent at least 1M in the store: Lan's one order is 990,000.
    Select(find(f"{FIRST} select.measure")).select_by_value("spent")
    find(f"{FIRST} input.times").send_keys("1000000")
    in_store["all"][0]["aggregate"] = {"fn": "sum", "field": "total", "op": ">=",
                                       "value": 1_000_000}
    assert settled() == api_count(in_store) == 0
    Select(find(f"{FIRST} select.measure")).select_by_value("times")  # clears the amount
    del in_store["all"][0]["aggregate"]
    assert settled() == api_count(in_store) == 1
    Select(find(f"{FIRST} > .node-head > select.did")).select_by_value("false")
    in_store["all"][0]["did"] = False
    everyone = api_count({"trait": "orders", "op": ">=", "value": 0})
    assert settled() == api_count(in_store) == everyone - 1


def test_an_event_condition_with_a_property_filter_counts_like_the_api(server, browser):
    """Kind "event": viewed product AO-123 (Lan, on the app), typed into the page."""
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    page = Builder(browser, server)
    find, settled, api_count = page.find, page.settled, page.api_count
    page.wait.until(page.ec.presence_of_element_located((page.by.CSS_SELECTOR, FIRST)))

    Select(find(f"{FIRST} > .node-head > select.kind")).select_by_value("event")
    find(f"{FIRST} input.event-name").send_keys("Product Viewed")
    viewed = {"all": [{"event": "Product Viewed"}]}
    assert settled() == api_count(viewed) == 1
    find(f"{FIRST} input.event-property").send_keys("sku")  # typed on: focus is kept
    assert find(f"{FIRST} input.event-property").get_attribute("value") == "sku"
    find(f"{FIRST} input.value").send_keys("AO-999")
    other = {"all": [{"event": "Product Viewed",
                      "where": [{"property": "sku", "op": "=", "value": "AO-999"}]}]}
    assert settled() == api_count(other) == 0
    value = find(f"{FIRST} input.value")
    value.clear()
    value.send_keys("AO-123")
    other["all"][0]["where"][0]["value"] = "AO-123"
    assert settled() == api_count(other) == 1
    find(f"{FIRST} input.times").send_keys("2")  # she viewed it once
    other["all"][0]["aggregate"] = {"fn": "count", "op": ">=", "value": 2}
    assert settled() == api_count(other) == 0
    find(f"{FIRST} input.times").send_keys(Keys.BACKSPACE)  # once again
    Select(find(f"{FIRST} select.op")).select_by_value("is_set")
    has_sku = {"all": [{"event": "Product Viewed",
                        "where": [{"property": "sku", "op": "is_set"}]}]}
    assert settled() == api_count(has_sku) == 1
    Select(find(f"{FIRST} select.op")).select_by_value("is_not_set")
    missing = {"all": [{"event": "Product Viewed",
                        "where": [{"property": "sku", "op": "is_not_set"}]}]}
    assert settled() == api_count(missing) == 0
