"""The EPA utilisation page in a real headless Chromium, acting as a person would."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.conftest import wait_for
from tests.test_browser_techtransfer import (
    NO_DATA,
    card_text,
    chips,
    choose,
    click_bar,
    dropdown_values,
    numbers,
    trace,
    visit,
    wait_figure,
)

pytestmark = pytest.mark.browser

P = "epa"
EU_JP = "EU → Japan (EU exports)"
JP_EU = "Japan → EU (Japanese exports)"


def test_direction_filter_changes_the_charts(browser, live_server) -> None:  # noqa: ANN001
    visit(browser, live_server + "/epa")
    pur = wait_figure(browser, P, "pur-by-year")
    assert {t["name"] for t in pur["traces"]} == {EU_JP, JP_EU}
    values0 = wait_figure(browser, P, "values-by-year")
    eligible0 = sum(trace(values0, "Eligible imports")["y"])
    choose(browser, P, "direction", "EU → Japan")
    wait_for(lambda: "direction=EU_JP" in browser.current_url)
    pur1 = wait_figure(browser, P, "pur-by-year", lambda f: len(f["traces"]) == 1)
    assert trace(pur1)["name"] == EU_JP
    # 2019 and 2020 EU exports: the published 53.5% and 63.3%
    rates = dict(zip(trace(pur1)["x"], trace(pur1)["y"], strict=True))
    assert round(rates[2019], 3) == 0.535 and round(rates[2020], 3) == 0.633
    values1 = wait_figure(browser, P, "values-by-year",
                          lambda f: sum(trace(f, "Eligible imports")["y"]) < eligible0)
    assert sum(trace(values1, "Eligible imports")["y"]) > 0
    rows = numbers(browser, P, "pur-by-year")
    assert {r[1] for r in rows} == {EU_JP}  # names, not codes, in the table
    assert "53.5%" in [r[2] for r in rows]


def test_click_a_member_state_filters_the_other_charts(browser, live_server) -> None:  # noqa: ANN001
    visit(browser, live_server + "/epa")
    ms = trace(wait_figure(browser, P, "pur-by-member-state"))
    assert len(ms["customdata"]) == 27
    heat0 = trace(wait_figure(browser, P, "pur-heatmap"))["customdata"]
    values0 = sum(trace(wait_figure(browser, P, "values-by-year"), "Eligible imports")["y"])
    click_bar(browser, P, "pur-by-member-state", "DE")
    wait_for(lambda: "sel_member_state=DE" in browser.current_url)
    wait_for(lambda: chips(browser) == ["Member state: Germany ×"])
    values1 = wait_figure(browser, P, "values-by-year",
                          lambda f: sum(trace(f, "Eligible imports")["y"]) < values0)
    assert sum(trace(values1, "Eligible imports")["y"]) > 0.1 * values0  # Germany is big
    assert "Member state: Germany" in card_text(browser, P, "pur-heatmap")
    # the clicked chart keeps all member states and fades the others
    faded = trace(wait_figure(browser, P, "pur-by-member-state",
                              lambda f: trace(f)["opacity"]))
    assert len(faded["customdata"]) == 27
    assert [o == 1.0 for o in faded["opacity"]] == [c == "DE" for c in faded["customdata"]]
    assert trace(wait_figure(browser, P, "pur-heatmap"))["customdata"] == heat0
    browser.find_element(By.CSS_SELECTOR, ".chip").click()
    wait_for(lambda: "sel_member_state" not in browser.current_url and chips(browser) == [])
    wait_figure(browser, P, "values-by-year",
                lambda f: sum(trace(f, "Eligible imports")["y"]) == values0)


def test_url_with_page_filters_is_applied(browser, live_server) -> None:  # noqa: ANN001
    visit(browser, live_server + "/epa?direction=JP_EU&hs_section=XVI,XVII&from=2019&to=2023")
    pur = wait_figure(browser, P, "pur-by-year")
    assert [t["name"] for t in pur["traces"]] == [JP_EU]
    assert trace(pur)["x"] == [2019, 2020, 2021, 2022, 2023]
    heat = trace(wait_figure(browser, P, "pur-heatmap"))
    assert len(heat["y"]) == 2 and heat["y"][0].startswith("XVI ")
    wait_for(lambda: dropdown_values(browser, P, "direction") == [JP_EU])
    assert len(dropdown_values(browser, P, "hs_section")) == 2
    assert "Direction: Japan → EU" in card_text(browser, P, "pur-by-member-state")


@pytest.mark.parametrize("query", ["?sector=research", "?to=2018"])
def test_filters_without_data_say_so(browser, live_server, query) -> None:  # noqa: ANN001
    # no HS section maps to "Frontier research & skills"; trade data starts in 2019
    visit(browser, live_server + "/epa" + query)
    for key in ("pur-by-year", "values-by-year", "pur-by-member-state", "pur-heatmap"):
        f = wait_figure(browser, P, key)
        assert f["empty"] and NO_DATA in f["notes"], key
        assert NO_DATA in card_text(browser, P, key)
