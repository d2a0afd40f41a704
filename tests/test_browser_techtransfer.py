"""The Technology transfer page in a real headless Chromium, acting as a person would.

Scrolling is made instant because Bootstrap turns on smooth scrolling, and a click aimed
while the page still glides lands somewhere else.

The small helpers here (read a chart's figure, pick a dropdown value, click a bar, open
"Show the numbers") are shared with the Research and EPA browser tests.
"""

from __future__ import annotations

import json

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.conftest import chart_numbers, wait_for

pytestmark = pytest.mark.browser

NO_DATA = "No data for these filters"
_JS_CENTER = "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})"
_JS_FIGURE = """
const gd = document.querySelector(arguments[0] + ' .js-plotly-plot');
if (!gd || !gd.data || !gd.layout) return null;
const arr = a => a == null ? null : (a._inputArray ? Array.from(a._inputArray) : Array.from(a));
return {
  empty: !!(gd.layout.meta && gd.layout.meta.empty),
  notes: (gd.layout.annotations || []).map(a => a.text),
  traces: gd.data.map(t => ({name: t.name === undefined ? null : t.name, type: t.type,
                             x: arr(t.x), y: arr(t.y),
                             customdata: t.customdata ? arr(t.customdata) : null,
                             opacity: t.marker && t.marker.opacity != null
                               ? [].concat(t.marker.opacity) : null})),
};
"""


def visit(browser, url: str) -> None:  # noqa: ANN001
    """Open a page; scrolling made instant so Selenium's own scroll-then-click lands."""
    browser.get(url)
    browser.execute_script("document.documentElement.style.scrollBehavior = 'auto'")


def dom_id(component_id: dict) -> str:
    """The DOM id Dash gives a pattern-matching (dict) component id."""
    return json.dumps(component_id, sort_keys=True, separators=(",", ":"))


def figure(browser, page: str, key: str) -> dict | None:  # noqa: ANN001
    """What a chart shows right now: traces (x, y, customdata, opacity), 'No data' flag."""
    return browser.execute_script(_JS_FIGURE, f"#card-{page}-{key}")


def wait_figure(browser, page: str, key: str, pred=lambda f: True,  # noqa: ANN001
                timeout: float = 20) -> dict:
    """Wait until a chart is drawn (with data or the 'No data' message) and `pred` holds."""
    def ready() -> dict | None:
        f = figure(browser, page, key)
        return f if f and (f["traces"] or f["empty"]) and pred(f) else None
    return wait_for(ready, timeout=timeout)


def trace(f: dict, name: str | None = None) -> dict:
    """The trace of a figure with that name (or the only/first one)."""
    return next(t for t in f["traces"] if name is None or t["name"] == name)


def choose(browser, page: str, dim: str, text: str) -> None:  # noqa: ANN001
    """Pick an option of a page-filter dropdown by typing its label, as a person would."""
    el = browser.execute_script("return document.getElementById(arguments[0])",
                                dom_id({"type": "page-filter", "page": page, "dim": dim}))
    browser.execute_script(_JS_CENTER, el)
    el.find_element(By.CSS_SELECTOR, ".Select-control").click()
    box = el.find_element(By.CSS_SELECTOR, "input")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def dropdown_values(browser, page: str, dim: str) -> list[str]:  # noqa: ANN001
    """The labels of the value(s) a page-filter dropdown shows."""
    el = browser.execute_script("return document.getElementById(arguments[0])",
                                dom_id({"type": "page-filter", "page": page, "dim": dim}))
    return [v.text.strip() for v in el.find_elements(By.CSS_SELECTOR, ".Select-value-label")]


def click_bar(browser, page: str, key: str, code: str, trace_name: str | None = None) -> None:  # noqa: ANN001
    """Click the bar whose category code is `code` (a real mouse click on the plot)."""
    f = wait_figure(browser, page, key)
    names = [t["name"] for t in f["traces"]]
    ti = names.index(trace_name) if trace_name is not None else 0
    codes = [c[0] if isinstance(c, list) else c for c in f["traces"][ti]["customdata"]]
    layers = browser.find_elements(By.CSS_SELECTOR, f"#card-{page}-{key} .barlayer .trace")
    bar = layers[ti].find_elements(By.CSS_SELECTOR, ".point path")[codes.index(code)]
    browser.execute_script(_JS_CENTER, bar)
    ActionChains(browser).move_to_element(bar).click().perform()


def chips(browser) -> list[str]:  # noqa: ANN001
    """Texts of the click-to-filter chips shown."""
    return [c.text for c in browser.find_elements(By.CSS_SELECTOR, ".chip")]


def numbers(browser, page: str, key: str) -> list[list[str]]:  # noqa: ANN001
    """Open "Show the numbers" under a chart and return the table's rows."""
    return chart_numbers(browser, page, key)


def card_text(browser, page: str, key: str) -> str:  # noqa: ANN001
    """All text of a chart card, including the SVG of the figure."""
    return browser.find_element(By.ID, f"card-{page}-{key}").get_attribute("textContent")


P = "techtransfer"


def test_stage_and_kind_filters_change_the_charts(browser, live_server) -> None:  # noqa: ANN001
    visit(browser, live_server + "/techtransfer")
    f0 = wait_figure(browser, P, "funnel")
    funnel0 = trace(f0)
    assert funnel0["y"] == ["Contact", "NDA", "Negotiation", "Signed"]
    reached_negotiation = funnel0["x"][2]
    types0 = trace(wait_figure(browser, P, "by-type"), "Deals")
    assert sum(types0["x"]) == funnel0["x"][0]
    choose(browser, P, "stage", "Negotiation")
    wait_for(lambda: "stage=negotiation" in browser.current_url)
    f1 = wait_figure(browser, P, "funnel", lambda f: trace(f)["y"] == ["Negotiation", "Signed"])
    assert trace(f1)["x"][0] == reached_negotiation
    types1 = wait_figure(browser, P, "by-type",
                         lambda f: sum(trace(f, "Deals")["x"]) == reached_negotiation)
    assert sum(trace(types1, "Signed")["x"]) == funnel0["x"][3]
    # the funnel's table gives the conversion from negotiation to signed
    rows = numbers(browser, P, "funnel")
    assert rows[0][0] == "Negotiation" and rows[0][2] == "–"  # no conversion into the first stage
    assert rows[1][2] == f"{funnel0['x'][3] / reached_negotiation:.1%}"

    new0 = wait_figure(browser, P, "new-per-year")
    assert {t["name"] for t in new0["traces"]} == {"Technology offer", "Request for proposals"}
    choose(browser, P, "kind", "Request for proposals")
    wait_for(lambda: "kind=request" in browser.current_url)
    new1 = wait_figure(browser, P, "new-per-year", lambda f: len(f["traces"]) == 1)
    assert trace(new1)["name"] == "Request for proposals"
    assert trace(new1)["y"] == trace(new0, "Request for proposals")["y"]
    stock = wait_figure(browser, P, "stock", lambda f: len(f["traces"]) == 1)
    assert trace(stock)["name"] == "Request for proposals"


def test_click_a_deal_type_filters_the_other_charts(browser, live_server) -> None:  # noqa: ANN001
    visit(browser, live_server + "/techtransfer")
    types = trace(wait_figure(browser, P, "by-type"), "Deals")
    licences = types["x"][types["customdata"].index("licence")]
    total = trace(wait_figure(browser, P, "funnel"))["x"][0]
    assert licences < total
    click_bar(browser, P, "by-type", "licence", "Deals")
    wait_for(lambda: "sel_deal_type=licence" in browser.current_url)
    wait_for(lambda: chips(browser) == ["Deal type: Licence ×"])
    wait_figure(browser, P, "funnel", lambda f: trace(f)["x"][0] == licences)
    wait_figure(browser, P, "by-sector", lambda f: sum(trace(f, "Deals")["x"]) == licences)
    wait_figure(browser, P, "by-eu-country",
                lambda f: sum(trace(f, "Deals")["x"]) == licences)
    # the clicked chart keeps every type and highlights the one selected
    t = trace(wait_figure(browser, P, "by-type", lambda f: trace(f, "Deals")["opacity"]),
              "Deals")
    assert len(t["customdata"]) == 5
    assert [o == 1.0 for o in t["opacity"]] == [c == "licence" for c in t["customdata"]]
    # the chip removes the selection and restores the view
    browser.find_element(By.CSS_SELECTOR, ".chip").click()
    wait_for(lambda: "sel_deal_type" not in browser.current_url)
    wait_for(lambda: chips(browser) == [])
    wait_figure(browser, P, "funnel", lambda f: trace(f)["x"][0] == total)


def test_url_with_page_filters_is_applied(browser, live_server) -> None:  # noqa: ANN001
    visit(browser, live_server + "/techtransfer?from=2018&to=2022&kind=offer&stage=signed")
    f = wait_figure(browser, P, "funnel")
    assert trace(f)["y"] == ["Signed"]
    wait_for(lambda: dropdown_values(browser, P, "stage") == ["Signed"])
    assert dropdown_values(browser, P, "kind") == ["Technology offer"]
    new = wait_figure(browser, P, "new-per-year")
    assert [t["name"] for t in new["traces"]] == ["Technology offer"]
    assert trace(new)["x"] == [2018, 2019, 2020, 2021, 2022]
    types = wait_figure(browser, P, "by-type")
    assert trace(types, "Deals")["x"] == trace(types, "Signed")["x"]  # only signed deals
    assert "2018–2022" in card_text(browser, P, "by-type")
    assert "Deals that reached: Signed" in card_text(browser, P, "by-type")


def test_filters_without_data_say_so(browser, live_server) -> None:  # noqa: ANN001
    # no technology-transfer record is in the "Frontier research & skills" sector
    visit(browser, live_server + "/techtransfer?sector=research&stage=nda")
    for key in ("new-per-year", "stock", "funnel", "by-type", "by-sector", "by-jp-region",
                "by-eu-country"):
        f = wait_figure(browser, P, key)
        assert f["empty"] and NO_DATA in f["notes"], key
        assert NO_DATA in card_text(browser, P, key)
    assert "Error" not in browser.find_element(By.TAG_NAME, "body").text
