"""Data (staff): what is loaded; upload a file, watch its check, read the validation report
and preview, then confirm to commit; the import log; templates and the data dictionary;
removing demo data.

Uploads stream to the server (assets/upload.js -> `POST /data-files/upload`) and wait on disk
(data_access.staging), so that Confirm commits exactly the bytes that were checked. The check
and the import run as background jobs (data_access.jobs): this page polls them, shows their
progress and can cancel them; a web worker never holds a long import. A refused file shows
its report and commits nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html, no_update
from flask import current_app

from components.data_page import (
    demo_control,
    downloads,
    import_log_table,
    job_progress,
    loaded_table,
    report_view,
)
from components.i18n import norm_lang, t
from data_access import db, jobs
from data_access.importers import (
    FAMILIES,
    FAMILY_LABELS,
    family_counts,
    import_log,
    remove_demo_data,
)
from data_access.settings import Settings
from data_access.staging import Area
from pages import _access
from pages._state import current_lang

PAGE = "data"
ROLE = "staff"  # every callback below needs it too (pages._access.guard)
dash.register_page(__name__, path="/data", name="Data", order=9,
                   title="Data · EU–Japan Centre", role=ROLE, filters=False)
log = logging.getLogger(__name__)

FAMILY_ORDER = ("programmes", "helpdesk", "techoffers", "techdeals", "cordis", "epa")
FAMILY_HINTS = {
    **{k: s.description for k, s in FAMILIES.items()},
    "cordis": "Research participation as CORDIS publishes it: project.csv and organization.csv "
              "together (select both files), or the .zip that holds them. Only organisations "
              "in Japan are kept.",
}
ENCODING_OPTIONS = (("auto", "Detect automatically"), ("utf-8", "UTF-8"),
                    ("cp932", "Shift_JIS (Japanese Excel)"), ("utf-16", "UTF-16"))
MAX_SHOWN_PROBLEMS = 500
POLL_MS = 600


def _settings() -> Settings:
    return current_app.config["DASHBOARD_SETTINGS"]


def _status() -> tuple[Any, Any, int, int]:
    """Rows per table, the import log, demo and real row totals (read fresh: the log changes
    on refused imports, which do not bump the cached data version)."""
    with db.get_engine().connect() as conn:
        counts = family_counts(conn)
        logs = import_log(conn, limit=50)
    return counts, logs, int(counts["demo_rows"].sum()), int(counts["real_rows"].sum())


def _log_view(logs: Any, lang: str) -> html.Div:
    return import_log_table(logs, lang, family_labels={**FAMILY_LABELS, "all": "All families"})


def _report(report: dict[str, Any], lang: str, token: str | None) -> html.Div:
    href = (f"/data-files/report/{token}.csv"
            if token and report.get("problem_count", 0) > MAX_SHOWN_PROBLEMS else None)
    return report_view(report, lang, full_report_href=href)


def _upload_config(lang: str, max_mb: int) -> html.Div:
    """What assets/upload.js needs: where to send, the limit, its messages."""
    return html.Div(id="data-upload-config", hidden=True, **{
        "data-url": "/data-files/upload", "data-max-bytes": str(max_mb * 1024 * 1024),
        "data-too-big": t("{name} is larger than {mb} MB, the most a file may be.", lang),
        "data-sending": t("Sending the file…", lang),
        "data-sent": t("Received. Checking the file…", lang),
        "data-failed": t("The upload did not reach the server; please try again.", lang)})


@_access.restricted(ROLE)
def layout(lang: str | None = None, **_query: Any) -> html.Div:
    """The Data page: upload and report on the left, downloads and demo switch on the right,
    then what is loaded and the import log."""
    lang = norm_lang(lang) if lang else current_lang()
    try:
        if _access.validating():  # Dash's validation layout: the structure, no data
            raise LookupError
        counts, logs, demo_rows, real_rows = _status()
        loaded, log_view = loaded_table(counts, lang), _log_view(logs, lang)
        demo = demo_control(demo_rows, real_rows, lang)
    except LookupError:
        loaded, log_view, demo = None, None, demo_control(0, 0, lang)
    except Exception:  # noqa: BLE001 - the page must render even if the database is down
        log.exception("Data page status")
        msg = html.P(t("The database cannot be read right now.", lang), className="text-danger")
        loaded, log_view, demo = msg, msg, demo_control(0, 0, lang)
    max_mb = _settings().MAX_UPLOAD_MB
    family_opts = [{"label": t(FAMILY_LABELS[k], lang), "value": k} for k in FAMILY_ORDER]
    upload_card = dbc.Card(dbc.CardBody([
        html.H2(t("Load a file", lang), className="h5"),
        dbc.Label(t("What the file holds", lang), html_for="data-family", className="small mb-0"),
        dbc.Select(id="data-family", options=family_opts, value="helpdesk",
                   className="mb-1"),
        html.P(t(FAMILY_HINTS["helpdesk"], lang), id="data-family-hint",
               className="small text-muted mb-2"),
        dbc.Label(t("Encoding of a CSV file", lang), html_for="data-encoding",
                  className="small mb-0"),
        dbc.Select(id="data-encoding", value="auto", className="mb-2",
                   options=[{"label": t(label, lang), "value": v}
                            for v, label in ENCODING_OPTIONS]),
        # dcc.Upload draws the drop zone; assets/upload.js sends the files as a stream
        dcc.Upload(id="data-upload", multiple=True, className="data-upload",
                   children=html.Div([
                       html.Span(t("Drag and drop a file here, or ", lang)),
                       html.A(t("choose a file", lang), className="data-upload-link"),
                   ])),
        _upload_config(lang, max_mb),
        html.Div(dbc.Progress(value=0, label="0%", striped=True, animated=True),
                 id="data-upload-bar", hidden=True, className="mt-1"),
        html.P(id="data-upload-status", className="small mt-1 mb-0", role="status"),
        html.P(t("CSV (UTF-8, UTF-8 with BOM or Shift_JIS; separated by ',' ';' or tab) or "
                 "XLSX, at most {mb} MB. Nothing is written until you confirm.", lang,
                 mb=max_mb), className="small text-muted mt-1 mb-2"),
        # the buttons sit above the report, next to its verdict, not below a long preview
        html.Div([
            dbc.Button(t("Confirm import", lang), id="data-confirm", color="primary",
                       disabled=True, className="me-2"),
            dbc.Button(t("Cancel", lang), id="data-cancel", color="secondary", outline=True),
        ], className="data-actions mb-2"),
        html.Div(id="data-progress", role="status", **{"aria-live": "polite"}),
        html.Div(id="data-report"),
        dcc.Store(id="data-staged"),
        # (kept for the tab's session: leaving the page and coming back shows the job again)
        dcc.Store(id="data-job", storage_type="session"),
        dcc.Interval(id="data-job-poll", interval=POLL_MS, disabled=True),
    ]), className="shadow-sm mb-3")
    side = [
        dbc.Card(dbc.CardBody([
            html.H2(t("Templates and data dictionary", lang), className="h5"),
            downloads([(k, FAMILY_LABELS[k]) for k in FAMILY_ORDER if k in FAMILIES], lang),
        ]), className="shadow-sm mb-3"),
        dbc.Card(dbc.CardBody([
            html.H2(t("Demo data", lang), className="h5"),
            html.Div(demo, id="data-demo"),
            html.Div(id="data-demo-msg", className="small mt-1"),
        ]), className="shadow-sm mb-3"),
    ]
    modal = dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle(t("Remove the demo data?", lang))),
        dbc.ModalBody(t("Every demo row is deleted, on every page. Your own data stays. This "
                        "cannot be undone from the dashboard.", lang)),
        dbc.ModalFooter([
            dbc.Button(t("Keep the demo data", lang), id="data-demo-no", color="secondary",
                       outline=True),
            dbc.Button(t("Remove the demo data", lang), id="data-demo-yes", color="danger"),
        ]),
    ], id="data-demo-modal", is_open=False, centered=True)
    return html.Div([
        dcc.Location(id="data-reload", refresh=True),
        html.Div([html.H1(t("Data", lang), className="page-title")], className="page-head"),
        html.P(t("Load the Centre's own data: check a file, read the report, then confirm. An "
                 "import is all or nothing, and loading the same file again changes nothing.",
                 lang), className="text-muted small mb-2"),
        dbc.Row([dbc.Col(upload_card, xs=12, lg=7), dbc.Col(side, xs=12, lg=5)]),
        dbc.Card(dbc.CardBody([html.H2(t("What is loaded", lang), className="h5"),
                               html.Div(loaded, id="data-loaded")]),
                 className="shadow-sm mb-3"),
        dbc.Card(dbc.CardBody([html.H2(t("Import log", lang), className="h5"),
                               html.Div(log_view, id="data-log")]),
                 className="shadow-sm mb-3"),
        modal,
    ], className="data-page")


@callback(Output("data-family-hint", "children"), Input("data-family", "value"),
          State("url", "search"))
def family_hint(family: str | None, search: str | None) -> str:
    """Say what a file of the chosen family holds."""
    return t(FAMILY_HINTS.get(family or "", ""), current_lang(search))


@callback(
    Output("data-job", "data", allow_duplicate=True),
    Input("data-family", "value"),
    Input("data-encoding", "value"),
    State("data-staged", "data"),
    prevent_initial_call=True,
)
def recheck(family: str | None, encoding: str | None, staged: dict | None) -> Any:
    """Another family or encoding for the file already uploaded: check it again."""
    actor = _access.require(ROLE)
    if family not in FAMILY_LABELS or not staged or not staged.get("token"):
        return no_update
    area = Area.from_settings(_settings())
    if area.paths(staged["token"]) is None:
        return no_update
    area.set_family(staged["token"], family, encoding or "auto")
    job, _ = jobs.submit(db.get_engine(), _settings(), kind="check", family=family,
                         token=staged["token"], actor=actor,
                         params={"encoding": encoding or "auto"})
    return {"id": job, "kind": "check", "token": staged["token"]}


@callback(
    Output("data-progress", "children"),
    Output("data-report", "children"),
    Output("data-staged", "data"),
    Output("data-confirm", "disabled"),
    Output("data-job-poll", "disabled"),
    Output("data-log", "children"),
    Output("data-loaded", "children"),
    Output("data-demo", "children"),
    Output("data-upload-status", "children"),
    Input("data-job", "data"),
    Input("data-job-poll", "n_intervals"),
    State("url", "search"),
)
def follow_job(job: dict | None, _ticks: int | None, search: str | None) -> tuple:
    """While a check or an import runs: its progress; when it ends: its report, and (after an
    import) the refreshed import log and row counts."""
    _access.require(ROLE)
    lang = current_lang(search)
    unchanged = (no_update,) * 3
    if not job or not job.get("id"):
        return (None, no_update, no_update, no_update, True, *unchanged, no_update)
    state = jobs.view(db.get_engine(), _settings(), job["id"])
    if state is None:
        return (None, dbc.Alert(t("The upload has expired; please upload the file again.",
                                  lang), color="warning"), None, True, True, *unchanged, "")
    if not state.finished:
        busy = ctx.triggered_id == "data-job"
        return (job_progress(state.__dict__, lang), None if busy else no_update, no_update,
                True, False, *unchanged, no_update)
    if state.status != "done" or state.result is None:
        return (job_progress(state.__dict__, lang), None, None, True, True, *unchanged, "")
    report = state.result
    staged = {"token": state.token, "family": state.family,
              "ok": bool(report.get("ok")) and state.kind == "check"}
    out = (None, _report(report, lang, state.token), staged if staged["ok"] else None,
           not staged["ok"], True)
    counts, logs, demo_rows, real_rows = _status()
    return (*out, _log_view(logs, lang),
            loaded_table(counts, lang) if state.kind == "import" else no_update,
            demo_control(demo_rows, real_rows, lang) if state.kind == "import" else no_update,
            "")


@callback(
    Output("data-job", "data", allow_duplicate=True),
    Output("data-confirm", "disabled", allow_duplicate=True),
    Input("data-confirm", "n_clicks"),
    State("data-staged", "data"),
    prevent_initial_call=True,
)
def confirm_import(n_clicks: int | None, staged: dict | None) -> tuple:
    """Commit the checked upload (one import job per upload: a second click, in this tab or
    another, follows the first instead of importing twice)."""
    actor = _access.require(ROLE)
    if not n_clicks or not staged or not staged.get("ok") or not staged.get("token"):
        return no_update, no_update
    meta = Area.from_settings(_settings()).meta(staged["token"]) or {}
    job, _ = jobs.submit(db.get_engine(), _settings(), kind="import",
                         family=meta.get("family", staged.get("family", "")),
                         token=staged["token"], actor=actor,
                         params={"encoding": meta.get("encoding", "auto")})
    return {"id": job, "kind": "import", "token": staged["token"]}, True


@callback(
    Output("data-report", "children", allow_duplicate=True),
    Output("data-staged", "data", allow_duplicate=True),
    Output("data-confirm", "disabled", allow_duplicate=True),
    Output("data-progress", "children", allow_duplicate=True),
    Input("data-cancel", "n_clicks"),
    State("data-job", "data"),
    State("data-staged", "data"),
    State("url", "search"),
    prevent_initial_call=True,
)
def cancel(n_clicks: int | None, job: dict | None, staged: dict | None,
           search: str | None) -> tuple:
    """Stop a running check or import (nothing is written), or forget the staged upload."""
    actor = _access.require(ROLE)
    if not n_clicks:
        return no_update, no_update, no_update, no_update
    lang = current_lang(search)
    engine, settings = db.get_engine(), _settings()
    state = jobs.view(engine, settings, job["id"]) if job and job.get("id") else None
    if state is not None and not state.finished:
        jobs.cancel(engine, settings, state.id, actor)
        return (no_update, no_update, True,
                dbc.Alert(t("Stopping… nothing is written.", lang), color="secondary",
                          className="py-2"))
    token = (staged or {}).get("token") or (state.token if state else None)
    if token:
        area = Area.from_settings(settings)
        meta = area.meta(token)
        area.drop(token)
        if meta is not None:
            from data_access import audit

            audit.record(engine, actor, "import_cancelled",
                         target=", ".join(meta.get("names", []))[:300],
                         detail={"family": meta.get("family"), "while": "staged"})
    return None, None, True, None


@callback(
    Output("data-demo-modal", "is_open"),
    Output("data-demo-switch", "value"),
    Input("data-demo-switch", "value"),
    Input("data-demo-no", "n_clicks"),
    State("data-demo-switch", "disabled"),
    prevent_initial_call=True,
)
def ask_remove_demo(value: bool | None, _no: int | None, disabled: bool | None) -> tuple:
    """Turning the switch off asks first; 'keep' turns it back on. (A switch drawn off and
    disabled, when there is no demo data, asks nothing.)"""
    if ctx.triggered_id == "data-demo-no":
        return False, True
    if value is False and not disabled:
        return True, no_update
    return no_update, no_update


@callback(
    Output("data-demo-modal", "is_open", allow_duplicate=True),
    Output("data-demo-msg", "children"),
    Output("data-reload", "href"),
    Input("data-demo-yes", "n_clicks"),
    State("url", "search"),
    prevent_initial_call=True,
)
def remove_demo(n_clicks, search):  # noqa: ANN001, ANN201
    """Delete the demo rows (one transaction, data version bumped), then reload the page so
    the demo banner goes too."""
    actor = _access.require(ROLE)
    lang = current_lang(search)
    if not n_clicks:
        return no_update, no_update, no_update
    try:
        remove_demo_data(db.get_engine(), actor=actor)
    except ValueError:
        return False, html.Span(t("Load at least one file of your own data first: removing "
                                  "the demo data now would leave every page empty.", lang),
                                className="text-danger"), no_update
    return False, t("Demo data removed.", lang), "/data" + (search or "")
