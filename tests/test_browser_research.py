"""The Research participation page in a real headless Chromium, acting as a person would."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

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

P = "research"
TABLE = "#research-projects-table"


def _count(browser) -> str:  # noqa: ANN001
    return browser.find_element(By.ID, "research-projects-count").text


def _column(browser, col: str) -> list[str]:  # noqa: ANN001
    """The cells of one column on the table's current page."""
    return [c.text for c in browser.find_elements(
        By.CSS_SELECTOR, f'{TABLE} td[data-dash-column="{col}"]')]


def _pages(browser) -> int:  # noqa: ANN001
    """How many pages the table has (1 when the pager is hidden)."""
    last = browser.find_elements(By.CSS_SELECTOR, f"{TABLE} .last-page")
    return int(last[0].text) if last else 1


def test_framework_filter_changes_the_charts(browser, live_server) -> None:  # noqa: ANN001
    visit(browser, live_server + "/research")
    fw = wait_figure(browser, P, "frameworks")
    assert trace(fw, "Participations")["x"] == ["Horizon 2020", "Horizon Europe"]
    h2020 = trace(fw, "Participations")["y"][0]
    projects_h2020 = trace(fw, "Projects")["y"][0]
    wait_for(lambda: _count(browser).endswith("projects"))
    before = _count(browser)
    choose(browser, P, "framework", "Horizon 2020")
    wait_for(lambda: "framework=H2020" in browser.current_url)
    wait_figure(browser, P, "frameworks",
                lambda f: trace(f, "Participations")["x"] == ["Horizon 2020"])
    per_year = wait_figure(browser, P, "per-year",
                           lambda f: sum(trace(f, "Participations")["y"]) == h2020)
    assert max(trace(per_year, "Participations")["x"]) <= 2021  # H2020 projects start by 2021
    wait_for(lambda: _count(browser) == f"{projects_h2020:,} projects")
    assert _count(browser) != before
    contribution = wait_figure(browser, P, "contribution")
    assert [t["name"] for t in contribution["traces"]] == ["Horizon 2020"]
    # a programme part on top: the numbers table under the chart reads the same
    choose(browser, P, "programme_part", "H2020 ICT")
    wait_for(lambda: "programme_part=H2020-EU.2.1.1." in browser.current_url)
    part = wait_figure(browser, P, "by-part", lambda f: len(trace(f)["y"]) == 1)
    rows = numbers(browser, P, "by-part")
    assert rows[0][0] == "H2020 ICT" and rows[0][1] == str(trace(part)["x"][0])


def test_click_a_role_filters_the_other_charts(browser, live_server) -> None:  # noqa: ANN001
    visit(browser, live_server + "/research")
    roles = trace(wait_figure(browser, P, "by-role"))
    i = [c[0] for c in roles["customdata"]].index("coordinator")
    coord, coord_projects = roles["x"][i], roles["customdata"][i][2]
    total = sum(trace(wait_figure(browser, P, "per-year"), "Participations")["y"])
    assert coord < total
    wait_for(lambda: _count(browser).endswith("projects"))
    click_bar(browser, P, "by-role", "coordinator")
    wait_for(lambda: "sel_role=coordinator" in browser.current_url)
    wait_for(lambda: chips(browser) == ["Role: Coordinator ×"])
    wait_figure(browser, P, "per-year",
                lambda f: sum(trace(f, "Participations")["y"]) == coord)
    wait_figure(browser, P, "by-org-type", lambda f: sum(trace(f)["x"]) == coord)
    wait_figure(browser, P, "by-part", lambda f: sum(trace(f)["x"]) == coord)
    # the projects table follows the click too
    wait_for(lambda: _count(browser) == f"{coord_projects:,} projects")
    assert set(_column(browser, "roles")) == {"Coordinator"}
    assert all("(Coordinator)" in c for c in _column(browser, "organisations"))
    browser.find_element(By.CSS_SELECTOR, ".chip").click()
    wait_for(lambda: "sel_role" not in browser.current_url and chips(browser) == [])
    wait_figure(browser, P, "per-year",
                lambda f: sum(trace(f, "Participations")["y"]) == total)


def test_url_with_page_filters_is_applied(browser, live_server) -> None:  # noqa: ANN001
    visit(browser, live_server + "/research?framework=HORIZON&programme_part=HORIZON.2.1")
    part = wait_figure(browser, P, "by-part")
    assert trace(part)["y"] == ["HE Health"]
    wait_for(lambda: dropdown_values(browser, P, "framework") == ["Horizon Europe"])
    assert dropdown_values(browser, P, "programme_part") == ["HE Health"]
    fw = wait_figure(browser, P, "frameworks")
    assert trace(fw, "Participations")["x"] == ["Horizon Europe"]
    wait_for(lambda: _column(browser, "programme_part"))
    assert set(_column(browser, "programme_part")) == {"HE Health"}
    assert "Programme part: HE Health" in card_text(browser, P, "per-year")


def test_filters_without_data_say_so(browser, live_server) -> None:  # noqa: ANN001
    # a Horizon Europe part with Horizon 2020 only
    visit(browser, live_server + "/research?framework=H2020&programme_part=HORIZON.2.1")
    for key in ("per-year", "frameworks", "by-part", "by-org-type", "by-role",
                "contribution"):
        f = wait_figure(browser, P, key)
        assert f["empty"] and NO_DATA in f["notes"], key
    wait_for(lambda: _count(browser) == NO_DATA)
    assert _column(browser, "acronym") == []


def test_type_in_the_projects_table_to_narrow_and_sort(browser, live_server) -> None:  # noqa: ANN001
    visit(browser, live_server + "/research")
    wait_for(lambda: _column(browser, "acronym"))
    pages = _pages(browser)
    assert pages > 1
    box = browser.find_element(By.CSS_SELECTOR,
                               f'{TABLE} th.dash-filter[data-dash-column="organisations"] input')
    box.send_keys("riken")  # case does not matter
    box.send_keys(Keys.ENTER)
    wait_for(lambda: _pages(browser) < pages)
    orgs = _column(browser, "organisations")
    assert orgs and all("RIKEN" in o for o in orgs)
    # click the header's sort arrow: acronyms ascending
    browser.find_element(By.CSS_SELECTOR,
                         f'{TABLE} th[data-dash-column="acronym"] .column-header--sort').click()
    wait_for(lambda: (a := _column(browser, "acronym")) and a == sorted(a))
    assert all("RIKEN" in o for o in _column(browser, "organisations"))
