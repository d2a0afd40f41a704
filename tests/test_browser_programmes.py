"""The Programmes page in a real headless Chromium, acting as a person would."""

from __future__ import annotations

import json

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.conftest import chart_numbers, wait_for

pytestmark = pytest.mark.browser

P = "programmes"
NO_DATA = "No data for these filters"
# 'instant': Bootstrap turns on smooth scrolling, and a click aimed mid-glide lands elsewhere
_CENTER = "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})"
# What a chart shows: plotly's own decoded trace arrays (_fullData) and the figure's flags.
_FIGURE = """
const gd = document.querySelector(arguments[0] + ' .js-plotly-plot');
if (!gd || !gd._fullData || !gd.layout) return null;
const arr = a => a == null ? null : Array.from(a);
return {
  empty: !!(gd.layout.meta && gd.layout.meta.empty),
  notes: (gd.layout.annotations || []).map(a => a.text),
  shapes: (gd.layout.shapes || []).length,
  traces: gd.data.map((t, i) => {
    const f = gd._fullData.find(d => d.index === i) || {};
    return {name: t.name === undefined ? null : t.name, type: t.type, x: arr(f.x),
            y: arr(f.y), customdata: arr(f.customdata),
            opacity: t.marker && t.marker.opacity != null ? [].concat(t.marker.opacity)
                                                          : null};
  }),
};
"""


def dom_id(component_id: dict) -> str:
    """The DOM id Dash gives a pattern-matching (dict) component id."""
    return json.dumps(component_id, sort_keys=True, separators=(",", ":"))


def figure(browser, key: str, page: str = P) -> dict | None:  # noqa: ANN001
    """The chart's traces (x, y, customdata, opacity) and its 'No data' flag."""
    return browser.execute_script(_FIGURE, f"#card-{page}-{key}")


def wait_figure(browser, key: str, pred=lambda f: True, page: str = P) -> dict:  # noqa: ANN001
    """Wait until a chart is drawn (with data or 'No data') and `pred` holds for it."""
    def ready() -> dict | None:
        f = figure(browser, key, page)
        return f if f and (f["traces"] or f["empty"]) and pred(f) else None
    return wait_for(ready, timeout=25)


def trace(f: dict, name: str | None = None) -> dict:
    """The trace with that name (or the first one)."""
    return next(t for t in f["traces"] if name is None or t["name"] == name)


def codes(t: dict) -> list[str]:
    """Category codes of a trace (first customdata item of each point)."""
    return [c[0] if isinstance(c, list) else c for c in t["customdata"]]


def choose(browser, dim: str, text: str, page: str = P) -> None:  # noqa: ANN001
    """Pick an option of a page-filter dropdown by typing its label, as a person does."""
    el = browser.execute_script("return document.getElementById(arguments[0])",
                                dom_id({"type": "page-filter", "page": page, "dim": dim}))
    browser.execute_script(_CENTER, el)
    el.find_element(By.CSS_SELECTOR, ".Select-control").click()
    box = el.find_element(By.CSS_SELECTOR, "input")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def dropdown_text(browser, dim: str, page: str = P) -> str:  # noqa: ANN001
    """The visible value(s) of a page-filter dropdown."""
    el = browser.execute_script("return document.getElementById(arguments[0])",
                                dom_id({"type": "page-filter", "page": page, "dim": dim}))
    return el.find_element(By.CSS_SELECTOR, ".Select-control").text


def click_bar(browser, key: str, code: str, trace_index: int = 0,  # noqa: ANN001
              page: str = P) -> None:
    """A real mouse click on the bar whose category code is `code`."""
    f = wait_figure(browser, key, page=page)
    i = codes(f["traces"][trace_index]).index(code)
    layers = browser.find_elements(By.CSS_SELECTOR, f"#card-{page}-{key} .barlayer .trace")
    bar = layers[trace_index].find_elements(By.CSS_SELECTOR, ".point path")[i]
    browser.execute_script(_CENTER, bar)
    ActionChains(browser).move_to_element(bar).click().perform()


def chips(browser) -> list[str]:  # noqa: ANN001
    """Texts of the click-to-filter chips shown."""
    return [c.text.replace("×", "").strip() for c in
            browser.find_elements(By.CSS_SELECTOR, ".chip")]


def remove_chip(browser) -> None:  # noqa: ANN001
    """Scroll up to the (first) chip and click it away."""
    chip = browser.find_element(By.CSS_SELECTOR, ".chip")
    browser.execute_script(_CENTER, chip)
    chip.click()


def numbers(browser, key: str, page: str = P) -> list[list[str]]:  # noqa: ANN001
    """Open "Show the numbers" under a chart and return the table's rows."""
    return chart_numbers(browser, page, key)


def applications(f: dict) -> int:
    """Total applications the per-year chart shows."""
    return int(sum(trace(f, "Applications")["y"]))


def test_programme_filter_changes_the_charts(browser, live_server) -> None:  # noqa: ANN001
    browser.get(live_server + "/programmes?from=2018&to=2024")
    all_years = wait_figure(browser, "by-year")
    total_all = applications(all_years)
    assert [str(y) for y in range(2018, 2025)] == trace(all_years, "Applications")["x"]
    origin0 = wait_figure(browser, "by-origin")
    assert "DE" in codes(trace(origin0))  # EU member states when every programme is shown

    choose(browser, "programme", "Vulcanus in Europe")
    wait_for(lambda: "programme=vulcanus_eu" in browser.current_url)
    f = wait_figure(browser, "by-year", lambda f: applications(f) != total_all)
    assert 0 < applications(f) < total_all / 5  # a small programme next to Vulcanus in Japan
    rate = trace(f, "Selection rate")
    sel = trace(f, "Selected")["y"]
    apps = trace(f, "Applications")["y"]
    assert rate["y"] == pytest.approx([s / a for s, a in zip(sel, apps, strict=True)])
    # Vulcanus in Europe brings Japanese students: the country chart shows prefectures
    origin = wait_figure(browser, "by-origin", lambda f: "DE" not in codes(trace(f)))
    assert all(c.startswith("JP-") for c in codes(trace(origin)))
    assert "Tokyo (JP)" in [y.replace("<br>", " ") for y in trace(origin)["y"]]
    # the table behind the per-year chart says the same as the bars
    rows = numbers(browser, "by-year")
    assert [r[0] for r in rows] == [str(y) for y in range(2018, 2025)]
    assert sum(int(r[1].replace(",", "")) for r in rows) == applications(f)


def test_click_a_field_filters_the_other_charts(browser, live_server) -> None:  # noqa: ANN001
    browser.get(live_server + "/programmes?programme=vulcanus_jp&from=2019&to=2023")
    before = applications(wait_figure(browser, "by-year"))
    field = wait_figure(browser, "by-field")
    mech = next(c for c in trace(field)["customdata"] if c[0] == "mechanical")
    assert 0 < mech[1] < before

    click_bar(browser, "by-field", "mechanical")
    wait_for(lambda: "sel_field=mechanical" in browser.current_url)
    wait_for(lambda: "Field of study: Mechanical engineering" in chips(browser))
    # every other chart now counts mechanical engineers only
    f = wait_figure(browser, "by-year", lambda f: applications(f) == mech[1])
    assert int(sum(trace(f, "Selected")["y"])) == mech[2]
    gender = wait_figure(browser, "by-gender", lambda f: sum(trace(f)["x"]) <= mech[1])
    assert 0 < sum(trace(gender)["x"]) <= mech[1]
    hosts = wait_figure(browser, "hosts", lambda f: sum(trace(f)["x"]) <= mech[2])
    assert sum(trace(hosts)["x"]) == mech[2]  # every selected student has a host company
    # the clicked chart keeps all fields and fades the others
    field1 = wait_figure(browser, "by-field", lambda f: trace(f)["opacity"] is not None)
    op = dict(zip(codes(trace(field1)), trace(field1)["opacity"], strict=True))
    assert op["mechanical"] == 1 and op["electrical"] < 1

    # removing the chip restores the whole view
    remove_chip(browser)
    wait_for(lambda: "sel_field" not in browser.current_url)
    wait_for(lambda: not chips(browser))
    wait_figure(browser, "by-year", lambda f: applications(f) == before)


def test_url_with_page_filters_is_applied(browser, live_server) -> None:  # noqa: ANN001
    browser.get(live_server + "/programmes?from=2020&to=2022&programme=minerva,training"
                "&sel_gender=F")
    wait_for(lambda: "Minerva fellowships" in dropdown_text(browser, "programme"))
    assert "Training missions" in dropdown_text(browser, "programme")
    wait_for(lambda: "Gender: Female" in chips(browser))
    f = wait_figure(browser, "by-year")
    assert trace(f, "Applications")["x"] == ["2020", "2021", "2022"]
    # the numbers are women in Minerva and training missions only: the gender chart (which
    # ignores its own selection) has the same female total as the per-year chart
    g = wait_figure(browser, "by-gender")
    female = dict(zip(codes(trace(g)), trace(g)["x"], strict=True))["F"]
    assert applications(f) == female
    assert "2020–2022" in browser.find_element(By.ID, f"card-{P}-by-year").text


def test_filters_without_data_say_so(browser, live_server) -> None:  # noqa: ANN001
    # Minerva fellowships started in 2015
    browser.get(live_server + "/programmes?from=2014&to=2014&programme=minerva")
    for key in ("by-year", "by-field", "by-origin", "by-gender", "hosts"):
        f = wait_figure(browser, key)
        assert f["empty"], key
        assert NO_DATA in f["notes"]
    assert numbers(browser, "by-field") == []
    card = browser.find_element(By.ID, f"card-{P}-by-field")
    assert NO_DATA in card.text
