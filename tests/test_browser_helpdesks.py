"""The Help desks page in a real headless Chromium, acting as a person would."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.conftest import SCROLL_CENTER, wait_for
from tests.test_browser_programmes import NO_DATA, chips, codes, remove_chip, trace
from tests.test_browser_programmes import choose as _choose
from tests.test_browser_programmes import click_bar as _click_bar
from tests.test_browser_programmes import dropdown_text as _dropdown_text
from tests.test_browser_programmes import numbers as _numbers
from tests.test_browser_programmes import wait_figure as _wait_figure

pytestmark = pytest.mark.browser

P = "helpdesks"
EPA_MARK = "EPA enters into force (1 Feb 2019)"
KEYS = ("monthly", "topic-share", "top-topics", "requester", "country", "days")


def wait_figure(browser, key: str, pred=lambda f: True) -> dict:  # noqa: ANN001
    """Wait until a chart of this page is drawn and `pred` holds for it."""
    return _wait_figure(browser, key, pred, page=P)


def choose(browser, dim: str, text: str) -> None:  # noqa: ANN001
    """Pick an option of one of this page's filter dropdowns."""
    _choose(browser, dim, text, page=P)


def dropdown_text(browser, dim: str) -> str:  # noqa: ANN001
    """The visible value(s) of one of this page's filter dropdowns."""
    return _dropdown_text(browser, dim, page=P)


def click_bar(browser, key: str, code: str) -> None:  # noqa: ANN001
    """A real mouse click on the bar of category `code` in one of this page's charts."""
    _click_bar(browser, key, code, page=P)


def numbers(browser, key: str) -> list[list[str]]:  # noqa: ANN001
    """The rows under "Show the numbers" of one of this page's charts."""
    return _numbers(browser, key, page=P)


def monthly_total(f: dict) -> int:
    """All enquiries the stacked monthly chart shows (every desk)."""
    return int(sum(sum(t["y"]) for t in f["traces"]))


def test_desk_filter_changes_the_charts(browser, live_server) -> None:  # noqa: ANN001
    browser.get(live_server + "/helpdesks?from=2018&to=2021")
    f0 = wait_figure(browser, "monthly")
    assert {t["name"] for t in f0["traces"]} == {
        "EPA helpdesk", "Public procurement helpdesk", "Technology Transfer Helpdesk",
        "Horizon Europe NCP Japan"}
    assert EPA_MARK in f0["notes"] and f0["shapes"] == 1
    total0 = monthly_total(f0)

    choose(browser, "desk", "Public procurement helpdesk")
    wait_for(lambda: "desk=procurement" in browser.current_url)
    f1 = wait_figure(browser, "monthly", lambda f: len(f["traces"]) == 1)
    assert trace(f1)["name"] == "Public procurement helpdesk"
    assert 0 < monthly_total(f1) < total0
    # the procurement desk is asked about procurement and tenders only
    share = wait_figure(browser, "topic-share",
                        lambda f: set(codes(f["traces"][0])) <= {"public_procurement",
                                                                  "tenders", "other"})
    assert {t["name"] for t in share["traces"]} <= {
        "Public procurement", "Tender search & bidding", "Other"}
    for i in range(len(share["traces"][0]["y"])):  # each year's shares add up to 100%
        assert sum(t["y"][i] for t in share["traces"]) == pytest.approx(1.0)
    # requester types add up to the same number of enquiries as the monthly chart
    req = wait_figure(browser, "requester", lambda f: sum(trace(f)["x"]) == monthly_total(f1))
    assert sum(trace(req)["x"]) == monthly_total(f1)
    # answering times: the table under the chart has a median and a 90th percentile per quarter
    rows = numbers(browser, "days")
    assert rows[0][0] == "2018-Q1" and len(rows) == 16
    assert all(float(r[3]) >= float(r[2]) for r in rows)


def test_epa_marker_only_when_its_date_is_shown(browser, live_server) -> None:  # noqa: ANN001
    browser.get(live_server + "/helpdesks?from=2021&to=2022")
    f = wait_figure(browser, "monthly", lambda f: f["traces"] and
                    min(trace(f)["x"])[:4] == "2021")
    assert EPA_MARK not in f["notes"] and f["shapes"] == 0
    # two years: days to answer per month
    days = wait_figure(browser, "days")
    assert len(trace(days)["x"]) == 24


def test_click_a_requester_type_filters_the_other_charts(browser, live_server) -> None:  # noqa: ANN001
    browser.get(live_server + "/helpdesks?from=2022&to=2024&desk=ncp,techtransfer")
    req = wait_figure(browser, "requester")
    by_type = dict(zip(codes(trace(req)), trace(req)["x"], strict=True))
    before = monthly_total(wait_figure(browser, "monthly"))
    assert before == sum(by_type.values())

    click_bar(browser, "requester", "university")
    wait_for(lambda: "sel_requester=university" in browser.current_url)
    wait_for(lambda: "Requester type: University" in chips(browser))
    f = wait_figure(browser, "monthly", lambda f: monthly_total(f) == by_type["university"])
    assert {t["name"] for t in f["traces"]} == {"Technology Transfer Helpdesk",
                                                "Horizon Europe NCP Japan"}
    country = wait_figure(browser, "country",
                          lambda f: sum(trace(f)["x"]) <= by_type["university"])
    assert 0 < sum(trace(country)["x"]) <= by_type["university"]  # top 15 countries
    rows = numbers(browser, "country")  # the table lists every country
    assert sum(int(r[1].replace(",", "")) for r in rows) == by_type["university"]

    remove_chip(browser)
    wait_for(lambda: "sel_requester" not in browser.current_url)
    wait_for(lambda: not chips(browser))
    wait_figure(browser, "monthly", lambda f: monthly_total(f) == before)


def test_url_with_desk_and_topics_is_applied(browser, live_server) -> None:  # noqa: ANN001
    browser.get(live_server + "/helpdesks?from=2023&to=2025&desk=epa&topic=customs,sps")
    wait_for(lambda: "EPA helpdesk" in dropdown_text(browser, "desk"))
    topics = dropdown_text(browser, "topic")
    assert "Customs" in topics and "SPS" in topics
    share = wait_figure(browser, "topic-share")
    assert sorted(codes(t)[0] for t in share["traces"]) == ["customs", "sps"]
    top = wait_figure(browser, "top-topics")
    assert sorted(codes(trace(top))) == ["customs", "sps"]
    # 2023-2025 against 2020-2022: both covered by data, so each bar carries its change
    assert all(t.endswith("%") for t in
               browser.execute_script(
                   "return Array.from(document.querySelectorAll(arguments[0]))"
                   ".map(e => e.textContent)",
                   f"#card-{P}-top-topics .barlayer .point text"))
    card = browser.find_element(By.ID, f"card-{P}-top-topics").text
    assert "2023-01-01 – 2025-12-31 vs 2020-01-01 – 2022-12-31" in card


def test_filters_without_data_say_so(browser, live_server) -> None:  # noqa: ANN001
    # the public procurement help desk answers no customs questions
    browser.get(live_server + "/helpdesks?desk=procurement&topic=customs")
    for key in KEYS:
        f = wait_figure(browser, key)
        assert f["empty"], key
        assert NO_DATA in f["notes"]
    assert numbers(browser, "requester") == []
    assert NO_DATA in browser.find_element(By.ID, f"card-{P}-requester").text


_Y_AXIS_BOXES = """
const gd = document.querySelector(arguments[0] + ' .js-plotly-plot');
const svg = gd.querySelector('.main-svg').getBoundingClientRect();
const title = gd.querySelector('.g-ytitle text').getBoundingClientRect();
const ticks = Array.from(gd.querySelectorAll('.ytick text')).map(t => t.getBoundingClientRect());
return {svg: svg.left, title: [title.left, title.right],
        ticks: [Math.min(...ticks.map(b => b.left)), Math.max(...ticks.map(b => b.right))],
        automargin: gd._fullLayout.yaxis.automargin, plot: gd._fullLayout._size.l};
"""


@pytest.mark.parametrize("query", ["", "?from=2025&to=2025&sector=ict"])
def test_value_axis_labels_fit_the_fixed_margin(browser, live_server, query) -> None:  # noqa: ANN001
    """The numeric y axes are drawn with a fixed left margin (no automargin redraw): their
    title and tick labels must still lie inside the chart, side by side, for the largest
    numbers (all years) and the smallest (one year, one sector)."""
    browser.get(live_server + "/helpdesks" + query)
    for key in ("monthly", "topic-share", "days"):
        wait_figure(browser, key)
        box = browser.execute_script(_Y_AXIS_BOXES, f"#card-{P}-{key}")
        assert box["automargin"] is False, key
        assert box["title"][0] >= box["svg"], (key, box)  # the title is not cut off
        assert box["title"][1] <= box["ticks"][0], (key, box)  # nor under the numbers
        assert box["ticks"][1] <= box["svg"] + box["plot"] + 1, (key, box)  # left of the plot


_COUNT_TABLE_REQUESTS = """
window.__tableRequests = 0;
const original = window.fetch;
window.fetch = function(url, opts) {
  if (opts && typeof opts.body === 'string' && opts.body.indexOf('chart-table') >= 0) {
    window.__tableRequests += 1;
  }
  return original.apply(this, arguments);
};
"""


def _table_total(browser, key: str) -> int:  # noqa: ANN001
    rows = browser.find_elements(By.CSS_SELECTOR, f"#card-{P}-{key} .chart-table tbody tr")
    return sum(int(r.find_elements(By.TAG_NAME, "td")[1].text.replace(",", "")) for r in rows)


def test_open_numbers_follow_the_filters_closed_ones_cost_nothing(  # noqa: ANN001
        browser, live_server) -> None:
    """With every table closed a filter change asks the server for no table; an open table
    follows the filters; a closed one is emptied."""
    from selenium.webdriver.support.ui import Select

    def total(f: dict) -> int:
        return int(sum(trace(f)["x"]))

    browser.get(live_server + "/helpdesks?from=2018&to=2021")
    before = total(wait_figure(browser, "requester"))
    browser.execute_script(_COUNT_TABLE_REQUESTS)
    Select(browser.find_element(By.ID, "filter-year-to")).select_by_value("2020")
    wait_for(lambda: "to=2020" in browser.current_url)
    three_years = total(wait_figure(browser, "requester", lambda f: total(f) != before))
    assert browser.execute_script("return window.__tableRequests") == 0

    rows = numbers(browser, "requester")
    assert sum(int(r[1].replace(",", "")) for r in rows) == three_years
    Select(browser.find_element(By.ID, "filter-year-from")).select_by_value("2020")
    one_year = total(wait_figure(browser, "requester", lambda f: total(f) != three_years))
    wait_for(lambda: _table_total(browser, "requester") == one_year)
    assert browser.execute_script("return window.__tableRequests") >= 2  # opened, refiltered

    summary = browser.find_element(By.CSS_SELECTOR, f"#card-{P}-requester summary")
    browser.execute_script(SCROLL_CENTER, summary)
    summary.click()
    wait_for(lambda: not browser.find_elements(
        By.CSS_SELECTOR, f"#card-{P}-requester .chart-table tbody tr"))


def test_navbar_links_carry_the_global_filters_only(browser, live_server) -> None:  # noqa: ANN001
    """Moving to another page keeps years and sectors, not this page's own filters; the
    language switch comes back to the same view."""
    browser.get(live_server + "/helpdesks?from=2018&to=2021&sector=ict,health&desk=epa")
    wait_figure(browser, "monthly")

    def href(selector: str) -> str:
        return browser.find_element(By.CSS_SELECTOR, selector).get_attribute("href") or ""
    epa = "a[href^='/epa']"  # the navbar's link to the EPA page
    wait_for(lambda: href(epa).endswith("/epa?from=2018&to=2021&sector=ict,health")
             or href(epa).endswith("/epa?from=2018&to=2021&sector=health,ict"))
    assert "desk" not in href(epa)
    wait_for(lambda: "next=%2Fhelpdesks%3Ffrom%3D2018" in href("#lang-switch"))
