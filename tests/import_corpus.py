"""Builders of the files the import tests load: good files, a corpus of bad ones (each with
the message it must produce), and CORDIS-format files with CORDIS's quirks.

Everything is generated here, in memory or in pytest's tmp dirs: no binary fixtures.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from data_access.importers import Limits

HELPDESK_HEADER = ["external_id", "desk", "topic", "received_date", "answered_date", "sector",
                   "requester_type", "country"]
EPA_HEADER = ["year", "direction", "member_state", "hs_section", "eligible_eur",
              "preferential_eur"]
PROGRAMME_HEADER = ["external_id", "programme", "cycle_year", "country", "prefecture",
                    "field_of_study", "gender", "status", "host_sector"]

_DESK_TOPIC = [("epa", "rules_of_origin"), ("epa", "tariffs"), ("procurement", "tenders"),
               ("techtransfer", "licensing"), ("ncp", "funding")]
_SECTORS = ["agrifood", "ict", "health", "machinery", "energy"]
_REQ = ["sme", "large", "university", "research"]
_COUNTRIES = ["FR", "DE", "JP", "IT", "ES"]


def helpdesk_rows(n: int, *, start: int = 1, prefix: str = "HD") -> list[list[str]]:
    """`n` valid enquiry rows with ids prefix-000001… (deterministic)."""
    out = []
    base = dt.date(2024, 1, 1)
    for i in range(start, start + n):
        desk, topic = _DESK_TOPIC[i % len(_DESK_TOPIC)]
        rec = base + dt.timedelta(days=i % 600)
        ans = "" if i % 7 == 0 else (rec + dt.timedelta(days=1 + i % 9)).isoformat()
        out.append([f"{prefix}-{i:06d}", desk, topic, rec.isoformat(), ans,
                    _SECTORS[i % len(_SECTORS)], _REQ[i % len(_REQ)],
                    _COUNTRIES[i % len(_COUNTRIES)]])
    return out


def epa_rows() -> list[list[Any]]:
    """A small valid EPA table: 2019–2021, both directions, DE and FR, sections XVI and I."""
    rows = []
    for year in (2019, 2020, 2021):
        for direction in ("EU_JP", "JP_EU"):
            for ms in ("DE", "FR"):
                for sec, elig in (("XVI", 1000.0), ("I", 500.0)):
                    rate = {2019: 0.5, 2020: 0.6, 2021: 0.7}[year]
                    rows.append([year, direction, ms, sec, elig, round(elig * rate, 2)])
    return rows


def to_csv(header: list[str], rows: list[list[Any]], *, sep: str = ",",
           encoding: str = "utf-8", bom: bool = False, quote_all: bool = False) -> bytes:
    """Rows as CSV bytes in the given separator and encoding."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator="\r\n",
                   quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    data = buf.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def to_xlsx(header: list[str], rows: list[list[Any]]) -> bytes:
    """Rows as an XLSX workbook (a string starting with '=' becomes a formula cell)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "data"
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def zip_bomb_xlsx(inflated_mb: int = 60) -> bytes:
    """A file shaped like an XLSX whose sheet inflates ~1000:1 (small on disk, huge in RAM)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
        chunk = b" " * (1024 * 1024)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            for _ in range(inflated_mb):
                f.write(chunk)
    return buf.getvalue()


@dataclass
class Case:
    """A file the importer must refuse, and the problem it must report."""

    name: str
    family: str
    filename: str
    build: Callable[[], bytes]
    expect: str  # a fragment of the problem's message
    row: int | None = None  # expected spreadsheet row of the (first matching) problem
    column: str | None = None
    limits: Limits = field(default_factory=Limits)


def _hd(rows: list[list[Any]], **kw: Any) -> bytes:
    return to_csv(HELPDESK_HEADER, rows, **kw)


def _replace(rows: list[list[Any]], row: int, col: str, value: Any,
             header: list[str] = HELPDESK_HEADER) -> list[list[Any]]:
    out = [list(r) for r in rows]
    out[row - 2][header.index(col)] = value  # `row` counts as a spreadsheet does
    return out


GOOD = helpdesk_rows(5)

BAD_CASES: list[Case] = [
    Case("empty", "helpdesk", "empty.csv", lambda: b"", "The file is empty"),
    Case("header only", "helpdesk", "header.csv", lambda: _hd([]),
         "header row but no data rows"),
    Case("missing column", "helpdesk", "missing.csv",
         lambda: to_csv(HELPDESK_HEADER[:-1], [r[:-1] for r in GOOD]),
         "Missing column 'country'", row=1, column="country"),
    Case("extra column", "helpdesk", "extra.csv",
         lambda: to_csv(HELPDESK_HEADER + ["notes"], [r + ["x"] for r in GOOD]),
         "Unknown column 'notes'", row=1, column="notes"),
    Case("wrong date format", "helpdesk", "date.csv",
         lambda: _hd(_replace(GOOD, 3, "received_date", "14/03/2025")),
         "Not a date in the form YYYY-MM-DD", row=3, column="received_date"),
    Case("impossible date", "helpdesk", "date2.csv",
         lambda: _hd(_replace(GOOD, 2, "received_date", "2025-02-30")),
         "No such date", row=2, column="received_date"),
    Case("future date", "helpdesk", "future.csv",
         lambda: _hd(_replace(GOOD, 4, "received_date",
                              (dt.date.today() + dt.timedelta(days=30)).isoformat())),
         "In the future", row=4, column="received_date"),
    Case("answered before received", "helpdesk", "order.csv",
         lambda: _hd(_replace(GOOD, 2, "answered_date", "2023-01-01")),
         "Answered before it was received", row=2, column="answered_date"),
    Case("negative number", "epa", "negative.csv",
         lambda: to_csv(EPA_HEADER, _replace(epa_rows(), 5, "eligible_eur", -10,
                                             EPA_HEADER)),
         "Must not be negative", row=5, column="eligible_eur"),
    Case("preferential above eligible", "epa", "pur.csv",
         lambda: to_csv(EPA_HEADER, _replace(epa_rows(), 2, "preferential_eur", 5000,
                                             EPA_HEADER)),
         "exceed eligible imports", row=2, column="preferential_eur"),
    Case("EPA year before the EPA", "epa", "year.csv",
         lambda: to_csv(EPA_HEADER, _replace(epa_rows(), 2, "year", 2017, EPA_HEADER)),
         "Must be 2019 or later", row=2, column="year"),
    Case("unknown sector", "helpdesk", "sector.csv",
         lambda: _hd(_replace(GOOD, 2, "sector", "nanotech")),
         "Unknown value for sector", row=2, column="sector"),
    Case("unknown country", "helpdesk", "country.csv",
         lambda: _hd(_replace(GOOD, 6, "country", "ZZ")),
         "Unknown country code", row=6, column="country"),
    Case("topic of another desk", "helpdesk", "topic.csv",
         lambda: _hd(_replace(GOOD, 2, "topic", "tenders")),
         "is not a topic of the", row=2, column="topic"),
    Case("duplicate key", "helpdesk", "dup.csv", lambda: _hd(GOOD + [GOOD[1]]),
         "Duplicate: the same external_id as row 3", row=7, column="external_id"),
    Case("formula in CSV", "helpdesk", "formula.csv",
         lambda: _hd(_replace(GOOD, 3, "external_id", '=HYPERLINK("http://x.example","a")')),
         "Formulas are not accepted", row=3, column="external_id"),
    Case("formula cell in XLSX", "helpdesk", "formula.xlsx",
         lambda: to_xlsx(HELPDESK_HEADER,
                         _replace(GOOD, 4, "sector", '=HYPERLINK("http://x.example","ict")')),
         "Formulas are not accepted", row=4, column="sector"),
    Case("very long line", "helpdesk", "long.csv",
         lambda: _hd(_replace(GOOD, 3, "external_id", "A" * 200_000)),
         "cannot be read as CSV", row=3),
    Case("XLSX that is a ZIP bomb", "helpdesk", "bomb.xlsx", zip_bomb_xlsx,
         "possible ZIP bomb"),
    Case("CSV renamed .xlsx", "helpdesk", "renamed.xlsx", lambda: _hd(GOOD),
         "named .xlsx but its content is a text (CSV) file"),
    Case("XLSX renamed .csv", "helpdesk", "renamed.csv",
         lambda: to_xlsx(HELPDESK_HEADER, GOOD), "is an Excel workbook"),
    Case("old .xls", "helpdesk", "old.xls",
         lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "Old Excel 97"),
    Case("unknown extension", "helpdesk", "enquiries.pdf", lambda: b"%PDF-1.4 ...",
         "Unknown file type '.pdf'"),
    Case("not text", "helpdesk", "binary.csv", lambda: bytes(range(128, 256)) * 40,
         "neither UTF-8 nor Shift_JIS"),
    Case("file too big", "helpdesk", "big.csv", lambda: _hd(helpdesk_rows(200)),
         "the limit is", limits=Limits(max_bytes=2_000)),
    Case("too many rows", "helpdesk", "rows.csv", lambda: _hd(helpdesk_rows(10)),
         "more than 5 data rows", row=7, limits=Limits(max_rows=5)),
    Case("personal data in programme file", "programmes", "applicants.csv",
         lambda: to_csv(PROGRAMME_HEADER + ["email"],
                        [["VJ-1", "vulcanus_jp", 2025, "DE", "", "mechanical", "F",
                          "selected", "machinery", "a@b.example"]]),
         "would hold personal data", row=1, column="email"),
    Case("value under no header", "helpdesk", "ragged.csv",
         lambda: _hd([GOOD[0] + ["surplus"]] + GOOD[1:]), "which has no header", row=2),
    Case("ambiguous thousands separator", "epa", "thousands.csv",
         lambda: to_csv(EPA_HEADER, _replace(epa_rows(), 2, "eligible_eur", "1,000",
                                             EPA_HEADER)),
         "Ambiguous number", row=2, column="eligible_eur"),
]


# ---- files that look odd but are fine -------------------------------------------------------
JA_ROWS = [  # Japanese labels, as a Japanese Excel user would type them
    ["JA-1", "EPAヘルプデスク", "原産地規則・手続", "2025/04/01", "2025/04/03",
     "情報通信・デジタル", "中小企業", "日本"],
    ["JA-2", "技術移転ヘルプデスク", "ライセンス・パートナー探索", "2025/04/02", "",
     "医療・ライフサイエンス", "大学", "JP"],
]


@dataclass
class GoodCase:
    """An unusual but valid file: how it must be read and how many rows it holds."""

    name: str
    family: str
    filename: str
    build: Callable[[], bytes]
    encoding: str | None
    separator: str | None
    rows: int


GOOD_CASES: list[GoodCase] = [
    GoodCase("UTF-8 with BOM", "helpdesk", "bom.csv", lambda: _hd(GOOD, bom=True),
             "UTF-8 with BOM", ",", 5),
    GoodCase("Shift_JIS / CP932 with Japanese labels", "helpdesk", "sjis.csv",
             lambda: _hd(JA_ROWS, encoding="cp932"), "Shift_JIS (CP932)", ",", 2),
    GoodCase("semicolon separator, all quoted", "helpdesk", "semicolon.csv",
             lambda: _hd(GOOD, sep=";", quote_all=True), "UTF-8", ";", 5),
    GoodCase("tab separated UTF-16 (Excel 'Unicode text')", "helpdesk", "unicode.txt",
             lambda: b"\xff\xfe" + _hd(GOOD, sep="\t").decode().encode("utf-16-le"),
             "UTF-16", "tab", 5),
    GoodCase("XLSX", "helpdesk", "enquiries.xlsx", lambda: to_xlsx(HELPDESK_HEADER, GOOD),
             None, None, 5),
    GoodCase("EPA with decimal commas and ';'", "epa", "epa-semicolon.csv",
             lambda: to_csv(EPA_HEADER, [[*r[:4], str(r[4]).replace(".", ","),
                                         str(r[5]).replace(".", ",")] for r in epa_rows()],
                            sep=";"), "UTF-8", ";", 24),
]


# ---- CORDIS ---------------------------------------------------------------------------------
PROJECT_HEADER = ["id", "acronym", "status", "title", "startDate", "endDate", "totalCost",
                  "ecMaxContribution", "legalBasis", "topics", "ecSignatureDate",
                  "frameworkProgramme", "masterCall", "subCall", "fundingScheme", "nature",
                  "objective", "contentUpdateDate", "rcn", "grantDoi"]
ORG_HEADER = ["projectID", "projectAcronym", "organisationID", "vatNumber", "name",
              "shortName", "SME", "activityType", "street", "postCode", "city", "country",
              "nutsCode", "geolocation", "organizationURL", "contactForm",
              "contentUpdateDate", "rcn", "order", "role", "ecContribution",
              "netEcContribution", "totalCost", "endOfParticipation", "active"]


@dataclass
class CordisFixture:
    """CORDIS files written to disk plus the raw rows they were made from."""

    project_csv: Path
    organization_csv: Path
    projects: list[dict[str, str]]
    orgs: list[dict[str, str]]


def _money(rng: random.Random, comma: bool) -> str:
    v = round(rng.uniform(10_000, 2_000_000), 2)
    s = f"{v:.2f}"
    return s.replace(".", ",") if comma else s


def cordis_fixture(folder: Path, *, seed: int = 7, n_projects: int = 40,
                   reorder: bool = True) -> CordisFixture:
    """project.csv and organization.csv as CORDIS writes them: ';', every field quoted,
    some decimal commas, EL/UK country codes, 'true'/'false'/'' booleans, a multi-line
    objective, and (with `reorder`) organization columns in another order plus a column
    CORDIS might add one day."""
    rng = random.Random(seed)
    legal = [("H2020", "H2020-EU.3.1.1."), ("H2020", "H2020-EU.2.1.1."),
             ("H2020", "H2020-EU.1.3.2."), ("HORIZON", "HORIZON.2.4"),
             ("HORIZON", "HORIZON.2.5.1"), ("HORIZON", "HORIZON.1.2"),
             ("H2020", "H2020-EU.3.4.")]
    projects, orgs = [], []
    jp_orgs = [("999000001", "UNIVERSITY OF TOKYO", "HES", "false"),
               ("999000002", "RIKEN", "REC", "false"),
               ("999000003", "SAKURA PHOTONICS KK", "PRC", "true"),
               ("999000004", "HIKARI MOTORS CORP", "PRC", "false"),
               ("999000005", "JAPAN SCIENCE AND TECHNOLOGY AGENCY", "PUB", ""),
               ("999000006", "=HYPERLINK(\"x\") ASSOCIATION", "OTH", ""),
               ("999000007", "KANSAI STARTUP GK", "PRC", "")]
    eu_countries = ["DE", "FR", "EL", "UK", "IT", "ES", "NL"]
    roles = ["participant", "participant", "coordinator", "associatedPartner", "thirdParty",
             "partner"]
    for j in range(n_projects):
        pid = str(800000 + j * 13 if j % 2 else 101000000 + j * 17)
        fw, lb = legal[j % len(legal)]
        start = dt.date(2016 + j % 9, 1 + j % 12, 1)
        projects.append({
            "id": pid, "acronym": f"PRJ{j:03d}", "status": "SIGNED" if j % 3 else "CLOSED",
            "title": f"Project number {j}; about \"things\"",
            "startDate": start.isoformat(),
            "endDate": (start + dt.timedelta(days=3 * 365)).isoformat(),
            "totalCost": _money(rng, j % 3 == 0), "ecMaxContribution": _money(rng, j % 4 == 0),
            "legalBasis": lb, "topics": "TOPIC-1", "ecSignatureDate": start.isoformat(),
            "frameworkProgramme": fw, "masterCall": "CALL", "subCall": "CALL-1",
            "fundingScheme": "RIA", "nature": "",
            "objective": f"Line one of {j};\nline two with ; and \"quotes\"",
            "contentUpdateDate": f"2024-0{1 + j % 9}-15 10:2{j % 10}:00", "rcn": str(5000 + j),
            "grantDoi": f"10.3030/{pid}"})
        # every project has EU participants; about half have Japanese ones
        n_eu = 2 + j % 3
        for k in range(n_eu):
            c = eu_countries[(j + k) % len(eu_countries)]
            orgs.append(_org(pid, f"PRJ{j:03d}", f"9{j:03d}{k:02d}000", f"EU ORG {j}-{k}",
                             c, "PRC" if k % 2 else "HES", "true" if k % 3 == 0 else "false",
                             "coordinator" if k == 0 else "participant", _money(rng, k % 2),
                             k))
        if j % 2 == 0 or j % 5 == 0:
            for k in range(1 + j % 3):
                oid, name, act, sme = jp_orgs[(j + k) % len(jp_orgs)]
                role = roles[(j + k) % len(roles)]
                contribution = "" if (j + k) % 4 == 0 else _money(rng, (j + k) % 2 == 0)
                orgs.append(_org(pid, f"PRJ{j:03d}", oid, name, "JP", act, sme, role,
                                 contribution, n_eu + k))
    folder.mkdir(parents=True, exist_ok=True)
    pcsv = folder / "project.csv"
    ocsv = folder / "organization.csv"
    pcsv.write_bytes(to_csv(PROJECT_HEADER, [[p[h] for h in PROJECT_HEADER] for p in projects],
                            sep=";", quote_all=True))
    oheader = list(ORG_HEADER)
    if reorder:
        oheader = ["country", "role", "name"] + [h for h in ORG_HEADER if h not in
                                                 ("country", "role", "name")] + ["newColumn"]
        for o in orgs:
            o["newColumn"] = "extra"
    ocsv.write_bytes(to_csv(oheader, [[o.get(h, "") for h in oheader] for o in orgs],
                            sep=";", quote_all=True))
    return CordisFixture(pcsv, ocsv, projects, orgs)


def _org(pid: str, acr: str, oid: str, name: str, country: str, act: str, sme: str,
         role: str, contribution: str, order: int) -> dict[str, str]:
    return {"projectID": pid, "projectAcronym": acr, "organisationID": oid, "vatNumber": "",
            "name": name, "shortName": "", "SME": sme, "activityType": act,
            "street": "1-1 STREET", "postCode": "100-0001", "city": "TOKYO" if country == "JP"
            else "CITY", "country": country, "nutsCode": "", "geolocation": "35.7,139.7",
            "organizationURL": "", "contactForm": "", "contentUpdateDate": "2024-05-01 09:00:00",
            "rcn": "1", "order": str(order), "role": role, "ecContribution": contribution,
            "netEcContribution": contribution, "totalCost": contribution,
            "endOfParticipation": "false", "active": ""}
