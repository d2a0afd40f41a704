"""Helpers for tests that act over HTTP as a person or an attacker would: start the app in
its own process (on SQLite or PostgreSQL), sign in through the real form, read the CSRF
cookie, and replay Dash callback POSTs built from the app's own `/_dash-dependencies`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from data_access.settings import ROOT
from tests.conftest import _drop_url, _free_port, _new_url, add_user, wait_for

PASSWORDS = {"vera": "viewer-password-long-1", "sakura": "staff-password-long-2",
             "akira": "admin-password-long-3"}
ROLES = {"vera": "viewer", "sakura": "staff", "akira": "admin"}


@dataclass
class Server:
    """An app process: its address, database and log file."""

    base: str
    db_url: str
    log: Path
    cookie: str


@contextmanager
def app_server(backend: str, folder: Path, **env: str) -> Iterator[Server]:
    """`python app.py` on a fresh database of `backend` with demo data and three accounts
    (vera viewer, sakura staff, akira admin); extra settings in `env`."""
    url = _new_url(backend, folder)
    for name, role in ROLES.items():
        add_user(url, name, role, PASSWORDS[name])
    port = _free_port()
    cookie = f"s{port}"
    log = folder / f"server-{port}.log"
    full = {**os.environ, "DATABASE_URL": url, "PORT": str(port), "HOST": "127.0.0.1",
            "DASHBOARD_NO_AUTOAPP": "0", "SESSION_COOKIE_NAME": cookie,
            "LOAD_DEMO_IF_EMPTY": "1", **env}
    with open(log, "w") as fh:
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=full, stdout=fh,
                                stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(lambda: requests.get(base + "/login", timeout=2).ok, timeout=120,
                     interval=0.3)
            yield Server(base, url, log, cookie)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            _drop_url(url)


class Client:
    """A browser-like HTTP client of one server (requests.Session with its cookies)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.http.headers["Accept"] = "text/html,application/json"

    def get(self, path: str, **kw: Any) -> requests.Response:
        """GET a path of the server (redirects not followed)."""
        kw.setdefault("allow_redirects", False)
        return self.http.get(self.base + path, timeout=60, **kw)

    def form_token(self, path: str = "/login") -> str:
        """The CSRF token of a server-rendered form."""
        html = self.get(path, allow_redirects=True).text
        m = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert m, f"no CSRF field on {path}"
        return m.group(1)

    def sign_in(self, name: str, password: str | None = None) -> requests.Response:
        """Sign in through the form."""
        token = self.form_token()
        return self.http.post(self.base + "/login", timeout=60, allow_redirects=False,
                              data={"csrf_token": token, "username": name,
                                    "password": password or PASSWORDS[name], "next": "/"})

    def csrf_cookie(self) -> str:
        """Open a page, as the browser does, and return the CSRF token Dash will send."""
        self.get("/", allow_redirects=True)
        return self.http.cookies.get("_csrf_token", "")

    def dependencies(self) -> list[dict[str, Any]]:
        """The app's callbacks, as the browser reads them."""
        r = self.get("/_dash-dependencies")
        r.raise_for_status()
        return r.json()

    def callback(self, body: Mapping[str, Any], *, token: str | None,
                 origin: str | None = None) -> requests.Response:
        """POST a callback as dash-renderer does (X-CSRFToken from the cookie)."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token is not None:
            headers["X-CSRFToken"] = token
        if origin is not None:
            headers["Origin"] = origin
        return self.http.post(self.base + "/_dash-update-component", data=json.dumps(body),
                              headers=headers, timeout=120)


    def upload(self, family: str, files: list[tuple[str, bytes]], *, token: str | None,
               origin: str | None = None, encoding: str = "auto") -> requests.Response:
        """Send files as the Data page's upload script does (multipart, X-CSRFToken)."""
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["X-CSRFToken"] = token
        if origin is not None:
            headers["Origin"] = origin
        return self.http.post(self.base + "/data-files/upload", headers=headers, timeout=120,
                              data={"family": family, "encoding": encoding},
                              files=[("file", (n, b)) for n, b in files])

    def follow_job(self, deps: list[dict[str, Any]], job: str, token: str,
                   timeout: float = 120) -> dict[str, Any]:
        """Poll a background job as the Data page does, until it ends; its last answer."""
        dep = find(deps, input_="data-job-poll.n_intervals")
        end = time.monotonic() + timeout
        n = 0
        while time.monotonic() < end:
            n += 1
            r = self.callback(body(dep, {"data-job.data": {"id": job},
                                         "data-job-poll.n_intervals": n, "url.search": ""},
                                   "data-job-poll.n_intervals"), token=token)
            r.raise_for_status()
            answer = r.json()["response"]
            if answer.get("data-job-poll", {}).get("disabled"):
                return answer
            time.sleep(0.3)
        raise AssertionError(f"job {job} did not end within {timeout}s")


def _outputs(output: str) -> list[dict[str, str]]:
    parts = output.strip(".").split("...") if output.startswith("..") else [output]
    out = []
    for p in parts:
        cid, _, prop = p.rpartition(".")
        out.append({"id": cid, "property": prop})
    return out


def find(deps: list[dict[str, Any]], *, input_: str) -> dict[str, Any]:
    """The (server-side) callback triggered by the input 'id.property'."""
    for d in deps:
        if d.get("clientside_function"):
            continue
        if any(f"{i['id']}.{i['property']}" == input_ for i in d["inputs"]):
            return d
    raise AssertionError(f"no callback has the input {input_}")


def body(dep: Mapping[str, Any], values: Mapping[str, Any], changed: str) -> dict[str, Any]:
    """The JSON body dash-renderer sends for `dep` with these 'id.prop' values."""
    outs = _outputs(dep["output"])
    return {
        "output": dep["output"],
        "outputs": outs if len(outs) > 1 else outs[0],
        "inputs": [{**i, "value": values.get(f"{i['id']}.{i['property']}")}
                   for i in dep["inputs"]],
        "state": [{**s, "value": values.get(f"{s['id']}.{s['property']}")}
                  for s in dep.get("state", [])],
        "changedPropIds": [changed],
    }
