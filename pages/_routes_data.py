"""Plain Flask routes of the Data page: template and data-dictionary downloads, the full
problem list of a validation; plus the staging area uploads wait in until confirmed.

Uploads are staged on disk (not in the browser) so that 'Confirm' commits exactly the bytes
that were validated, and several gunicorn workers on one host see the same files.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from flask import Response, abort, current_app

from data_access.importers import InputFile
from data_access.importers.report import ImportReport
from data_access.settings import ROOT
from data_access.templates import TEMPLATE_FAMILIES, dictionary_xlsx, template_csv, template_xlsx

TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STALE_SECONDS = 24 * 3600


def decode_upload(contents: str) -> bytes | None:
    """The bytes of a dcc.Upload data URL ('data:…;base64,…'); None if it is not one."""
    try:
        _, b64 = contents.split(",", 1)
        return base64.b64decode(b64, validate=False)
    except (ValueError, binascii.Error, AttributeError):
        return None


def upload_root() -> Path:
    """Where uploads wait for confirmation (setting UPLOAD_DIR, else instance/uploads)."""
    try:
        settings = current_app.config.get("DASHBOARD_SETTINGS")
        custom = settings.extra.get("UPLOAD_DIR") if settings is not None else None
    except RuntimeError:  # outside an app context (tests of the helpers)
        custom = None
    root = Path(custom) if custom else ROOT / "instance" / "uploads"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _dir(token: str) -> Path | None:
    if not isinstance(token, str) or not TOKEN_RE.match(token):
        return None
    d = upload_root() / token
    return d if d.is_dir() else None


def sweep(max_age: float = STALE_SECONDS) -> None:
    """Remove staged uploads older than `max_age` seconds (abandoned previews)."""
    now = time.time()
    for d in upload_root().iterdir():
        if d.is_dir() and TOKEN_RE.match(d.name) and now - d.stat().st_mtime > max_age:
            shutil.rmtree(d, ignore_errors=True)


def stage(files: list[tuple[str, bytes]], family: str) -> str:
    """Keep uploaded files on disk until they are confirmed; returns their token."""
    sweep()
    token = uuid.uuid4().hex
    d = upload_root() / token
    d.mkdir(parents=True)
    names = []
    for i, (name, data) in enumerate(files):
        (d / f"{i}.bin").write_bytes(data)
        names.append(Path(name).name or f"upload-{i}")
    (d / "meta.json").write_text(json.dumps({"family": family, "names": names}))
    return token


def staged(token: str) -> tuple[list[InputFile], dict[str, Any]] | None:
    """The staged files of a token (with their original names) and its metadata."""
    d = _dir(token)
    if d is None:
        return None
    meta = json.loads((d / "meta.json").read_text())
    files = [InputFile.from_bytes(name, (d / f"{i}.bin").read_bytes())
             for i, name in enumerate(meta["names"])]
    return files, meta


def staged_meta(token: str) -> dict[str, Any] | None:
    """The metadata (family, file names) of a staged upload, without reading its files."""
    d = _dir(token)
    return None if d is None else json.loads((d / "meta.json").read_text())


def set_family(token: str, family: str) -> None:
    """Record the family the staged files were last checked as."""
    d = _dir(token)
    if d is not None:
        meta = json.loads((d / "meta.json").read_text())
        meta["family"] = family
        (d / "meta.json").write_text(json.dumps(meta))


def save_problems(token: str, report: ImportReport) -> None:
    """Keep the full problem list for the 'download every problem' link."""
    d = _dir(token)
    if d is not None:
        (d / "problems.csv").write_bytes(report.problems_csv())


def drop(token: str) -> None:
    """Forget a staged upload (after it was committed or cancelled)."""
    d = _dir(token)
    if d is not None:
        shutil.rmtree(d, ignore_errors=True)


def register_routes(server: Any) -> None:
    """Add the Data page's download routes to the Flask server."""

    @server.route("/data-files/template/<family>.<ext>")
    def data_template(family: str, ext: str) -> Response:
        if family not in TEMPLATE_FAMILIES or ext not in ("csv", "xlsx"):
            abort(404)
        if ext == "csv":
            body, mime = template_csv(family), "text/csv; charset=utf-8"
        else:
            body, mime = template_xlsx(family), XLSX_MIME
        return Response(body, mimetype=mime, headers={
            "Content-Disposition": f'attachment; filename="template-{family}.{ext}"'})

    @server.route("/data-files/dictionary.xlsx")
    def data_dictionary() -> Response:
        return Response(dictionary_xlsx(), mimetype=XLSX_MIME, headers={
            "Content-Disposition": 'attachment; filename="data-dictionary.xlsx"'})

    @server.route("/data-files/report/<token>.csv")
    def data_problems(token: str) -> Response:
        d = _dir(token)
        if d is None or not (d / "problems.csv").is_file():
            abort(404)
        return Response((d / "problems.csv").read_bytes(), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition":
                                 'attachment; filename="import-problems.csv"'})
