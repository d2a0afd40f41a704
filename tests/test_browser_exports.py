"""Reviewer exports in a real headless Chromium, as a reviewer would use them: the chart's
modebar saves PNG (2x) and SVG with telling names, "Download data" gives the numbers of the
table under the chart, the "Chart pack" button saves a ZIP, and the pack's permalink reopens
the same view. Without Chromium on the server the pack button says what is missing."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from pages import _charts as charts
from tests.conftest import chart_numbers, wait_for
from tests.test_export_render import png_size, svg_text

pytestmark = pytest.mark.browser

P = "epa"
_CENTER = "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})"


def dom_id(component_id: dict) -> str:
    """The DOM id Dash gives a pattern-matching (dict) component id."""
    return json.dumps(component_id, sort_keys=True, separators=(",", ":"))


def graph_info(browser, key: str) -> dict | None:  # noqa: ANN001
    """What a chart shows: title text, size, modebar image options, trace customdata."""
    return browser.execute_script("""
        const gd = document.querySelector('#card-epa-' + arguments[0] + ' .js-plotly-plot');
        if (!gd || !gd._fullLayout || !gd.data) return null;
        const opts = (gd._context && gd._context.toImageButtonOptions) || {};
        return {title: gd.layout.title && gd.layout.title.text, width: gd._fullLayout.width,
                height: gd._fullLayout.height, scale: opts.scale,
                format: opts.format, traces: gd.data.length,
                customdata: gd.data.map(t => t.customdata ? Array.from(t.customdata) : null)};
    """, key)


def stem(browser, key: str) -> str | None:  # noqa: ANN001
    """The file name (without extension) the downloads of a chart carry right now."""
    links = browser.find_elements(By.CSS_SELECTOR, f"#card-epa-{key} a.chart-dl-csv")
    return links[0].get_attribute("data-filename")[:-4] if links else None


def wait_graph(browser, key: str, pred=lambda g: True) -> dict:  # noqa: ANN001
    """Wait until a chart is drawn and `pred` holds (g["filename"]: its download name)."""
    def ready() -> dict | None:
        g = graph_info(browser, key)
        if not g or not g["title"]:
            return None
        g["filename"] = stem(browser, key) or ""
        return g if pred(g) else None
    return wait_for(ready, timeout=25)


def fresh(download_dir: Path) -> Path:
    """An emptied download folder."""
    for f in download_dir.iterdir():
        if f.is_file():
            f.unlink()
    return download_dir


def downloaded(download_dir: Path, name: str, timeout: float = 60) -> Path:
    """Wait for a completed download of that name."""
    target = download_dir / name

    def done() -> Path | None:
        partial = list(download_dir.glob("*.crdownload"))
        return target if target.exists() and target.stat().st_size > 0 and not partial \
            else None
    return wait_for(done, timeout=timeout)


def tools(browser, key: str) -> dict[str, str]:  # noqa: ANN001
    """format -> href of the download links under a chart."""
    links = browser.find_elements(By.CSS_SELECTOR, f"#card-epa-{key} a.chart-dl")
    return {a.get_attribute("data-format"): a.get_attribute("href") for a in links}


def table_rows(browser, key: str) -> list[list[str]]:  # noqa: ANN001
    """Open "Show the numbers" under an EPA chart and read its table."""
    return chart_numbers(browser, "epa", key)


def click_modebar(browser, key: str, title: str) -> None:  # noqa: ANN001
    """Hover over a chart and click one of its modebar buttons."""
    graph = browser.find_element(By.CSS_SELECTOR, f"#card-epa-{key} .js-plotly-plot")
    browser.execute_script(_CENTER, graph)
    ActionChains(browser).move_to_element(graph).perform()
    btn = wait_for(lambda: next((b for b in graph.find_elements(
        By.CSS_SELECTOR, ".modebar-btn")
        if (b.get_attribute("data-title") or "").lower() == title.lower()), None))
    ActionChains(browser).move_to_element(btn).click().perform()


def click_bar(browser, key: str, code: str) -> None:  # noqa: ANN001
    """Click the bar of a category (a real mouse click on the plot)."""
    g = wait_graph(browser, key, lambda g: g["customdata"][0])
    codes = g["customdata"][0]
    bars = browser.find_elements(By.CSS_SELECTOR, f"#card-epa-{key} .barlayer .point path")
    bar = bars[codes.index(code)]
    browser.execute_script(_CENTER, bar)
    ActionChains(browser).move_to_element(bar).click().perform()


def pack_link(browser):  # noqa: ANN001, ANN201
    """The page's "Chart pack" button."""
    return wait_for(lambda: browser.find_element(
        By.CSS_SELECTOR, ".chart-pack .chart-pack-link"))


def test_modebar_png_and_svg_have_telling_names(browser, live_server,  # noqa: ANN001
                                                 download_dir: Path) -> None:
    fresh(download_dir)
    browser.get(live_server + "/epa?from=2019&to=2024&sector=agrifood")
    g = wait_graph(browser, "pur-by-year",
                   lambda g: g["filename"] == "epa-pur-by-year_2019-2024_agrifood")
    assert g["scale"] == 2 and g["format"] == "png"  # the camera saves PNG at 2x
    assert "2019–2024 · Sectors: Agri-food & bioeconomy" in g["title"]

    click_modebar(browser, "pur-by-year", "Download plot as a png")
    png = downloaded(download_dir, "epa-pur-by-year_2019-2024_agrifood.png")
    assert png_size(png.read_bytes()) == (2 * g["width"], 2 * g["height"])

    click_modebar(browser, "pur-by-year", "Download plot as SVG")
    svg = downloaded(download_dir, "epa-pur-by-year_2019-2024_agrifood.svg")
    text = svg_text(svg.read_bytes())
    for needle in ("Preference utilisation rate by year",
                   "2019–2024 · Sectors: Agri-food & bioeconomy",
                   "EU–Japan Centre for Industrial Cooperation", "data as of", "DEMO DATA"):
        assert needle in text

    # a filter change renames the next download
    Select(browser.find_element(By.ID, "filter-year-to")).select_by_value("2021")
    wait_graph(browser, "pur-by-year",
               lambda g: g["filename"] == "epa-pur-by-year_2019-2021_agrifood"
               and "2019–2021" in g["title"])
    click_modebar(browser, "pur-by-year", "Download plot as a png")
    downloaded(download_dir, "epa-pur-by-year_2019-2021_agrifood.png")
    links = tools(browser, "pur-by-year")
    assert set(links) == {"csv", "xlsx", "png", "svg", "pdf"}
    assert links["csv"].endswith("/export/epa/pur-by-year.csv?from=2019&to=2021&sector=agrifood")


def test_download_data_equals_the_numbers_under_the_chart(browser, live_server,  # noqa: ANN001
                                                          download_dir: Path) -> None:
    fresh(download_dir)
    browser.get(live_server + "/epa?from=2020&to=2023")
    wait_graph(browser, "pur-by-member-state",
               lambda g: g["filename"] == "epa-pur-by-member-state_2020-2023")
    shown = table_rows(browser, "pur-by-member-state")
    link = wait_for(lambda: browser.find_element(
        By.CSS_SELECTOR, "#card-epa-pur-by-member-state a.chart-dl-csv"))
    browser.execute_script(_CENTER, link)
    link.click()
    data = downloaded(download_dir, "epa-pur-by-member-state_2020-2023.csv").read_bytes()
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["Member state", "Member state (code)", "Utilisation rate (%)",
                       "Eligible imports (EUR)", "Preferential imports (EUR)"]
    assert len(rows) - 1 == len(shown) == 27
    for table_row, file_row in zip(shown, rows[1:], strict=True):
        name, rate, eligible, preferential = table_row
        assert file_row[0] == name  # the table shows names; the file has names and codes
        assert f"{float(file_row[2]):.1f}%" == rate
        assert f"{float(file_row[3]):,.0f}" == eligible
        assert f"{float(file_row[4]):,.0f}" == preferential


def test_chart_pack_button_and_permalink(browser, live_server,  # noqa: ANN001
                                         download_dir: Path) -> None:
    fresh(download_dir)
    browser.get(live_server + "/epa?sector=agrifood")
    wait_graph(browser, "pur-by-member-state")
    Select(browser.find_element(By.ID, "filter-year-from")).select_by_value("2019")
    Select(browser.find_element(By.ID, "filter-year-to")).select_by_value("2024")
    wait_for(lambda: "to=2024" in browser.current_url and "from=2019" in browser.current_url)
    wait_graph(browser, "pur-by-member-state", lambda g: "2019-2024" in g["filename"])
    click_bar(browser, "pur-by-member-state", "DE")
    wait_for(lambda: "sel_member_state=DE" in browser.current_url)
    view_url = browser.current_url
    # wait for the figures themselves (their subtitles name the selection), not only the
    # file names, which a faster callback updates first
    before = {s.key: wait_graph(browser, s.key, lambda g: "2019-2024_agrifood_de" in
                                g["filename"] and "Germany" in g["title"])["title"]
              for s in charts.REGISTRY[P]}
    numbers_before = table_rows(browser, "pur-by-year")

    link = pack_link(browser)
    wait_for(lambda: "sel_member_state=DE" in (link.get_attribute("href") or ""))
    browser.execute_script(_CENTER, link)
    link.click()
    name = "epa-chart-pack_2019-2024_agrifood_de.zip"
    zpath = downloaded(download_dir, name, timeout=90)
    status = browser.find_element(By.CSS_SELECTOR, ".chart-pack .chart-pack-status")
    wait_for(lambda: "Chart pack downloaded" in status.text)

    z = zipfile.ZipFile(zpath)
    stem = name[:-4]
    expected = {f"{stem}/README.txt", f"{stem}/manifest.json"}
    for s in charts.REGISTRY[P]:
        expected |= {f"{stem}/epa-{s.key}_2019-2024_agrifood_de.{f}"
                     for f in ("png", "svg", "pdf", "csv", "xlsx")}
    assert set(z.namelist()) == expected
    manifest = json.loads(z.read(f"{stem}/manifest.json"))
    assert manifest["filters"]["selections"] == {"member_state": "DE"}
    assert manifest["filters"]["year_from"] == 2019 and manifest["filters"]["sectors"] == \
        ["agrifood"]

    # the permalink, opened afresh, shows the same view: filters, chips, subtitles, numbers
    browser.get("about:blank")
    browser.get(manifest["permalink"])
    assert manifest["permalink"].split("?")[1] in view_url
    for s in charts.REGISTRY[P]:
        g = wait_graph(browser, s.key, lambda g: "2019-2024_agrifood_de" in g["filename"]
                       and "Germany" in g["title"])
        assert g["title"] == before[s.key]
        assert manifest["filters"]["text"] in g["title"]
    assert Select(browser.find_element(By.ID, "filter-year-from")
                  ).first_selected_option.text == "2019"
    assert Select(browser.find_element(By.ID, "filter-year-to")
                  ).first_selected_option.text == "2024"
    assert "Agri-food" in browser.find_element(By.ID, "filter-sectors").text
    assert any("Germany" in c.text for c in browser.find_elements(By.CSS_SELECTOR, ".chip"))
    assert table_rows(browser, "pur-by-year") == numbers_before
    # and the pack's CSV has the numbers of that table
    rows = list(csv.reader(io.StringIO(z.read(
        f"{stem}/epa-pur-by-year_2019-2024_agrifood_de.csv").decode("utf-8-sig"))))
    assert [f"{float(r[3]):.1f}%" for r in rows[1:]] == [r[2] for r in numbers_before]


def test_without_chromium_the_button_explains(browser, live_server, download_dir: Path,  # noqa: ANN001
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    fresh(download_dir)
    browser.get(live_server + "/epa?from=2021&to=2022")
    wait_graph(browser, "pur-by-year", lambda g: g["filename"] == "epa-pur-by-year_2021-2022")
    button = pack_link(browser)
    assert button.tag_name == "button" and not button.is_enabled()
    status = browser.find_element(By.CSS_SELECTOR, ".chart-pack .chart-pack-status")
    assert "Chart packs need Chromium on the server" in status.text
    assert "Chromium was not found at /nonexistent/chromium" in status.text
    assert "apt-get install chromium" in status.get_attribute("title")  # how to fix it
    # the rest works: charts are drawn, data downloads, server image links are not offered
    wait_graph(browser, "pur-heatmap")
    assert set(tools(browser, "pur-by-year")) == {"csv", "xlsx"}
    link = browser.find_element(By.CSS_SELECTOR, "#card-epa-pur-by-year a.chart-dl-xlsx")
    browser.execute_script(_CENTER, link)
    link.click()
    assert downloaded(download_dir, "epa-pur-by-year_2021-2022.xlsx").read_bytes()[:2] == b"PK"
    # the client-side modebar images need no server browser
    click_modebar(browser, "pur-by-year", "Download plot as SVG")
    downloaded(download_dir, "epa-pur-by-year_2021-2022.svg")


def test_a_filter_change_updates_each_chart_in_place(browser, live_server) -> None:  # noqa: ANN001
    """The SVG button added to every modebar must not make Plotly see a new config on each
    redraw: that drew every chart from scratch (new SVG elements), twice, on each filter
    change. The charts' SVG roots survive a filter change, and the button is still there."""
    browser.get(live_server + "/epa?from=2019&to=2024")
    wait_graph(browser, "pur-by-year")
    graphs = "document.querySelectorAll('.chart-graph .js-plotly-plot')"
    n = wait_for(lambda: browser.execute_script(
        f"const g = Array.from({graphs}); return g.length && g.every(x => x._fullLayout) "
        "&& g.length"))
    browser.execute_script(
        f"{graphs}.forEach(g => {{ g.querySelector('.main-svg').__kept = 1; }});")
    Select(browser.find_element(By.ID, "filter-year-to")).select_by_value("2021")
    wait_graph(browser, "pur-by-year", lambda g: "2019–2021" in g["title"])
    wait_for(lambda: browser.execute_script(
        f"return Array.from({graphs}).every(g => g.layout.title.text.includes('2019–2021'))"))
    kept = browser.execute_script(
        f"return Array.from({graphs}).map(g => g.querySelector('.main-svg').__kept === 1)")
    assert kept == [True] * n
    buttons = browser.execute_script(
        f"return Array.from({graphs}).map(g => !!g.querySelector("
        "'.modebar-btn[data-title=\"Download plot as SVG\"]'))")
    assert buttons == [True] * n


def test_the_renderer_starts_when_an_export_is_near_not_with_the_page(  # noqa: ANN001
        browser, live_server) -> None:
    """Opening a page and filtering ask nothing of the image renderer (its headless Chromium
    took the cores from a page's first filter changes); reaching for the pack button starts
    it, once."""
    import urllib.request

    browser.get(live_server + "/epa?from=2019&to=2024")
    wait_graph(browser, "pur-by-year")
    browser.execute_script("""
        window.__warm = 0;
        const original = window.fetch;
        window.fetch = function(url) {
          if (String(url).indexOf('/export/warm') >= 0) { window.__warm += 1; }
          return original.apply(this, arguments);
        };""")
    Select(browser.find_element(By.ID, "filter-year-to")).select_by_value("2021")
    wait_graph(browser, "pur-by-year", lambda g: "2019–2021" in g["title"])
    assert browser.execute_script("return window.__warm") == 0

    link = pack_link(browser)
    browser.execute_script(_CENTER, link)
    ActionChains(browser).move_to_element(link).perform()
    wait_for(lambda: browser.execute_script("return window.__warm") == 1)
    ActionChains(browser).move_by_offset(5, 0).move_to_element(link).perform()

    def warm() -> bool:
        with urllib.request.urlopen(live_server + "/export/status") as resp:
            return json.loads(resp.read())["warm"]
    wait_for(warm, timeout=60)
    assert browser.execute_script("return window.__warm") == 1  # once per page view
