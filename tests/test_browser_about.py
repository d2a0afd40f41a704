"""About the data: definitions and the data date of every family, no global filters."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.conftest import wait_for

pytestmark = pytest.mark.browser


def test_about_lists_families_with_data_dates(browser, live_server) -> None:  # noqa: ANN001
    browser.get(live_server + "/about")
    wait_for(lambda: browser.page_source.count("Data as of") >= 5)
    text = browser.find_element(By.TAG_NAME, "body").text
    for family in ("Programmes", "Help desks", "Technology transfer",
                   "Research participation", "EPA utilisation"):
        assert family in text
    assert "imports that used the preference" in text
    assert not browser.find_element(By.ID, "filter-bar").is_displayed()
    # going back to an analysis page brings the filters back
    browser.find_element(By.LINK_TEXT, "Overview").click()
    wait_for(lambda: browser.find_element(By.ID, "filter-bar").is_displayed())
