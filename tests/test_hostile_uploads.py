"""Uploads that cannot sink a worker (issue 14), over real HTTP against the app in its own
process on SQLite and PostgreSQL: request and file size limits refused with a clear message
before anything is kept, refused files deleted at once, staged uploads capped per account and
swept at start, and a double-clicked Confirm importing once."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from data_access.db import make_engine
from data_access.models import AuditEvent, HelpdeskEnquiry, ImportLog
from tests.authkit import Client, Server, app_server, body, find
from tests.conftest import BACKENDS
from tests.import_corpus import HELPDESK_HEADER, helpdesk_rows, to_csv

MB = 1024 * 1024


@pytest.fixture(scope="module", params=BACKENDS)
def served(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    """The app with a 1 MB upload limit, its upload folder holding a stale upload."""
    folder = tmp_path_factory.mktemp(f"uploads-{request.param}")
    uploads = folder / "uploads"
    stale = uploads / ("a" * 32)
    stale.mkdir(parents=True)
    (stale / "0.bin").write_bytes(b"old")
    old = time.time() - 2 * 24 * 3600
    os.utime(stale, (old, old))
    with app_server(request.param, folder, MAX_UPLOAD_MB="1", UPLOAD_DIR=str(uploads),
                    STAGED_PER_USER="2", LOAD_DEMO_IF_EMPTY="0") as srv:
        yield srv, uploads


def _count(srv: Server, model: Any, *where: Any) -> int:
    eng = make_engine(srv.db_url)
    try:
        with eng.connect() as c:
            return int(c.execute(select(func.count()).select_from(model).where(*where))
                       .scalar_one())
    finally:
        eng.dispose()


def _staff(srv: Server) -> tuple[Client, str]:
    c = Client(srv.base)
    assert c.sign_in("sakura").status_code == 302
    return c, c.csrf_cookie()


def _staged(uploads: Path) -> set[str]:
    return {d.name for d in uploads.iterdir() if d.is_dir() and len(d.name) == 32}


def test_stale_uploads_are_swept_at_start(served: tuple[Server, Path]) -> None:
    _, uploads = served
    assert ("a" * 32) not in _staged(uploads)


def test_a_request_over_the_limit_is_refused_before_it_is_kept(
        served: tuple[Server, Path]) -> None:
    srv, uploads = served
    staff, token = _staff(srv)
    before = _staged(uploads)
    big = [("big.csv", b"x" * (3 * MB + 10))]  # over the request limit (2 files + 1 MB)
    r = staff.upload("helpdesk", big, token=token)
    assert r.status_code == 413 and "larger than 1 MB" in r.json()["error"]
    one = [("one.csv", b"y" * (MB + 10))]  # under the request limit, over the file limit
    r = staff.upload("helpdesk", one, token=token)
    assert r.status_code == 413 and "one.csv is larger than 1 MB" in r.json()["error"]
    assert _staged(uploads) == before  # nothing kept
    assert _count(srv, AuditEvent, AuditEvent.action == "upload_refused") >= 1
    # without the role, a big body is refused without being read
    anon = Client(srv.base)
    t0 = time.monotonic()
    r = anon.upload("helpdesk", big, token="x")
    assert r.status_code == 401 and time.monotonic() - t0 < 5
    assert "Traceback" not in r.text


def test_a_refused_file_is_deleted_and_uploads_are_capped_per_account(
        served: tuple[Server, Path]) -> None:
    srv, uploads = served
    staff, token = _staff(srv)
    deps = staff.dependencies()
    rows = helpdesk_rows(4, prefix="BAD")
    rows[1][7] = "ZZ"
    r = staff.upload("helpdesk", [("bad.csv", to_csv(HELPDESK_HEADER, rows))], token=token)
    answer = staff.follow_job(deps, r.json()["job"], token)
    assert answer["data-staged"]["data"] is None and "Refused" in str(answer)
    bad = r.json()["token"]
    assert not list((uploads / bad).glob("*.bin"))  # the file went at once
    assert (uploads / bad / "problems.csv").is_file()  # (its problem list stays downloadable)
    tokens = []
    for i in range(3):
        r = staff.upload("helpdesk", [(f"ok{i}.csv", to_csv(HELPDESK_HEADER,
                                                            helpdesk_rows(2, start=10 * i)))],
                         token=token)
        tokens.append(r.json()["token"])
        staff.follow_job(deps, r.json()["job"], token)
    staged = _staged(uploads)
    assert tokens[-1] in staged and tokens[-2] in staged and tokens[0] not in staged
    assert bad not in staged  # the oldest of this account's uploads went


def test_a_double_clicked_confirm_imports_once(served: tuple[Server, Path]) -> None:
    srv, _ = served
    staff, token = _staff(srv)
    deps = staff.dependencies()
    r = staff.upload("helpdesk", [("twice.csv", to_csv(HELPDESK_HEADER,
                                                       helpdesk_rows(30, prefix="TW")))],
                     token=token)
    staged = staff.follow_job(deps, r.json()["job"], token)["data-staged"]["data"]
    confirm = body(find(deps, input_="data-confirm.n_clicks"),
                   {"data-confirm.n_clicks": 1, "data-staged.data": staged},
                   "data-confirm.n_clicks")
    before = _count(srv, HelpdeskEnquiry)
    answers: list[Any] = []
    clicks = [threading.Thread(target=lambda: answers.append(
        staff.callback(confirm, token=token))) for _ in range(2)]
    for t in clicks:
        t.start()
    for t in clicks:
        t.join()
    assert [a.status_code for a in answers] == [200, 200]
    jobs = {a.json()["response"]["data-job"]["data"]["id"] for a in answers}
    assert len(jobs) == 1  # both clicks follow the same import
    final = staff.follow_job(deps, jobs.pop(), token)
    assert "committed" in str(final) and "Error" not in str(final)
    assert _count(srv, HelpdeskEnquiry) == before + 30
    assert _count(srv, ImportLog, ImportLog.outcome == "committed",
                  ImportLog.file_name == "twice.csv") == 1
