"""The Data page in a real headless Chromium, as staff use it: upload a file through the
page's file input, read the report, confirm, and see the new figure on the analysis page;
upload a bad file and read why it was refused; remove the demo data with the switch.

The app runs in its own process on its own empty SQLite file (no demo data), so what the
EPA page shows afterwards can only come from the uploaded file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from sqlalchemy import func, insert, select

from data_access.db import make_engine, set_meta
from data_access.models import EpaUtilisation
from data_access.settings import ROOT
from tests.conftest import _free_port, add_user, sign_in, wait_for
from tests.import_corpus import EPA_HEADER, HELPDESK_HEADER, epa_rows, helpdesk_rows, to_csv
from tests.test_browser_techtransfer import numbers

pytestmark = pytest.mark.browser
STAFF = ("sakura", "staff-member-password-1")


@pytest.fixture(autouse=True)
def _signed_in(browser, data_server) -> None:  # noqa: ANN001
    """Every test here acts as a staff member signed in through the form."""
    base, _ = data_server
    if not any(c["name"] == "data_session" for c in browser.get_cookies()):
        sign_in(browser, base, *STAFF)


@pytest.fixture(scope="module")
def data_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, database URL) of an app process on an empty database."""
    folder = tmp_path_factory.mktemp("dataserver")
    url = f"sqlite:///{folder / 'data.sqlite'}"
    add_user(url, STAFF[0], "staff", STAFF[1])
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "PORT": str(port), "HOST": "127.0.0.1",
           "LOAD_DEMO_IF_EMPTY": "0", "DASHBOARD_NO_AUTOAPP": "0",
           "SESSION_COOKIE_NAME": "data_session"}
    log = open(folder / "server.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        with urllib.request.urlopen(base + "/login", timeout=2) as r:  # noqa: S310
            return r.status == 200

    try:
        wait_for(up, timeout=90, interval=0.3)
        yield base, url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _upload(browser, path: Path) -> None:  # noqa: ANN001
    browser.find_element(By.CSS_SELECTOR, "#data-upload input[type=file]").send_keys(str(path))


def _choose_and_upload(browser, base: str, family: str, path: Path) -> None:  # noqa: ANN001
    """Open the Data page, choose the kind of data and upload `path` through the file input."""
    browser.get(base + "/data")
    Select(wait_for(lambda: browser.find_element(By.ID, "data-family"))).select_by_value(family)
    _upload(browser, path)


def _click(browser, element_id: str) -> None:  # noqa: ANN001
    el = browser.find_element(By.ID, element_id)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", el)
    el.click()


def _verdict(browser) -> str:  # noqa: ANN001
    return browser.find_element(By.ID, "data-verdict").get_attribute("data-outcome")


def _stat(browser, key: str) -> str:  # noqa: ANN001
    return browser.find_element(
        By.CSS_SELECTOR, f"#data-summary [data-stat='{key}'] .data-stat-value").text


def _trace_ys(browser, card: str) -> list[list[float]]:  # noqa: ANN001
    return browser.execute_script(
        "const g = document.querySelector(arguments[0] + ' .js-plotly-plot');"
        # _fullData holds the decoded arrays (Plotly 6 sends numbers base64-encoded)
        "return g && g._fullData ? g._fullData.map(t => Array.from(t.y || [])) : null;",
        f"#{card}")


def test_upload_confirm_and_see_the_new_figure(browser, data_server, tmp_path) -> None:  # noqa: ANN001
    base, _ = data_server
    # before: the EPA page has nothing to show
    browser.get(base + "/epa?from=2019&to=2021")
    wait_for(lambda: "No data for these filters" in browser.find_element(
        By.ID, "card-epa-pur-by-year").text)

    path = tmp_path / "epa-utilisation.csv"
    path.write_bytes(to_csv(EPA_HEADER, [[*r[:4], str(r[4]).replace(".", ","),
                                          str(r[5]).replace(".", ",")] for r in epa_rows()],
                            sep=";"))
    browser.get(base + "/data")
    Select(wait_for(lambda: browser.find_element(By.ID, "data-family"))).select_by_value("epa")
    wait_for(lambda: "year, direction, member state" in
             browser.find_element(By.ID, "data-family-hint").text)
    _upload(browser, path)
    wait_for(lambda: _verdict(browser) == "valid", timeout=30)
    assert "Ready to import" in browser.find_element(By.ID, "data-verdict").text
    assert _stat(browser, "read") == "24" and _stat(browser, "new") == "24"
    files = browser.find_element(By.CSS_SELECTOR, ".data-files").text
    assert "epa-utilisation.csv" in files and "separator ';'" in files
    preview = browser.find_element(By.ID, "data-preview").text
    assert "hs_section" in preview and "1000,0" in preview
    assert browser.find_element(By.ID, "data-confirm").is_enabled()
    _click(browser, "data-confirm")
    wait_for(lambda: _verdict(browser) == "committed", timeout=30)
    assert not browser.find_element(By.ID, "data-confirm").is_enabled()
    log_row = browser.find_element(By.CSS_SELECTOR, "#data-log tr[data-outcome='committed']")
    assert "epa-utilisation.csv" in log_row.text and "24" in log_row.text
    loaded = browser.find_element(By.CSS_SELECTOR, "tr[data-table-name='EPA utilisation']")
    cells = [td.text for td in loaded.find_elements(By.TAG_NAME, "td")]
    assert cells[1:4] == ["24", "0", "24"]  # rows, of which demo, your data

    # after: the EPA page draws the uploaded rates at once, no restart
    browser.get(base + "/epa?from=2019&to=2021")
    wait_for(lambda: _trace_ys(browser, "card-epa-pur-by-year")
             and any(ys for ys in _trace_ys(browser, "card-epa-pur-by-year")), timeout=30)
    ys = _trace_ys(browser, "card-epa-pur-by-year")
    assert sorted(round(y, 3) for y in ys[0]) == [0.5, 0.6, 0.7]
    rows = numbers(browser, "epa", "pur-by-year")
    assert "70.0%" in {cell for row in rows for cell in row}
    assert "2021" in browser.find_element(By.CSS_SELECTOR, ".asof").text


def test_bad_file_shows_the_report_and_commits_nothing(browser, data_server,  # noqa: ANN001
                                                       tmp_path) -> None:  # noqa: ANN001
    base, url = data_server
    rows = helpdesk_rows(6)
    original = (rows[1][3], rows[4][5])
    rows[1][3] = "31/12/2024"
    rows[4][5] = "nanotech"
    path = tmp_path / "enquiries-bad.csv"
    path.write_bytes(to_csv(HELPDESK_HEADER, rows))
    _choose_and_upload(browser, base, "helpdesk", path)
    wait_for(lambda: _verdict(browser) == "refused", timeout=30)
    assert "nothing was written" in browser.find_element(By.ID, "data-verdict").text
    assert not browser.find_element(By.ID, "data-confirm").is_enabled()
    assert _stat(browser, "refused") == "2" and _stat(browser, "fine") == "4"
    problems = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
                for tr in browser.find_elements(By.CSS_SELECTOR, "#data-problems tbody tr")]
    assert problems[0][:4] == ["enquiries-bad.csv", "3", "received_date", "31/12/2024"]
    assert "YYYY-MM-DD" in problems[0][4]
    assert problems[1][:4] == ["enquiries-bad.csv", "6", "sector", "nanotech"]
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR,
                                           "#data-log tr[data-outcome='refused']"))
    eng = make_engine(url)
    from data_access.models import HelpdeskEnquiry

    with eng.connect() as conn:
        assert conn.execute(select(func.count()).select_from(HelpdeskEnquiry)).scalar_one() == 0
    eng.dispose()
    # the same file, fixed and chosen again, is checked again without reloading the page
    rows[1][3], rows[4][5] = original
    path.write_bytes(to_csv(HELPDESK_HEADER, rows))
    _upload(browser, path)
    wait_for(lambda: _verdict(browser) == "valid", timeout=30)


def test_demo_switch_removes_demo_rows_after_confirmation(browser, data_server) -> None:  # noqa: ANN001
    base, url = data_server
    eng = make_engine(url)
    from sqlalchemy.orm import Session

    with eng.begin() as conn:  # a demo row next to the real data loaded above
        conn.execute(insert(EpaUtilisation), [{
            "year": 2022, "direction": "JP_EU", "member_state": "IT", "hs_section": "V",
            "sector_code": "energy", "eligible_eur": 10.0, "preferential_eur": 4.0,
            "is_demo": True}])
        with Session(bind=conn) as s:
            set_meta(s, "demo_loaded", "1")
            s.flush()
    browser.get(base + "/data")
    switch = wait_for(lambda: browser.find_element(By.ID, "data-demo-switch"))
    wait_for(lambda: switch.is_enabled() and switch.is_selected())
    switch.click()
    wait_for(lambda: "Remove the demo data?" in
             browser.find_element(By.ID, "data-demo-modal").text)
    # 'keep' puts the switch back and deletes nothing
    browser.find_element(By.ID, "data-demo-no").click()
    wait_for(lambda: browser.find_element(By.ID, "data-demo-switch").is_selected())
    wait_for(lambda: not browser.find_elements(By.CSS_SELECTOR, ".modal.show"))
    browser.find_element(By.ID, "data-demo-switch").click()
    wait_for(lambda: browser.find_element(By.ID, "data-demo-yes").is_displayed())
    browser.find_element(By.ID, "data-demo-yes").click()
    # the page reloads: no demo rows, the switch is off and says why
    wait_for(lambda: "No demo data is loaded" in
             browser.find_element(By.ID, "data-demo-why").text, timeout=30)
    assert not browser.find_element(By.ID, "data-demo-switch").is_enabled()
    assert not browser.find_elements(By.ID, "demo-banner")  # the shell no longer says demo
    assert browser.find_elements(By.CSS_SELECTOR, "#data-log tr[data-outcome='demo removed']")
    with eng.connect() as conn:
        assert conn.execute(select(func.count()).select_from(EpaUtilisation)
                            .where(EpaUtilisation.is_demo.is_(True))).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(EpaUtilisation)).scalar_one() == 24
    eng.dispose()


def test_cordis_two_files_in_one_upload(browser, data_server, tmp_path) -> None:  # noqa: ANN001
    from tests.import_corpus import cordis_fixture

    base, _ = data_server
    fx = cordis_fixture(tmp_path / "cordis")
    jp = [o for o in fx.orgs if o["country"] == "JP"]
    browser.get(base + "/data")
    Select(wait_for(lambda: browser.find_element(By.ID, "data-family"))).select_by_value("cordis")
    wait_for(lambda: "project.csv and organization.csv" in
             browser.find_element(By.ID, "data-family-hint").text)
    # both files chosen at once, as in a file dialog with two files selected
    browser.find_element(By.CSS_SELECTOR, "#data-upload input[type=file]").send_keys(
        f"{fx.project_csv}\n{fx.organization_csv}")
    wait_for(lambda: _verdict(browser) == "valid", timeout=30)
    assert _stat(browser, "skipped") == str(len(fx.orgs) - len(jp) + len(fx.projects)
                                            - len({o["projectID"] for o in jp}))
    notes = browser.find_element(By.CSS_SELECTOR, ".data-notes").text
    assert "outside Japan" in notes
    _click(browser, "data-confirm")
    wait_for(lambda: _verdict(browser) == "committed", timeout=30)
    row = browser.find_element(By.CSS_SELECTOR, "tr[data-table-name='Research participations']")
    assert [td.text for td in row.find_elements(By.TAG_NAME, "td")][3] == str(len(jp))


def test_help_desk_uploads_show_on_the_help_desks_page_at_once(browser, data_server,  # noqa: ANN001
                                                              tmp_path) -> None:
    """Enquiries uploaded on the Data page are counted by the Help desks page of the same
    running app at once: the first upload builds the summaries, a second one recounts the
    year it touched, and the page reads the new counts without a restart."""
    base, _ = data_server

    def upload(name: str, rows: list[list[str]]) -> None:
        path = tmp_path / name
        path.write_bytes(to_csv(HELPDESK_HEADER, rows))
        _choose_and_upload(browser, base, "helpdesk", path)
        wait_for(lambda: _verdict(browser) == "valid", timeout=30)
        _click(browser, "data-confirm")
        wait_for(lambda: _verdict(browser) == "committed", timeout=30)

    def requesters() -> dict[str, str]:
        browser.get(base + "/helpdesks?from=2024&to=2025")
        wait_for(lambda: _trace_ys(browser, "card-helpdesks-requester"), timeout=30)
        return {r[0]: r[1] for r in numbers(browser, "helpdesks", "requester")}

    upload("enquiries-1.csv", helpdesk_rows(40, prefix="UP"))  # 2024-01-02 .. 2024-02-10
    labels = ["Large enterprise", "Research organisation", "SME", "University"]
    assert requesters() == dict.fromkeys(labels, "10")
    upload("enquiries-2.csv", helpdesk_rows(12, start=500, prefix="UQ"))  # May 2025
    assert requesters() == dict.fromkeys(labels, "13")
