"""Plain Flask routes of the Data page (staff only: `pages._access` guards `/data-files/`):

- `POST /data-files/upload`  the file(s) of an upload as a multipart stream (assets/upload.js):
  staged on disk in chunks (data_access.staging; over the size limit it is cut off and
  removed), then a background check is queued (data_access.jobs); answers {token, job};
- `GET /data-files/template/<family>.csv|.xlsx`, `GET /data-files/dictionary.xlsx`;
- `GET /data-files/report/<token>.csv`  the full problem list of a checked upload.

Request bodies are capped at the HTTP layer (MAX_CONTENT_LENGTH, `Settings.max_request_bytes`):
a bigger request is refused before it is read, with a message the page shows.
"""

from __future__ import annotations

from flask import Flask, Response, abort, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from components.i18n import t
from data_access import audit, db, jobs
from data_access.importers import FAMILY_LABELS
from data_access.settings import Settings
from data_access.staging import Area, StagingError
from data_access.templates import TEMPLATE_FAMILIES, dictionary_xlsx, template_csv, template_xlsx
from pages._access import require
from pages._state import current_lang

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ENCODINGS = ("auto", "utf-8", "cp932", "utf-16")


def settings() -> Settings:
    """The running app's settings."""
    return current_app.config["DASHBOARD_SETTINGS"]


def area() -> Area:
    """The running app's staging area."""
    return Area.from_settings(settings())


def _refuse(status: int, message: str, **fmt: object) -> Response:
    resp = jsonify({"error": t(message, current_lang(), **fmt)})
    resp.status_code = status
    return resp


def upload() -> Response:
    """Stage the uploaded file(s) and queue their check."""
    who = require("staff")
    family = request.form.get("family", "")
    encoding = request.form.get("encoding", "auto")
    if family not in FAMILY_LABELS or encoding not in ENCODINGS:
        return _refuse(400, "Choose what the file holds, then upload it again.")
    files = request.files.getlist("file")
    if not files:
        return _refuse(400, "Choose a file to upload.")
    try:
        token = area().stage([(f.filename or "", f.stream) for f in files], family=family,
                             owner=who.name, encoding=encoding)
    except StagingError as exc:
        audit.record(db.get_engine(), who, "upload_refused", outcome="denied",
                     target=", ".join(f.filename or "" for f in files)[:300],
                     detail={"reason": str(exc)})
        return _refuse(413 if "larger" in exc.template else 400, exc.template, **exc.fmt)
    finally:
        for f in files:
            f.close()
    job, _ = jobs.submit(db.get_engine(), settings(), kind="check", family=family,
                         token=token, actor=who, params={"encoding": encoding})
    return jsonify({"token": token, "job": job})


def too_large(_exc: RequestEntityTooLarge) -> Response:
    """A request over MAX_CONTENT_LENGTH: refused before it is read, said plainly."""
    mb = settings().MAX_UPLOAD_MB
    return _refuse(413, "The upload is larger than {mb} MB, the most a file may be.", mb=mb)


def template(family: str, ext: str) -> Response:
    """A family's template (CSV or XLSX)."""
    if family not in TEMPLATE_FAMILIES or ext not in ("csv", "xlsx"):
        abort(404)
    if ext == "csv":
        body, mime = template_csv(family), "text/csv; charset=utf-8"
    else:
        body, mime = template_xlsx(family), XLSX_MIME
    return Response(body, mimetype=mime, headers={
        "Content-Disposition": f'attachment; filename="template-{family}.{ext}"'})


def dictionary() -> Response:
    """The data dictionary of every family."""
    return Response(dictionary_xlsx(), mimetype=XLSX_MIME, headers={
        "Content-Disposition": 'attachment; filename="data-dictionary.xlsx"'})


def problems(token: str) -> Response:
    """Every problem found in a checked upload, as CSV."""
    data = area().problems(token)
    if data is None:
        abort(404)
    return Response(data, mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="import-problems.csv"'})


def register_routes(server: Flask) -> None:
    """Add the Data page's routes and the request size limit to the Flask server."""
    s: Settings | None = server.config.get("DASHBOARD_SETTINGS")
    if s is not None:
        server.config["MAX_CONTENT_LENGTH"] = s.max_request_bytes
        server.config["MAX_FORM_MEMORY_SIZE"] = 1024 * 1024  # form fields; files go to disk
        Area.from_settings(s).sweep()  # abandoned uploads of earlier runs
    server.add_url_rule("/data-files/upload", "data_upload", upload, methods=["POST"])
    server.add_url_rule("/data-files/template/<family>.<ext>", "data_template", template)
    server.add_url_rule("/data-files/dictionary.xlsx", "data_dictionary", dictionary)
    server.add_url_rule("/data-files/report/<token>.csv", "data_problems", problems)
    server.register_error_handler(RequestEntityTooLarge, too_large)
