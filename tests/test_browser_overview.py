"""The overview in a real headless Chromium, acting as a manager would."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.conftest import wait_for

pytestmark = pytest.mark.browser


def _kpi(browser, key: str) -> str:  # noqa: ANN001
    return browser.find_element(By.CSS_SELECTOR, f"[data-kpi='{key}']").text


def test_overview_year_change_updates_kpis(browser, live_server) -> None:  # noqa: ANN001
    browser.get(live_server + "/")
    wait_for(lambda: _kpi(browser, "enquiries") not in ("", "–"))
    assert "Demo data" in browser.find_element(By.ID, "demo-badge").text
    before = {k: _kpi(browser, k) for k in ("applications", "enquiries", "pur_eu_jp")}
    Select(browser.find_element(By.ID, "filter-year-to")).select_by_value("2020")
    wait_for(lambda: "to=2020" in browser.current_url)
    wait_for(lambda: _kpi(browser, "applications") != before["applications"])
    after = {k: _kpi(browser, k) for k in before}
    assert after["enquiries"] != before["enquiries"]
    # 2020 EU->JP utilisation is calibrated to the published 63.3%
    assert after["pur_eu_jp"] == "63.3%"
    assert "2020 vs 2019" in browser.find_element(By.ID, "overview-cards").text  # period label
    # back restores the previous filters
    browser.back()
    wait_for(lambda: "to=2020" not in browser.current_url)
    wait_for(lambda: _kpi(browser, "applications") == before["applications"])
    sel = Select(browser.find_element(By.ID, "filter-year-to"))
    assert sel.first_selected_option.text != "2020"


def test_url_with_filters_is_applied(browser, live_server) -> None:  # noqa: ANN001
    browser.get(live_server + "/?from=2019&to=2021&sector=agrifood")
    wait_for(lambda: _kpi(browser, "pur_eu_jp") not in ("",))
    assert Select(browser.find_element(By.ID, "filter-year-from")
                  ).first_selected_option.text == "2019"
    assert Select(browser.find_element(By.ID, "filter-year-to")
                  ).first_selected_option.text == "2021"
    chosen = browser.find_element(By.ID, "filter-sectors").text
    assert "Agri-food" in chosen
    wait_for(lambda: "2019–2021" in browser.find_element(By.ID, "overview-subtitle").text)
    # no data: ICT has no HS section in the EPA tables -> "No data", not an error
    browser.get(live_server + "/?from=2019&to=2021&sector=research")
    wait_for(lambda: _kpi(browser, "pur_eu_jp") == "No data")


def test_invalid_query_falls_back(browser, live_server) -> None:  # noqa: ANN001
    browser.get(live_server + "/?from=abc&sector=nonsense")
    wait_for(lambda: _kpi(browser, "enquiries") not in ("", "–"))
    assert Select(browser.find_element(By.ID, "filter-year-from")
                  ).first_selected_option.text == "2014"
    assert "Error" not in browser.page_source.split("<body", 1)[1][:5000]


def test_language_switch_to_japanese_and_back(browser, live_server) -> None:  # noqa: ANN001
    browser.get(live_server + "/?from=2019")
    wait_for(lambda: _kpi(browser, "enquiries") not in ("", "–"))
    try:
        browser.find_element(By.ID, "lang-switch").click()
        wait_for(lambda: browser.find_element(By.CSS_SELECTOR, "h1.page-title").text == "概要")
        assert "from=2019" in browser.current_url  # the view is kept
        assert browser.find_element(By.ID, "demo-badge").text == "デモデータ"
        wait_for(lambda: "応募数" in browser.find_element(By.ID, "overview-cards").text)
        browser.find_element(By.ID, "lang-switch").click()
        wait_for(lambda: browser.find_element(By.CSS_SELECTOR, "h1.page-title").text
                 == "Overview")
    finally:
        browser.delete_cookie("lang")
