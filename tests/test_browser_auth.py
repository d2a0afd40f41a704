"""Signing in as people do, in a real headless Chromium against the app in its own process:
wrong password, lock-out and unlock, the first-password change, sign-out, an idle session
ending, what a viewer sees, the Admin page's accounts and audit trail, and single sign-on
end to end against an OpenID Connect provider started here on loopback."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import Select, WebDriverWait

from data_access import users
from tests.authkit import PASSWORDS, Server, app_server
from tests.conftest import add_user, sign_in, wait_for
from tests.oidc_provider import OidcProvider

pytestmark = pytest.mark.browser
IDLE_MINUTES = 0.25  # 15 s: long enough for the other steps, short enough to wait out
LOCK_MINUTES = 0.05  # 3 s


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    """An OpenID Connect provider on loopback with three people."""
    p = OidcProvider(users={
        "alice": {"sub": "u-alice", "email": "alice@example.org", "name": "Alice Example",
                  "preferred_username": "alice", "groups": ["eujc-staff", "all-staff"]},
        "carol": {"sub": "u-carol", "email": "carol@example.org", "name": "Carol Admin",
                  "preferred_username": "carol", "groups": ["eujc-admins"]},
        "dave": {"sub": "u-dave", "email": "dave@example.org", "name": "Dave Outside",
                 "preferred_username": "dave", "groups": ["contractors"]},
    }, client_id="dashboard", client_secret="s3cret-for-tests", redirect_uris=[])
    p.start()
    yield p
    p.stop()


@pytest.fixture(scope="module")
def server(provider: OidcProvider,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app on SQLite, signed-in reading, short idle and lock times, single sign-on."""
    with app_server("sqlite", tmp_path_factory.mktemp("auth"),
                    SESSION_IDLE_MINUTES=str(IDLE_MINUTES), LOGIN_MAX_FAILURES="3",
                    LOGIN_LOCK_MINUTES=str(LOCK_MINUTES), OIDC_ISSUER=provider.issuer,
                    OIDC_CLIENT_ID="dashboard", OIDC_CLIENT_SECRET="s3cret-for-tests",
                    OIDC_ROLE_MAP="eujc-admins=admin,eujc-staff=staff",
                    OIDC_DEFAULT_ROLE="", OIDC_LABEL="Sign in with EU Login") as srv:
        provider.redirect_uris.append(srv.base + "/auth/oidc/callback")
        yield srv


def _form_sign_in(browser, base: str, name: str, password: str) -> None:  # noqa: ANN001
    browser.delete_all_cookies()
    browser.get(base + "/login")
    wait_for(lambda: browser.find_element(By.ID, "username")).send_keys(name)
    browser.find_element(By.ID, "password").send_keys(password)
    button = browser.find_element(By.ID, "sign-in")
    button.click()
    WebDriverWait(browser, 15).until(staleness_of(button))  # the answer has loaded


def _error(browser) -> str:  # noqa: ANN001
    return wait_for(lambda: browser.find_element(By.ID, "auth-error")).text


def _nav_text(browser) -> str:  # noqa: ANN001
    return wait_for(lambda: browser.find_element(By.CSS_SELECTOR, ".app-navbar")).text


def test_wrong_password_lock_out_and_unlock(browser, server: Server) -> None:  # noqa: ANN001
    add_user(server.db_url, "hana", "viewer", "plum-kettle-harbour-7")
    _form_sign_in(browser, server.base, "hana", "not-her-password")
    assert "not right" in _error(browser)
    assert browser.find_element(By.ID, "username").get_attribute("value") == "hana"
    _form_sign_in(browser, server.base, "hana", "still-not-it")
    _form_sign_in(browser, server.base, "hana", "wrong-a-third-time")
    msg = _error(browser)
    assert "locked" in msg and re.search(r"unlocks at \d{4}-\d\d-\d\d \d\d:\d\d UTC", msg)
    _form_sign_in(browser, server.base, "hana", "plum-kettle-harbour-7")  # right, but locked
    assert "locked" in _error(browser)
    time.sleep(LOCK_MINUTES * 60 + 0.5)
    _form_sign_in(browser, server.base, "hana", "plum-kettle-harbour-7")
    wait_for(lambda: "Hana" in _nav_text(browser) or "hana" in _nav_text(browser))


def test_first_sign_in_asks_for_a_new_password(browser, server: Server) -> None:  # noqa: ANN001
    out = io.StringIO()
    assert users.main(["--database-url", server.db_url, "create", "kenta", "--role", "staff",
                       "--name", "Kenta Mori"], out=out) == 0
    otp = out.getvalue().rsplit(": ", 1)[1].strip()
    _form_sign_in(browser, server.base, "kenta", otp)
    wait_for(lambda: browser.current_url.endswith("/account/password"))
    assert "one-time password" in browser.find_element(By.ID, "auth-notice").text
    browser.get(server.base + "/helpdesks")  # nothing else until it is changed
    wait_for(lambda: browser.current_url.endswith("/account/password"))
    for field, value in (("current", otp), ("new", "kenta"), ("again", "kenta")):
        browser.find_element(By.ID, field).send_keys(value)
    browser.find_element(By.ID, "change-password").click()
    assert "12 characters" in _error(browser)
    for field, value in (("current", otp), ("new", "maple river lantern 12"),
                         ("again", "maple river lantern 12")):
        browser.find_element(By.ID, field).send_keys(value)
    browser.find_element(By.ID, "change-password").click()
    wait_for(lambda: browser.find_element(By.ID, "auth-done"))
    browser.get(server.base + "/helpdesks")
    wait_for(lambda: "Kenta Mori" in _nav_text(browser))
    nav = _nav_text(browser)
    assert "Data" in nav and "Admin" not in nav  # staff


def test_a_viewer_sees_no_data_page(browser, server: Server) -> None:  # noqa: ANN001
    sign_in(browser, server.base, "vera", PASSWORDS["vera"])
    browser.get(server.base + "/helpdesks")
    wait_for(lambda: "Help desks" in _nav_text(browser))
    nav = _nav_text(browser)
    assert "Data" not in nav.split() and "Admin" not in nav
    browser.get(server.base + "/data")
    body = wait_for(lambda: browser.find_element(By.ID, "auth-message")).text
    assert "staff" in body
    # reaching it from inside the app (no page load) shows the same refusal
    browser.get(server.base + "/helpdesks")
    wait_for(lambda: browser.find_element(By.ID, "card-helpdesks-monthly"))
    browser.execute_script("window.history.pushState({}, '', '/data');"
                           "window.dispatchEvent(new PopStateEvent('popstate'));")
    text = wait_for(lambda: browser.find_element(By.ID, "not-allowed")).text
    assert "staff" in text and "viewer" in text
    assert not browser.find_elements(By.ID, "data-upload")


def test_sign_out_and_an_idle_session_ending(browser, server: Server) -> None:  # noqa: ANN001
    sign_in(browser, server.base, "vera", PASSWORDS["vera"])
    browser.get(server.base + "/")
    wait_for(lambda: browser.find_element(By.ID, "nav-account")).click()
    wait_for(lambda: browser.find_element(By.ID, "nav-sign-out")).click()
    wait_for(lambda: "/login" in browser.current_url)
    assert "signed out" in browser.find_element(By.ID, "auth-notice").text
    browser.get(server.base + "/helpdesks")
    wait_for(lambda: "/login?next=/helpdesks" in browser.current_url)
    # idle: a session without requests for longer than SESSION_IDLE_MINUTES ends
    sign_in(browser, server.base, "vera", PASSWORDS["vera"])
    browser.get(server.base + "/helpdesks")
    wait_for(lambda: "Help desks" in _nav_text(browser))
    time.sleep(IDLE_MINUTES * 60 + 1)
    browser.get(server.base + "/epa")
    wait_for(lambda: "/login?next=/epa" in browser.current_url)


def test_admin_manages_accounts_and_reads_the_trail_in_order(browser, server: Server) -> None:  # noqa: ANN001
    sign_in(browser, server.base, "akira", PASSWORDS["akira"])
    browser.get(server.base + "/admin")
    wait_for(lambda: browser.find_element(By.ID, "admin-new-username")).send_keys("yuki")
    browser.find_element(By.ID, "admin-new-name").send_keys("Yuki Tanaka")
    Select(browser.find_element(By.ID, "admin-new-role")).select_by_value("viewer")
    browser.find_element(By.ID, "admin-new-add").click()
    otp = wait_for(lambda: browser.find_element(By.ID, "admin-secret")).text
    assert re.fullmatch(r"[\w]{4}-[\w]{4}-[\w]{4}-[\w]{4}", otp)
    row = wait_for(lambda: browser.find_element(By.CSS_SELECTOR, "tr[data-user='yuki']"))
    Select(row.find_element(By.TAG_NAME, "select")).select_by_value("staff")
    wait_for(lambda: "yuki is now staff" in browser.find_element(By.ID, "admin-message").text)
    row = browser.find_element(By.CSS_SELECTOR, "tr[data-user='yuki']")
    row.find_element(By.XPATH, ".//button[contains(., 'Disable')]").click()
    wait_for(lambda: "yuki is disabled" in browser.find_element(By.ID, "admin-message").text)

    def trail() -> list[tuple[str, str]]:
        rows = browser.find_elements(By.CSS_SELECTOR, "#admin-audit tr[data-action]")
        return [(r.get_attribute("data-actor"), r.get_attribute("data-action")) for r in rows]

    wait_for(lambda: trail()[:1] == [("akira", "user_disabled")])
    assert trail()[:4] == [("akira", "user_disabled"), ("akira", "user_role_changed"),
                           ("akira", "user_created"), ("akira", "sign_in")]
    # the filter narrows it; the CSV link follows the filter
    Select(browser.find_element(By.ID, "admin-audit-action")).select_by_value(
        "user_created")
    wait_for(lambda: {a for _, a in trail()} == {"user_created"})
    href = browser.find_element(By.ID, "admin-audit-csv").get_attribute("href")
    assert "action=user_created" in href
    # the disabled account cannot sign in
    _form_sign_in(browser, server.base, "yuki", otp)
    assert "disabled" in _error(browser)


def _sso(browser, server: Server, who: str) -> None:  # noqa: ANN001
    browser.delete_all_cookies()
    browser.get(server.base + "/login?next=/epa")
    wait_for(lambda: browser.find_element(By.ID, "sign-in-sso")).click()
    wait_for(lambda: browser.find_element(By.ID, "oidc-username")).send_keys(who)
    browser.find_element(By.ID, "oidc-sign-in").click()


def test_single_sign_on_with_role_mapping(browser, server: Server,  # noqa: ANN001
                                          provider: OidcProvider) -> None:
    browser.get(server.base + "/login")
    assert wait_for(lambda: browser.find_element(By.ID, "sign-in-sso")).text == \
        "Sign in with EU Login"
    _sso(browser, server, "alice")
    wait_for(lambda: browser.current_url.startswith(server.base + "/epa"))
    wait_for(lambda: "Alice Example" in _nav_text(browser))
    assert "Data" in _nav_text(browser) and "Admin" not in _nav_text(browser)  # staff
    _sso(browser, server, "carol")
    wait_for(lambda: "Carol Admin" in _nav_text(browser))
    assert "Admin" in _nav_text(browser)
    _sso(browser, server, "dave")  # no mapped group, and no default role: refused
    text = wait_for(lambda: browser.find_element(By.ID, "auth-message")).text
    assert "no role" in text
    assert provider.sign_ins == ["alice", "carol", "dave"]
    # the accounts exist now, made by single sign-on, and the trail says how
    sign_in(browser, server.base, "akira", PASSWORDS["akira"])
    browser.get(server.base + "/admin")
    row = wait_for(lambda: browser.find_element(By.CSS_SELECTOR, "tr[data-user='alice']"))
    assert "single sign-on" in row.text and "staff" in Select(
        row.find_element(By.TAG_NAME, "select")).first_selected_option.text
    assert not browser.find_elements(By.CSS_SELECTOR, "tr[data-user='dave']")
