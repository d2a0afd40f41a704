"""Pure builders of the Data page: the validation report, the preview, the import log and
the table of what is loaded. They take plain dicts/DataFrames (a report's `to_dict()`), so a
hand-made value is enough to test them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from components.formats import fmt_int, is_missing
from components.i18n import t

OUTCOME_COLOR = {"committed": "success", "refused": "danger", "failed": "danger",
                 "demo": "secondary", "demo removed": "warning", "checked": "info"}
OUTCOME_LABEL = {"committed": "Committed", "refused": "Refused", "failed": "Failed",
                 "demo": "Demo data loaded", "demo removed": "Demo data removed",
                 "checked": "Checked"}
MAX_PROBLEM_ROWS = 500


def problem_text(p: Mapping[str, Any], lang: str = "en") -> str:
    """A problem's reason in the interface language (its template is the translation key)."""
    params = p.get("params") or {}
    try:
        return t(p["template"], lang, **params)
    except (KeyError, IndexError, ValueError):
        return t(p["template"], "en", **params) if params else p["template"]


def verdict(report: Mapping[str, Any], lang: str = "en") -> html.Div:
    """The one-line verdict at the top of a report."""
    outcome = report.get("outcome", "checked")
    if outcome == "committed":
        text, color = ("Imported: the data is in the database and every page shows it now.",
                       "success")
    elif outcome == "failed":
        text, color = ("The import failed while writing and was rolled back: nothing was "
                       "written.", "danger")
    elif report.get("ok"):
        text, color = ("Ready to import: check the summary and the preview, then confirm.",
                       "info")
    else:
        text, color = ("Refused: nothing was written. Correct the problems listed below and "
                       "upload the file again.", "danger")
    body: list[Any] = [html.Strong(t(text, lang))]
    if report.get("error"):
        body += [html.Br(), html.Code(report["error"], className="small")]
    state = "valid" if outcome == "checked" and report.get("ok") else (
        "refused" if outcome == "checked" else outcome)
    return html.Div(dbc.Alert(body, color=color, className="py-2 mb-2"), id="data-verdict",
                    **{"data-outcome": state})


def file_lines(report: Mapping[str, Any], lang: str = "en") -> html.Ul:
    """How each file was read: type, encoding, separator, sheet, rows."""
    items = []
    for f in report.get("files", []):
        bits = [(f.get("kind") or "").upper()]
        if f.get("encoding"):
            bits.append(f["encoding"])
        if f.get("separator"):
            sep = t("tab", lang) if f["separator"] == "tab" else f"'{f['separator']}'"
            bits.append(f"{t('separator', lang)} {sep}")
        if f.get("sheet"):
            bits.append(f"{t('sheet', lang)} '{f['sheet']}'")
        bits.append(f"{fmt_int(f.get('rows', 0))} {t('rows', lang)}")
        sha = f.get("sha256") or ""
        items.append(html.Li([html.Strong(f.get("name", "")), " · ",
                              " · ".join(b for b in bits if b),
                              html.Span(f" · SHA-256 {sha[:12]}…" if len(sha) > 12 else "",
                                        title=sha, className="text-muted")],
                             className="small"))
    return html.Ul(items, className="list-unstyled mb-2 data-files")


def summary(report: Mapping[str, Any], lang: str = "en") -> html.Div:
    """Counts: rows read, fine, refused (skipped for CORDIS), new, updated, unchanged."""
    done = report.get("outcome") == "committed"
    stats = [("read", "Rows read", report.get("rows_read", 0), "secondary"),
             ("fine", "Fine", report.get("rows_fine", 0), "success"),
             ("refused", "Refused", report.get("rows_refused", 0),
              "danger" if report.get("rows_refused") else "secondary")]
    if report.get("rows_skipped"):
        stats.append(("skipped", "Skipped (not Japan)", report["rows_skipped"], "secondary"))
    stats += [("new", "New" if done else "To add", report.get("inserted", 0), "primary"),
              ("updated", "Updated" if done else "To update", report.get("updated", 0),
               "primary"),
              ("unchanged", "Unchanged", report.get("unchanged", 0), "secondary")]
    return html.Div([
        html.Span([html.Span(t(label, lang) + " ", className="data-stat-label"),
                   dbc.Badge(fmt_int(value), color=color, className="data-stat-value")],
                  className="data-stat me-3", **{"data-stat": key})
        for key, label, value, color in stats], className="data-summary mb-2",
        id="data-summary")


def notes(report: Mapping[str, Any], lang: str = "en") -> html.Ul | None:
    """Remarks that do not refuse the import (rows skipped, chapters added up…)."""
    items = [html.Li(problem_text(n, lang), className="small text-muted")
             for n in report.get("notes", [])]
    return html.Ul(items, className="mb-2 data-notes") if items else None


def problems_table(report: Mapping[str, Any], lang: str = "en", *,
                   full_report_href: str | None = None,
                   max_rows: int = MAX_PROBLEM_ROWS) -> html.Div | None:
    """Every problem: file, row (as a spreadsheet shows it), column, value, why."""
    problems = report.get("problems", [])
    total = int(report.get("problem_count", len(problems)))
    if not total:
        return None
    head = html.Thead(html.Tr([html.Th(t(h, lang), scope="col") for h in
                               ("File", "Row", "Column", "Value", "Problem")]))
    labels = [t(h, lang) for h in ("File", "Row", "Column", "Value", "Problem")]

    def cells(p: Mapping[str, Any]) -> list[html.Td]:
        values = [p.get("file") or "", "" if p.get("row") is None else str(p["row"]),
                  p.get("column") or "", html.Code(p["value"]) if p.get("value") else "",
                  problem_text(p, lang)]
        # data-label: phones show each problem as a labelled block (see data.css)
        return [html.Td(v, **{"data-label": lbl}) for v, lbl in zip(values, labels,
                                                                     strict=True)]

    body = [html.Tr(cells(p)) for p in problems[:max_rows]]
    title = [html.H3(f"{t('Problems', lang)} ({fmt_int(total)})", className="h6 mt-2")]
    shown = min(total, max_rows, len(problems))
    if shown < total:
        title.append(html.P(t("Showing the first {shown} of {total} problems.", lang,
                              shown=fmt_int(shown), total=fmt_int(total)),
                            className="small text-muted mb-1"))
    if full_report_href:
        title.append(html.A(t("Download every problem (CSV)", lang), href=full_report_href,
                            className="small d-inline-block mb-1", id="data-problems-csv"))
    return html.Div([*title, html.Div(dbc.Table([head, html.Tbody(body)], size="sm",
                                                striped=True, className="mb-0 data-table"),
                                      className="table-responsive data-problems")],
                    id="data-problems")


def preview_tables(report: Mapping[str, Any], lang: str = "en") -> html.Div | None:
    """The first rows of each file as they were read (before any mapping)."""
    blocks = []
    for name, pv in (report.get("preview") or {}).items():
        cols = pv.get("columns", [])
        rows = pv.get("rows", [])
        if not rows:
            continue
        width = max([len(cols)] + [len(r) for r in rows])
        cols = list(cols) + [f"#{i + 1}" for i in range(len(cols), width)]
        head = html.Thead(html.Tr([html.Th(c, scope="col") for c in cols]))
        body = [html.Tr([html.Td(v[:60] + "…" if len(v) > 60 else v) for v in
                         list(r) + [""] * (width - len(r))]) for r in rows]
        blocks.append(html.Div([
            html.Div(name, className="small fw-semibold"),
            html.Div(dbc.Table([head, html.Tbody(body)], size="sm", bordered=True,
                               className="mb-2 data-table"), className="table-responsive"),
        ]))
    if not blocks:
        return None
    return html.Div([html.H3(t("Preview: the first rows as read", lang), className="h6 mt-2"),
                     *blocks], id="data-preview")


def report_view(report: Mapping[str, Any], lang: str = "en", *,
                full_report_href: str | None = None) -> html.Div:
    """The whole validation report: verdict, files, counts, notes, problems, preview."""
    return html.Div([
        verdict(report, lang),
        file_lines(report, lang),
        summary(report, lang),
        notes(report, lang),
        problems_table(report, lang, full_report_href=full_report_href),
        preview_tables(report, lang),
    ], className="data-report")


def _when(v: Any) -> str:
    if is_missing(v) or v is None or v is pd.NaT:
        return ""
    try:
        return pd.Timestamp(v).strftime("%Y-%m-%d %H:%M")
    except (ValueError, TypeError):
        return str(v)


def import_log_table(df: pd.DataFrame, lang: str = "en", *,
                     family_labels: Mapping[str, str] | None = None) -> html.Div:
    """The import log, newest first: when, family, file, rows, outcome, details."""
    family_labels = family_labels or {}
    if df is None or df.empty:
        return html.P(t("No imports yet.", lang), className="text-muted small mb-0",
                      id="data-log-empty")
    head = html.Thead(html.Tr([html.Th(t(h, lang), scope="col") for h in
                               ("Finished (UTC)", "Family", "File", "By", "Read", "New",
                                "Updated", "Refused", "Outcome", "Details")]))
    body = []
    for r in df.itertuples(index=False):
        outcome = str(r.outcome)
        fam = family_labels.get(r.family, r.family)
        details = html.Details([html.Summary(t("more", lang)),
                                html.Pre(f"SHA-256 {r.sha256}\n{r.message or ''}",
                                         className="small mb-0 data-log-message")])
        body.append(html.Tr([
            html.Td(_when(r.finished_at), className="text-nowrap"),
            html.Td(t(fam, lang)), html.Td(r.file_name, className="data-file-cell"),
            html.Td(getattr(r, "actor", None) or "–", className="data-log-actor"),
            html.Td(fmt_int(r.rows_read)), html.Td(fmt_int(r.rows_inserted)),
            html.Td(fmt_int(r.rows_updated)), html.Td(fmt_int(r.rows_refused)),
            html.Td(dbc.Badge(t(OUTCOME_LABEL.get(outcome, outcome), lang),
                              color=OUTCOME_COLOR.get(outcome, "secondary"))),
            html.Td(details),
        ], **{"data-outcome": outcome}))
    return html.Div(dbc.Table([head, html.Tbody(body)], size="sm", striped=True, hover=True,
                              className="mb-0 data-table"), className="table-responsive")


def loaded_table(df: pd.DataFrame, lang: str = "en") -> html.Div:
    """Rows per table, how many are demo rows, and the last import of the family."""
    if df is None or df.empty:
        return html.P(t("No data", lang), className="text-muted small mb-0")
    head = html.Thead(html.Tr([html.Th(t(h, lang), scope="col") for h in
                               ("Data", "Rows", "of which demo", "Your data",
                                "Last import (UTC)")]))
    body = [html.Tr([html.Td(t(r.table, lang)), html.Td(fmt_int(r.rows)),
                     html.Td(fmt_int(r.demo_rows)), html.Td(fmt_int(r.real_rows)),
                     html.Td(_when(r.last_import))], **{"data-table-name": r.table})
            for r in df.itertuples(index=False)]
    return html.Div(dbc.Table([head, html.Tbody(body)], size="sm", striped=True,
                              className="mb-0 data-table"), className="table-responsive",
                    id="data-loaded-table")


def downloads(families: Sequence[tuple[str, str]], lang: str = "en", *,
              template_href: str = "/data-files/template/{family}.{ext}",
              dictionary_href: str = "/data-files/dictionary.xlsx") -> html.Div:
    """Template links (CSV and XLSX) per family, and the data dictionary."""
    rows = [html.Li([html.Span(t(label, lang), className="me-2"),
                     html.A("CSV", href=template_href.format(family=key, ext="csv"),
                            className="me-2", id={"type": "data-template", "index": f"{key}-csv"}),
                     html.A("XLSX", href=template_href.format(family=key, ext="xlsx"),
                            id={"type": "data-template", "index": f"{key}-xlsx"})],
                    className="mb-1") for key, label in families]
    return html.Div([
        html.Ul(rows, className="list-unstyled small mb-2"),
        html.A([t("Data dictionary (XLSX): every column, its type and allowed values", lang)],
               href=dictionary_href, className="small", id="data-dictionary-link"),
        html.P(t("CORDIS files are loaded as CORDIS publishes them (project.csv and "
                 "organization.csv, or their .zip): no template needed.", lang),
               className="small text-muted mt-2 mb-0"),
    ])


def demo_control(demo_rows: int, real_rows: int, lang: str = "en") -> html.Div:
    """The 'demo data' switch: on while demo data is loaded; turning it off removes the demo
    rows (after a confirmation). Only offered once real data is loaded, else it says why."""
    on = demo_rows > 0
    if not on:
        why = t("No demo data is loaded: every figure shows your own data.", lang)
    elif real_rows == 0:
        why = t("Load at least one file of your own data first: removing the demo data now "
                "would leave every page empty.", lang)
    else:
        why = t("{demo} demo rows and {real} rows of your own data are loaded. Turn the switch "
                "off to remove the demo rows; your data stays.", lang,
                demo=fmt_int(demo_rows), real=fmt_int(real_rows))
    return html.Div([
        dbc.Switch(id="data-demo-switch", label=t("Show demo data", lang), value=on,
                   disabled=not (on and real_rows > 0), className="mb-1"),
        html.P(why, className="small text-muted mb-0", id="data-demo-why"),
    ])


JOB_TITLES = {"check": "Checking the file", "import": "Importing the file"}


def job_progress(job: Mapping[str, Any], lang: str = "en") -> html.Div:
    """A running, waiting or ended-without-report job: its phase, a progress bar, elapsed
    time; why it failed or that it was cancelled."""
    status, kind = job.get("status"), job.get("kind", "check")
    if status == "cancelled":
        return dbc.Alert(t("Cancelled: nothing was written.", lang), color="secondary",
                         className="py-2", id="data-job-state", **{"data-status": "cancelled"})
    if status == "failed":
        msg = str(job.get("message") or "")
        if msg.startswith("ref:"):
            text = t("The check could not be completed. Reference: {ref} (the error has been "
                     "logged).", lang, ref=msg[4:])
        else:
            text = t(msg or "The check could not be completed.", lang)
        return dbc.Alert(text + " " + t("Nothing was written.", lang), color="danger",
                         className="py-2", id="data-job-state", **{"data-status": "failed"})
    frac = job.get("fraction")
    if status == "queued":
        phase = t("Waiting for another check or import to finish ({n} ahead)…", lang,
                  n=job.get("queued_behind", 0))
    else:
        phase = t(job.get("phase") or JOB_TITLES.get(kind, ""), lang)
    pct = int(round(frac * 100)) if isinstance(frac, (int, float)) else None
    bar = dbc.Progress(value=pct if pct is not None else 100, striped=True,
                       animated=pct is None, label=f"{pct}%" if pct is not None else "",
                       className="mb-1")
    return html.Div([
        html.Div([html.Strong(t(JOB_TITLES.get(kind, ""), lang)), " · ", phase],
                 className="small mb-1"),
        bar,
        html.Div(t("{s} s so far. You can leave this page: the work goes on, and Cancel "
                   "stops it without writing anything.", lang,
                   s=int(job.get("seconds") or 0)), className="small text-muted"),
    ], id="data-job-state", className="mb-2", **{"data-status": str(status)})
