"""Data (staff): what is loaded; upload a file, read its validation report and preview, then
confirm to commit; the import log; templates and the data dictionary; removing demo data.

A refused file shows its report and commits nothing. Uploads wait on disk (see
`_routes_data.stage`) so that 'Confirm' commits exactly the bytes that were checked.
"""

from __future__ import annotations

import logging
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import (
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    ctx,
    dcc,
    html,
    no_update,
)
from flask import current_app

from components.data_page import (
    demo_control,
    downloads,
    import_log_table,
    loaded_table,
    report_view,
)
from components.i18n import norm_lang, t
from data_access import audit, db
from data_access.importers import (
    FAMILIES,
    FAMILY_LABELS,
    ImportReport,
    Limits,
    check,
    family_counts,
    import_files,
    import_log,
    log_refusal,
    remove_demo_data,
)
from pages import _access
from pages import _routes_data as staging
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
MAX_SHOWN_PROBLEMS = 500


def _limits() -> Limits:
    try:
        return Limits.from_settings(current_app.config["DASHBOARD_SETTINGS"])
    except (RuntimeError, KeyError):
        return Limits.from_settings()


def _status() -> tuple[Any, Any, int, int]:
    """Rows per table, the import log, demo and real row totals (read fresh: the log changes
    on refused imports, which do not bump the cached data version)."""
    with db.get_engine().connect() as conn:
        counts = family_counts(conn)
        logs = import_log(conn, limit=50)
    return counts, logs, int(counts["demo_rows"].sum()), int(counts["real_rows"].sum())


def _log_view(logs: Any, lang: str) -> html.Div:
    return import_log_table(logs, lang, family_labels={**FAMILY_LABELS, "all": "All families"})


def _report(report: ImportReport, lang: str, token: str | None) -> html.Div:
    href = (f"/data-files/report/{token}.csv"
            if token and report.problems and len(report.problems) > MAX_SHOWN_PROBLEMS else None)
    return report_view(report.to_dict(max_problems=MAX_SHOWN_PROBLEMS), lang,
                       full_report_href=href)


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
    max_mb = _limits().max_bytes // (1024 * 1024)
    family_opts = [{"label": t(FAMILY_LABELS[k], lang), "value": k} for k in FAMILY_ORDER]
    upload_card = dbc.Card(dbc.CardBody([
        html.H2(t("Load a file", lang), className="h5"),
        dbc.Label(t("What the file holds", lang), html_for="data-family", className="small mb-0"),
        dbc.Select(id="data-family", options=family_opts, value="helpdesk",
                   className="mb-1"),
        html.P(t(FAMILY_HINTS["helpdesk"], lang), id="data-family-hint",
               className="small text-muted mb-2"),
        dcc.Upload(id="data-upload", multiple=True, max_size=4 * _limits().max_bytes,
                   className="data-upload", children=html.Div([
                       html.Span(t("Drag and drop a file here, or ", lang)),
                       html.A(t("choose a file", lang), className="data-upload-link"),
                   ])),
        html.P(t("CSV (UTF-8, UTF-8 with BOM or Shift_JIS; separated by ',' ';' or tab) or "
                 "XLSX, at most {mb} MB. Nothing is written until you confirm.", lang,
                 mb=max_mb), className="small text-muted mt-1 mb-2"),
        # the buttons sit above the report, next to its verdict, not below a long preview
        html.Div([
            dbc.Button(t("Confirm import", lang), id="data-confirm", color="primary",
                       disabled=True, className="me-2"),
            dbc.Button(t("Cancel", lang), id="data-cancel", color="secondary", outline=True),
        ], className="data-actions mb-2"),
        dcc.Loading(html.Div(id="data-report"), type="dot", delay_show=200),
        dcc.Store(id="data-staged"),
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
    Output("data-report", "children"),
    Output("data-staged", "data"),
    Output("data-confirm", "disabled"),
    Output("data-upload", "contents"),
    Output("data-log", "children"),
    Input("data-upload", "contents"),
    Input("data-family", "value"),
    State("data-upload", "filename"),
    State("data-staged", "data"),
    State("url", "search"),
    prevent_initial_call=True,
)
def validate_upload(contents, family, filenames, staged_data, search):  # noqa: ANN001, ANN201
    """Stage the upload, check it (nothing written), show the report; a refused file is
    logged. Changing the family checks the staged files again."""
    actor = _access.require(ROLE)
    lang = current_lang(search)
    if family not in FAMILY_LABELS:
        return no_update, no_update, no_update, no_update, no_update
    if ctx.triggered_id == "data-upload":
        if not contents:
            return no_update, no_update, no_update, no_update, no_update
        contents = contents if isinstance(contents, list) else [contents]
        filenames = filenames if isinstance(filenames, list) else [filenames]
        blobs = [(name or "upload", staging.decode_upload(c)) for name, c in
                 zip(filenames, contents, strict=False)]
        if any(b is None for _, b in blobs):
            return (dbc.Alert(t("The upload could not be read; please try again.", lang),
                              color="danger"), None, True, None, no_update)
        if staged_data and staged_data.get("token"):
            staging.drop(staged_data["token"])
        token = staging.stage([(n, b) for n, b in blobs], family)
    elif staged_data and staged_data.get("token"):
        token = staged_data["token"]
        staging.set_family(token, family)
    else:
        return no_update, no_update, no_update, no_update, no_update
    found = staging.staged(token)
    if found is None:
        return (dbc.Alert(t("The upload has expired; please upload the file again.", lang),
                          color="warning"), None, True, None, no_update)
    files, _ = found
    engine = db.get_engine()
    report = check(engine, files, family, limits=_limits())
    log_out: Any = no_update
    if not report.ok:
        log_refusal(engine, report, actor=actor)
        staging.save_problems(token, report)
        _, logs, _, _ = _status()
        log_out = _log_view(logs, lang)
    else:
        audit.record(engine, actor, "import_checked", target=report.file_name[:300],
                     detail={"family": family, "rows_read": report.rows_read,
                             "sha256": report.sha256})
    staged = {"token": token, "family": family, "ok": report.ok}
    return _report(report, lang, token), staged, not report.ok, None, log_out


# Browsers fire no 'change' when the same file is chosen again (e.g. after fixing it), unless
# the file input is emptied: do that once each upload has been handled.
clientside_callback(
    ClientsideFunction("eujp", "resetUpload"),  # assets/clientside.js
    Output("data-upload", "className"),
    Input("data-report", "children"),
    prevent_initial_call=True,
)


@callback(
    Output("data-report", "children", allow_duplicate=True),
    Output("data-staged", "data", allow_duplicate=True),
    Output("data-confirm", "disabled", allow_duplicate=True),
    Output("data-log", "children", allow_duplicate=True),
    Output("data-loaded", "children"),
    Output("data-demo", "children"),
    Input("data-confirm", "n_clicks"),
    State("data-staged", "data"),
    State("url", "search"),
    prevent_initial_call=True,
)
def confirm_import(n_clicks, staged_data, search):  # noqa: ANN001, ANN201
    """Commit the checked upload in one transaction and show what it did."""
    actor = _access.require(ROLE)
    lang = current_lang(search)
    if not n_clicks or not staged_data or not staged_data.get("ok"):
        return no_update, no_update, no_update, no_update, no_update, no_update
    token = staged_data.get("token", "")
    found = staging.staged(token)
    if found is None:
        return (dbc.Alert(t("The upload has expired; please upload the file again.", lang),
                          color="warning"), None, True, no_update, no_update, no_update)
    files, meta = found
    report = import_files(db.get_engine(), files, meta.get("family", staged_data["family"]),
                          limits=_limits(), actor=actor)
    if report.outcome == "committed":
        staging.drop(token)
    else:
        staging.save_problems(token, report)
    counts, logs, demo_rows, real_rows = _status()
    return (_report(report, lang, token), None, True, _log_view(logs, lang),
            loaded_table(counts, lang), demo_control(demo_rows, real_rows, lang))


@callback(
    Output("data-report", "children", allow_duplicate=True),
    Output("data-staged", "data", allow_duplicate=True),
    Output("data-confirm", "disabled", allow_duplicate=True),
    Input("data-cancel", "n_clicks"),
    State("data-staged", "data"),
    prevent_initial_call=True,
)
def cancel_upload(n_clicks, staged_data):  # noqa: ANN001, ANN201
    """Forget the staged upload without writing anything."""
    actor = _access.require(ROLE)
    if staged_data and staged_data.get("token"):
        meta = staging.staged_meta(staged_data["token"])
        staging.drop(staged_data["token"])
        if meta is not None:
            audit.record(db.get_engine(), actor, "import_cancelled",
                         target=", ".join(meta.get("names", []))[:300],
                         detail={"family": meta.get("family")})
    return None, None, True


@callback(
    Output("data-demo-modal", "is_open"),
    Output("data-demo-switch", "value"),
    Input("data-demo-switch", "value"),
    Input("data-demo-no", "n_clicks"),
    prevent_initial_call=True,
)
def ask_remove_demo(value, _no):  # noqa: ANN001, ANN201
    """Turning the switch off asks first; 'keep' turns it back on."""
    if ctx.triggered_id == "data-demo-no":
        return False, True
    if value is False:
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
