"""Research participation from the public CORDIS files, as CORDIS publishes them.

`project.csv` and `organization.csv` (';'-separated, every field quoted, decimal commas in
some numbers, booleans 'true'/'false'/'', EL and UK for Greece and the United Kingdom,
columns added or reordered between releases). Only organisations in Japan are kept, with
their projects. Rows about other countries are skipped, not validated.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath
from typing import Any

from data_access import vocab
from data_access.importers.parse import (
    Bad,
    as_text,
    is_blank,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_int,
    parse_number,
)
from data_access.importers.reader import (
    PREVIEW_ROWS,
    InputFile,
    Limits,
    Table,
    check_size,
    check_zip,
    read_csv,
    read_xlsx,
    sniff_kind,
)
from data_access.importers.report import ImportReport
from data_access.importers.validate import Batch

# (file, column, required, what it becomes) — the data dictionary lists these.
PROJECT_FIELDS: tuple[tuple[str, bool, str], ...] = (
    ("id", True, "project id (natural key of research_project)"),
    ("acronym", True, "acronym"),
    ("title", True, "title"),
    ("startDate", False, "start date (YYYY-MM-DD); sets the year of the participation"),
    ("endDate", False, "end date (YYYY-MM-DD)"),
    ("totalCost", False, "total cost, EUR (decimal comma accepted)"),
    ("ecMaxContribution", False, "maximum EU contribution, EUR (decimal comma accepted)"),
    ("legalBasis", True, "programme part (e.g. HORIZON.2.4, H2020-EU.3.1.), mapped to a "
     "programme part and a sector"),
    ("frameworkProgramme", True, "H2020 or HORIZON"),
    ("contentUpdateDate", False, "last update, YYYY-MM-DD HH:MM:SS"),
)
ORG_FIELDS: tuple[tuple[str, bool, str], ...] = (
    ("projectID", True, "project id (must be in project.csv)"),
    ("organisationID", True, "organisation id (PIC)"),
    ("name", True, "organisation name"),
    ("SME", False, "'true'/'false'/'' — a PRC that is an SME becomes 'sme', else 'large'"),
    ("activityType", False, "HES university, REC research organisation, PRC company, "
     "PUB public body, OTH other"),
    ("city", False, "city"),
    ("country", True, "country; only JP rows are imported (EL→GR, UK→GB)"),
    ("role", True, "coordinator, participant, associatedPartner/partner, thirdParty"),
    ("ecContribution", False, "EU contribution to the organisation, EUR (decimal comma "
     "accepted)"),
)
PROJECT_NAMES = ("project.csv", "project.xlsx")
ORG_NAMES = ("organization.csv", "organisation.csv", "organization.xlsx", "organisation.xlsx")
FRAMEWORKS = {"H2020": "H2020", "HORIZON": "HORIZON", "HORIZON EUROPE": "HORIZON", "HE": "HORIZON"}
PROJECT_COLS = ("id", "acronym", "title", "framework", "legal_basis", "programme_part",
                "start_date", "end_date", "total_cost", "ec_max_contribution", "sector_code",
                "content_update")
PART_COLS = ("project_id", "organisation_id", "organisation_name", "country_code",
             "activity_type", "org_type", "role", "sme", "ec_contribution", "city")


def _role_of(name: str) -> str | None:
    base = PurePosixPath(name).name.lower()
    if base in PROJECT_NAMES:
        return "project"
    if base in ORG_NAMES:
        return "organization"
    return None


def _role_by_header(t: Table) -> str | None:
    h = {x.lower() for x in t.header}
    if {"projectid", "organisationid"} <= h:
        return "organization"
    if {"id", "acronym", "frameworkprogramme"} <= h:
        return "project"
    return None


def open_tables(files: list[InputFile], limits: Limits,
                report: ImportReport) -> tuple[Table | None, Table | None]:
    """Find project.csv and organization.csv among the uploads (two files, or a .zip as
    CORDIS publishes it); returns (project table, organization table)."""
    found: dict[str, Table] = {}
    for f in files:
        if not check_size(f, limits, report):
            continue
        kind = sniff_kind(f, report, allow_zip=True)
        if kind is None:
            continue
        if kind == "zip":
            try:
                names = zipfile.ZipFile(io.BytesIO(f.data or b"")).namelist()
            except (zipfile.BadZipFile, OSError):
                names = []
            wanted = [n for n in names if _role_of(n)]
            # only the two members we read are inflated, so only they are size-checked
            zf = check_zip(f.data or b"", f.name, limits, report, members=wanted)
            if zf is None:
                continue
            if not wanted:
                report.add(f.name, None, None, None, "The archive holds neither project.csv nor "
                           "organization.csv")
                continue
            for member in wanted:
                inner = InputFile(f"{f.name}/{PurePosixPath(member).name}", zf.read(member),
                                  zf.getinfo(member).file_size)
                _add_table(inner, _role_of(member), limits, report, found)
            continue
        _add_table(f, _role_of(f.name), limits, report, found)
    if not report.problems:
        for role, name in (("project", "project.csv"), ("organization", "organization.csv")):
            if role not in found:
                report.add(name, None, None, None, "CORDIS imports need both project.csv and "
                           "organization.csv: {name} is missing", name=name)
    return found.get("project"), found.get("organization")


def _add_table(f: InputFile, role: str | None, limits: Limits, report: ImportReport,
               found: dict[str, Table]) -> None:
    kind = "xlsx" if f.ext == ".xlsx" else "csv"
    n_files = len(report.files)
    t = read_xlsx(f, limits, report) if kind == "xlsx" else read_csv(f, report)
    if t is None:
        return
    role = role or _role_by_header(t)
    if role is None:
        del report.files[n_files:]
        report.add(f.name, 1, None, None, "Neither a CORDIS project.csv nor organization.csv "
                   "(their columns id/acronym/frameworkProgramme or projectID/organisationID "
                   "are missing)")
        return
    if role in found:
        report.add(f.name, None, None, None, "Two {role} files were given: upload one of each",
                   role=role)
        return
    t.info.role = role
    found[role] = t


def _columns(t: Table, fields: tuple[tuple[str, bool, str], ...],
             report: ImportReport) -> dict[str, int] | None:
    """Column positions by CORDIS name (case-insensitive); extra columns are tolerated."""
    pos = {h.replace("\ufeff", "").strip().lower(): i for i, h in enumerate(t.header)}
    out: dict[str, int] = {}
    missing = []
    for name, required, _ in fields:
        i = pos.get(name.lower())
        if i is None:
            if required:
                missing.append(name)
            continue
        out[name] = i
    for name in missing:
        report.add(t.info.name, 1, name, None, "Missing CORDIS column {column!r}", column=name)
    return None if missing else out


_FORMULA_START = ("=", "+", "@")


class _Ctx:
    def __init__(self, report: ImportReport) -> None:
        self.report = report
        self.neutralised = 0
        self.truncated = 0

    def text(self, v: Any, max_len: int | None = None) -> str:
        s = as_text(v)
        if s.startswith(_FORMULA_START):
            # CORDIS titles are free text: keep them, but never as something a
            # spreadsheet would run when the data is exported again.
            s = "'" + s
            self.neutralised += 1
        if max_len is not None and len(s) > max_len:
            s = s[: max_len - 1] + "…"
            self.truncated += 1
        return s


def validate_cordis(project: Table, org: Table, report: ImportReport,
                    limits: Limits) -> list[Batch]:
    """Check the Japanese rows of organization.csv and their projects; return two batches
    (projects first: participations refer to them)."""
    ctx = _Ctx(report)
    pcols = _columns(project, PROJECT_FIELDS, report)
    ocols = _columns(org, ORG_FIELDS, report)
    if pcols is None or ocols is None:
        return []
    parts = Batch("research_participation", ("project_id", "organisation_id", "role"),
                  PART_COLS)
    projects = Batch("research_project", ("id",), PROJECT_COLS)
    wanted: dict[int, int] = {}  # project id -> first organization row naming it
    seen_parts: dict[tuple, int] = {}
    org_preview = report.preview.setdefault(
        org.info.name + " (JP)", {"columns": [f[0] for f in ORG_FIELDS], "rows": []})
    n_read = 0
    for rownum, values in org.rows:
        if all(is_blank(v) for v in values):
            continue
        n_read += 1
        report.rows_read += 1
        if report.rows_read > limits.max_rows:
            report.add(org.info.name, rownum, None, None, "The file has more than {limit:,} "
                       "data rows (setting MAX_IMPORT_ROWS)", limit=limits.max_rows)
            return []

        def cell(name: str, values: list[Any] = values) -> Any:
            i = ocols.get(name)
            return values[i] if i is not None and i < len(values) else None

        country = as_text(cell("country")).upper()
        country = vocab.CORDIS_COUNTRY.get(country, country)
        if country != "JP":
            report.rows_skipped += 1
            continue
        if len(org_preview["rows"]) < PREVIEW_ROWS:
            org_preview["rows"].append([as_text(cell(f[0])) if not is_blank(cell(f[0])) else ""
                                        for f in ORG_FIELDS])
        before = len(report.problems)

        def bad(column: str, value: Any, template: str, /, *, rownum: int = rownum,
                **params: Any) -> None:
            report.add(org.info.name, rownum, column, value, template, **params)

        pid = oid = name = role = None
        try:
            pid = parse_int(cell("projectID"))
        except Bad as b:
            bad("projectID", cell("projectID"), b.template, **b.params)
        oid = as_text(cell("organisationID"))
        if not oid:
            bad("organisationID", None, "A value is required")
        elif len(oid) > 32:
            bad("organisationID", oid, "Too long: {length} characters, at most {max_len} "
                "allowed", length=len(oid), max_len=32)
        if is_blank(cell("name")):
            bad("name", None, "A value is required")
        else:
            name = ctx.text(cell("name"), 300)
        sme = None
        try:
            sme = parse_bool(cell("SME"))
        except Bad as b:
            bad("SME", cell("SME"), b.template, **b.params)
        activity = as_text(cell("activityType")).upper() or None
        if activity is not None and activity not in vocab.ACTIVITY_TYPE_ORG:
            bad("activityType", activity, "Unknown activity type: use HES, REC, PRC, PUB or OTH")
        raw_role = as_text(cell("role"))
        role = vocab.ROLE_ALIASES.get(raw_role.lower())
        if role is None:
            bad("role", raw_role or None, "Unknown role: use coordinator, participant, "
                "associatedPartner or thirdParty" if raw_role else "A value is required")
        contribution = None
        if not is_blank(cell("ecContribution")):
            try:
                contribution = parse_number(cell("ecContribution"), comma_decimal=True)
                if contribution < 0:
                    raise Bad("Must not be negative")
            except Bad as b:
                bad("ecContribution", cell("ecContribution"), b.template, **b.params)
        city = ctx.text(cell("city"), 120) or None if not is_blank(cell("city")) else None
        if len(report.problems) == before:
            key = (pid, oid, role)
            if key in seen_parts:
                bad("organisationID", oid, "Duplicate: the same projectID, organisationID and "
                    "role as row {first}", first=seen_parts[key])
            else:
                seen_parts[key] = rownum
        if len(report.problems) != before:
            report.rows_refused += 1
            continue
        org_type = vocab.ACTIVITY_TYPE_ORG.get(activity or "OTH", "other")
        if activity == "PRC":
            org_type = "sme" if sme else "large"
        wanted.setdefault(pid, rownum)
        parts.rows.append((pid, oid, name, "JP", activity, org_type, role, sme, contribution,
                           city))
    org.info.rows = n_read

    proj_preview = report.preview.setdefault(
        project.info.name + " (JP projects)",
        {"columns": [f[0] for f in PROJECT_FIELDS], "rows": []})
    found: dict[int, int] = {}
    n_read = 0
    for rownum, values in project.rows:
        if all(is_blank(v) for v in values):
            continue
        n_read += 1
        report.rows_read += 1
        if report.rows_read > limits.max_rows:
            report.add(project.info.name, rownum, None, None, "The file has more than {limit:,} "
                       "data rows (setting MAX_IMPORT_ROWS)", limit=limits.max_rows)
            return []

        def pcell(name: str, values: list[Any] = values) -> Any:
            i = pcols.get(name)
            return values[i] if i is not None and i < len(values) else None

        def pbad(column: str, value: Any, template: str, /, *, rownum: int = rownum,
                 **params: Any) -> None:
            report.add(project.info.name, rownum, column, value, template, **params)

        try:
            pid = parse_int(pcell("id"))
        except Bad:
            pid = None
        if pid not in wanted:
            report.rows_skipped += 1
            continue
        if len(proj_preview["rows"]) < PREVIEW_ROWS:
            proj_preview["rows"].append([as_text(pcell(f[0])) if not is_blank(pcell(f[0]))
                                         else "" for f in PROJECT_FIELDS])
        before = len(report.problems)
        if pid in found:
            pbad("id", pid, "Duplicate: the same id as row {first}", first=found[pid])
            report.rows_refused += 1
            continue
        found[pid] = rownum
        acronym = ctx.text(pcell("acronym"), 64)
        if not acronym:
            pbad("acronym", None, "A value is required")
        title = ctx.text(pcell("title"))
        if not title:
            pbad("title", None, "A value is required")
        legal = as_text(pcell("legalBasis"))
        if not legal:
            pbad("legalBasis", None, "A value is required")
        elif len(legal) > 64:
            pbad("legalBasis", legal, "Too long: {length} characters, at most {max_len} allowed",
                 length=len(legal), max_len=64)
        fw_raw = as_text(pcell("frameworkProgramme"))
        framework = FRAMEWORKS.get(fw_raw.upper())
        if framework is None:
            pbad("frameworkProgramme", fw_raw or None, "Only Horizon 2020 (H2020) and Horizon "
                 "Europe (HORIZON) projects are handled")
        dates: dict[str, Any] = {}
        for col in ("startDate", "endDate"):
            v = pcell(col)
            dates[col] = None
            if not is_blank(v):
                try:
                    dates[col] = parse_date(v)
                except Bad as b:
                    pbad(col, v, b.template, **b.params)
        if dates["startDate"] and dates["endDate"] and dates["endDate"] < dates["startDate"]:
            pbad("endDate", dates["endDate"].isoformat(), "Ends before it starts ({start})",
                 start=dates["startDate"].isoformat())
        money: dict[str, float | None] = {}
        for col in ("totalCost", "ecMaxContribution"):
            v = pcell(col)
            money[col] = None
            if not is_blank(v):
                try:
                    money[col] = parse_number(v, comma_decimal=True)
                    if money[col] < 0:
                        raise Bad("Must not be negative")
                except Bad as b:
                    pbad(col, v, b.template, **b.params)
        updated = None
        if not is_blank(pcell("contentUpdateDate")):
            try:
                updated = parse_datetime(pcell("contentUpdateDate"))
            except Bad as b:
                pbad("contentUpdateDate", pcell("contentUpdateDate"), b.template, **b.params)
        if len(report.problems) != before:
            report.rows_refused += 1
            continue
        part = vocab.programme_part_for(legal)
        projects.rows.append((pid, acronym, title, framework, legal, part,
                              dates["startDate"], dates["endDate"], money["totalCost"],
                              money["ecMaxContribution"], vocab.PROGRAMME_PART_SECTOR[part],
                              updated))
    project.info.rows = n_read
    for pid, rownum in wanted.items():
        if pid not in found:
            report.add(org.info.name, rownum, "projectID", pid, "Project {id} is not in "
                       "project.csv (or its row there was refused)", id=pid)
            report.rows_refused += 1
    if ctx.neutralised:
        report.note("{n:,} text values starting with '=', '+' or '@' were stored with a leading "
                    "apostrophe so that no spreadsheet runs them as formulas", n=ctx.neutralised)
    if ctx.truncated:
        report.note("{n:,} over-long names or acronyms were shortened to fit", n=ctx.truncated)
    if report.rows_skipped:
        report.note("{n:,} rows about organisations outside Japan (and their projects) were "
                    "skipped", n=report.rows_skipped)
    return [projects, parts]
