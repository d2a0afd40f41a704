"""Who may do what, over real HTTP against the app in its own process (SQLite and
PostgreSQL): the Data page's callback POSTs replayed anonymously, as a viewer, without or
with a wrong CSRF token and from another site; routes by role; security headers; no
versions advertised; redirects that stay on the site; sign-in rate limits."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from data_access.db import make_engine
from data_access.models import AuditEvent, HelpdeskEnquiry, ImportLog, Meta
from data_access.settings import ROOT
from tests.authkit import Client, Server, app_server, body, find
from tests.conftest import BACKENDS
from tests.import_corpus import HELPDESK_HEADER, helpdesk_rows, to_csv

CONFIRM = "data-confirm.n_clicks"
REMOVE_DEMO = "data-demo-yes.n_clicks"


@pytest.fixture(scope="module", params=BACKENDS)
def server(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app on each backend, signed-in reading (the default), demo data, three accounts."""
    with app_server(request.param, tmp_path_factory.mktemp(f"access-{request.param}"),
                    LOGIN_RATE_PER_ADDRESS="12 per 10 minutes", PROXY_FIX="1") as srv:
        yield srv


def _state(srv: Server) -> dict[str, Any]:
    """What a refused request must not change: rows, data version, import log."""
    eng = make_engine(srv.db_url)
    try:
        with eng.connect() as c:
            return {
                "enquiries": c.execute(select(func.count()).select_from(HelpdeskEnquiry))
                .scalar_one(),
                "demo": c.execute(select(func.count()).select_from(HelpdeskEnquiry)
                                  .where(HelpdeskEnquiry.is_demo.is_(True))).scalar_one(),
                "version": c.execute(select(Meta.value).where(Meta.key == "data_version"))
                .scalar_one(),
                "imports": c.execute(select(func.count()).select_from(ImportLog)).scalar_one(),
            }
    finally:
        eng.dispose()


def _audit(srv: Server, since: int = 0) -> list[tuple[str, str, str, str]]:
    eng = make_engine(srv.db_url)
    try:
        with eng.connect() as c:
            rows = c.execute(select(AuditEvent.actor, AuditEvent.action, AuditEvent.outcome,
                                    AuditEvent.target).where(AuditEvent.id > since)
                             .order_by(AuditEvent.id)).all()
        return [tuple(r) for r in rows]  # type: ignore[misc]
    finally:
        eng.dispose()


def _last_audit_id(srv: Server) -> int:
    eng = make_engine(srv.db_url)
    try:
        with eng.connect() as c:
            return int(c.execute(select(func.max(AuditEvent.id))).scalar_one() or 0)
    finally:
        eng.dispose()


def _upload_file(rows: int = 3, start: int = 900_000) -> list[tuple[str, bytes]]:
    return [("replay.csv", to_csv(HELPDESK_HEADER,
                                  helpdesk_rows(rows, start=start, prefix="REPLAY")))]


@pytest.fixture(scope="module")
def staff_calls(server: Server) -> dict[str, Any]:
    """The Data page's real callbacks, and an upload staff made and had checked (to replay
    its confirmation)."""
    staff = Client(server.base)
    assert staff.sign_in("sakura").status_code == 302
    deps = staff.dependencies()
    token = staff.csrf_cookie()
    r = staff.upload("helpdesk", _upload_file(), token=token)
    assert r.status_code == 200, r.text[:300]
    answer = staff.follow_job(deps, r.json()["job"], token)
    staged = answer["data-staged"]["data"]
    assert staged["ok"] and re.fullmatch(r"[0-9a-f]{32}", staged["token"])
    return {"deps": deps, "staged": staged, "staff": staff, "token": token}


def _replays(calls: dict[str, Any]) -> list[tuple[str, Callable[..., requests.Response]]]:
    """(what, send(client, token, origin)) for each of the Data page's writes."""
    deps = calls["deps"]
    confirm = body(find(deps, input_=CONFIRM),
                   {CONFIRM: 1, "data-staged.data": calls["staged"]}, CONFIRM)
    remove = body(find(deps, input_=REMOVE_DEMO), {REMOVE_DEMO: 1, "url.search": ""},
                  REMOVE_DEMO)
    return [
        ("upload", lambda c, tok, org: c.upload("helpdesk", _upload_file(start=950_000),
                                                token=tok, origin=org)),
        ("confirm", lambda c, tok, org: c.callback(confirm, token=tok, origin=org)),
        ("remove demo", lambda c, tok, org: c.callback(remove, token=tok, origin=org)),
    ]


def test_write_callbacks_are_refused_to_everyone_without_the_role(
        server: Server, staff_calls: dict[str, Any]) -> None:
    before, mark = _state(server), _last_audit_id(server)
    anonymous = Client(server.base)
    viewer = Client(server.base)
    assert viewer.sign_in("vera").status_code == 302
    viewer_token = viewer.csrf_cookie()
    staff, staff_token = staff_calls["staff"], staff_calls["token"]
    attempts = [
        ("anonymous", anonymous, anonymous.csrf_cookie() or "forged", None, 401),
        ("viewer", viewer, viewer_token, None, 403),
        ("staff without a CSRF token", staff, None, None, 403),
        ("staff with a wrong CSRF token", staff, staff_token[:-4] + "AAAA", None, 403),
        ("staff, viewer's token", staff, viewer_token, None, 403),
        ("staff, from another site", staff, staff_token, "https://evil.example", 403),
    ]
    for who, client, token, origin, status in attempts:
        for what, send in _replays(staff_calls):
            r = send(client, token, origin)
            assert r.status_code == status, (who, what, r.status_code, r.text[:200])
            assert "Traceback" not in r.text and "Error" not in r.text.split(":")[0]
    assert _state(server) == before  # nothing imported, nothing removed, no version bump
    rows = [r for r in _audit(server, mark) if r[1] != "sign_in"]  # (vera signed in above)
    assert len(rows) == len(attempts) * 3
    assert {a for _, a, o, _ in rows if o == "denied"} == {"forbidden", "csrf_refused"}
    assert [r[0] for r in rows[:3]] == ["anonymous"] * 3
    assert [r[0] for r in rows[3:6]] == ["vera"] * 3
    assert {r[3] for r in rows} == {"/_dash-update-component", "/data-files/upload"}


def test_staff_with_the_token_can_confirm_the_same_replay(
        server: Server, staff_calls: dict[str, Any]) -> None:
    """The positive control: the same bodies work for staff with their token, so the
    refusals above are the guard's, not a malformed replay."""
    before, mark = _state(server), _last_audit_id(server)
    _, confirm = _replays(staff_calls)[1]
    staff, token = staff_calls["staff"], staff_calls["token"]
    r = confirm(staff, token, None)
    assert r.status_code == 200
    job = r.json()["response"]["data-job"]["data"]["id"]
    again = confirm(staff, token, None)  # a double click: the same job, not a second import
    assert again.json()["response"]["data-job"]["data"]["id"] == job
    answer = staff.follow_job(staff_calls["deps"], job, token)
    assert "committed" in json.dumps(answer)
    after = _state(server)
    assert after["enquiries"] == before["enquiries"] + 3
    assert int(after["version"]) == int(before["version"]) + 1
    rows = _audit(server, mark)
    assert [(a, act, o) for a, act, o, _ in rows] == [("sakura", "import_committed", "ok")]
    assert staff.upload("helpdesk", _upload_file(), token=token).status_code == 200


def test_a_viewer_reads_and_exports_but_never_sees_the_data_page(server: Server) -> None:
    viewer = Client(server.base)
    viewer.sign_in("vera")
    layout = json.dumps(viewer.get("/_dash-layout").json(), ensure_ascii=False)
    assert '"/helpdesks"' in layout and '"/data"' not in layout and '"/admin"' not in layout
    assert "vera" in layout.lower() or "Vera" in layout
    page = viewer.get("/data", headers={"Accept": "text/html"})
    assert page.status_code == 403 and "staff" in page.text
    for path in ("/data-files/template/helpdesk.csv", "/data-files/dictionary.xlsx",
                 "/admin/audit.csv", "/admin"):
        assert viewer.get(path).status_code == 403, path
    for path in ("/export/helpdesks/monthly.csv?from=2020&to=2021",
                 "/export/epa/pur-by-year.xlsx", "/export/research/per-year.csv",
                 "/export/programmes/by-year.csv", "/export/techtransfer/funnel.csv"):
        r = viewer.get(path)
        assert r.status_code == 200 and len(r.content) > 100, path
    staff = Client(server.base)
    staff.sign_in("sakura")
    assert staff.get("/data-files/template/helpdesk.csv").status_code == 200
    assert staff.get("/admin/audit.csv").status_code == 403


def test_anonymous_readers_are_sent_to_sign_in(server: Server) -> None:
    anon = Client(server.base)
    r = anon.get("/helpdesks?from=2020", headers={"Accept": "text/html"})
    assert r.status_code == 302
    assert r.headers["Location"].endswith("/login?next=/helpdesks%3Ffrom%3D2020")
    for path in ("/_dash-layout", "/_dash-dependencies", "/export/epa/pur-by-year.csv",
                 "/data-files/template/helpdesk.csv"):
        r = anon.get(path, headers={"Accept": "application/json"})
        assert r.status_code == 401, path
        assert "Traceback" not in r.text
    assert anon.get("/login").status_code == 200
    assert anon.get("/assets/style.css").status_code == 200


def test_security_headers_and_no_versions(server: Server) -> None:
    c = Client(server.base)
    c.sign_in("vera")
    for path in ("/", "/_dash-layout", "/export/epa/pur-by-year.csv", "/login"):
        h = c.get(path, allow_redirects=True).headers
        csp = h.get("Content-Security-Policy", "")
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "script-src 'self' 'sha256-" in csp and "unsafe-eval" not in csp
        assert h.get("X-Frame-Options") == "DENY"
        assert h.get("X-Content-Type-Options") == "nosniff"
        assert h.get("Referrer-Policy") == "strict-origin-when-cross-origin"
        server_header = h.get("Server", "")
        assert not re.search(r"\d", server_header), server_header  # no version numbers
        assert "Werkzeug" not in server_header and "Python" not in server_header
    index = c.get("/").text
    for leak in ("dash_version", "python_version", "plotly_version", "3.2.0", "6.3.1",
                 sys.version.split()[0]):
        assert leak not in index, leak
    cookie = next(k for k in c.http.cookies if k.name == server.cookie)
    assert cookie.has_nonstandard_attr("HttpOnly") or "httponly" in str(cookie._rest).lower()


def test_cross_site_form_posts_and_open_redirects_are_refused(server: Server) -> None:
    c = Client(server.base)
    # a sign-in form posted from another site: refused even with a valid token
    token = c.form_token()
    r = c.http.post(server.base + "/login", allow_redirects=False, timeout=30,
                    data={"csrf_token": token, "username": "vera",
                          "password": "viewer-password-long-1"},
                    headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    # and without the token
    r = c.http.post(server.base + "/login", allow_redirects=False, timeout=30,
                    data={"username": "vera", "password": "viewer-password-long-1"})
    assert r.status_code == 403
    r = c.http.post(server.base + "/export/warm", timeout=30)
    assert r.status_code in (401, 403)
    r = c.http.post(server.base + "/logout", timeout=30, allow_redirects=False)
    assert r.status_code == 403
    for nxt in ("//evil.example", "/%09/evil.example", "/%2509/evil.example", "/%5Cevil.example",
                "https://evil.example", "%09//evil.example", "/%2F/evil.example",
                "/%252F%252Fevil.example", "http:evil.example"):
        r = c.get("/lang/en?next=" + nxt)  # exactly as typed in an address bar
        assert r.headers["Location"] in ("/", server.base + "/"), (nxt, r.headers["Location"])
    c.sign_in("vera")  # a next that leaves the site after signing in goes home instead
    assert c.get("/login?next=//evil.example").headers["Location"] in ("/", server.base + "/")
    r = c.get("/lang/ja?next=/epa%3Ffrom%3D2020")
    assert r.headers["Location"].endswith("/epa?from=2020")


def test_sign_in_attempts_are_rate_limited_per_address(server: Server) -> None:
    """From one address (behind the configured proxy, X-Forwarded-For names it): limited;
    other addresses are not affected."""
    c = Client(server.base)
    c.http.headers["X-Forwarded-For"] = "10.9.9.9"
    mark = _last_audit_id(server)
    codes = []
    for i in range(14):
        token = c.form_token()
        r = c.http.post(server.base + "/login", timeout=30, allow_redirects=False,
                        data={"csrf_token": token, "username": f"nobody{i}",
                              "password": "x" * 12})
        codes.append(r.status_code)
    # 12 attempts per 10 minutes from one address (this module's setting)
    assert codes == [401] * 12 + [429] * 2
    first = 12
    assert "Too many sign-in attempts" in r.text
    actions = [a for _, a, _, _ in _audit(server, mark)]
    assert actions.count("sign_in_failed") == first  # a limited attempt checks no password
    assert actions.count("sign_in_rate_limited") == 14 - first
    assert {r[0] for r in _audit(server, mark)} >= {"nobody0"}
    other = Client(server.base)  # another address still signs in
    assert other.sign_in("vera").status_code == 302


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    env = {k: v for k, v in __import__("os").environ.items()
           if k not in ("SECRET_KEY", "DASHBOARD_ENV")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite'}", DASHBOARD_NO_AUTOAPP="0",
               SECRET_KEY="dev-not-secret", LOAD_DEMO_IF_EMPTY="0")
    out = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 2
    assert "SECRET_KEY" in out.stderr and "DASHBOARD_ENV=development" in out.stderr
    assert "Traceback" not in out.stderr


def test_audit_csv_is_admin_only_and_neutralised(server: Server) -> None:
    anon = Client(server.base)
    token = anon.form_token()
    anon.http.post(server.base + "/login", timeout=30, allow_redirects=False,
                   data={"csrf_token": token, "username": "=HYPERLINK(\"x\")",
                         "password": "y" * 12})
    admin = Client(server.base)
    assert admin.sign_in("akira").status_code == 302
    r = admin.get("/admin/audit.csv?action=sign_in_failed")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    text = r.content.decode("utf-8-sig")
    assert "'=hyperlink" in text.lower() and "\n=" not in text and ",=" not in text
    assert requests.get(server.base + "/admin/audit.csv", timeout=30,
                        allow_redirects=False).status_code in (302, 401)
