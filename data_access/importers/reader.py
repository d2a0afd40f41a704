"""Reading uploaded files safely: limits, format by magic bytes, encodings, separators, XLSX.

Everything a file could do wrong before its rows are looked at is caught here and
recorded as a problem on the report (never an exception): too big, empty, unknown
extension, content that does not match the extension, a ZIP bomb, an encoding we cannot
read, a line too long for a table.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from data_access.importers.report import FileInfo, ImportReport

TEXT_EXT = (".csv", ".txt", ".tsv")
XLSX_EXT = (".xlsx",)
ZIP_EXT = (".zip",)
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls and other OLE2 documents
MAX_CELL = 32_767  # the most characters an Excel cell holds
PREVIEW_ROWS = 10


@dataclass(frozen=True)
class Limits:
    """Size limits of an import (from Settings; tests pass smaller ones)."""

    max_bytes: int = 50 * 1024 * 1024
    max_rows: int = 2_000_000
    max_uncompressed: int = 500 * 1024 * 1024  # zip members, all together
    max_ratio: float = 100.0  # uncompressed / compressed, per member above `ratio_floor`
    ratio_floor: int = 5 * 1024 * 1024
    max_members: int = 10_000

    @classmethod
    def from_settings(cls, settings: Any = None) -> Limits:
        """Limits from Settings.MAX_UPLOAD_MB and MAX_IMPORT_ROWS."""
        if settings is None:
            from data_access.settings import Settings

            settings = Settings.from_env()
        max_bytes = int(settings.MAX_UPLOAD_MB) * 1024 * 1024
        return cls(max_bytes=max_bytes, max_rows=int(settings.MAX_IMPORT_ROWS),
                   max_uncompressed=max(10 * max_bytes, 100 * 1024 * 1024))


@dataclass
class InputFile:
    """A file to import: its name and bytes (None when it was too big to read)."""

    name: str
    data: bytes | None
    size: int

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> InputFile:
        """Wrap bytes received from an upload."""
        return cls(Path(name).name or "upload", data, len(data))

    @classmethod
    def from_path(cls, path: str | Path, max_bytes: int | None = None) -> InputFile:
        """Read a file from disk, without reading it when it is over `max_bytes`."""
        p = Path(path)
        size = p.stat().st_size
        if max_bytes is not None and size > max_bytes:
            return cls(p.name, None, size)
        return cls(p.name, p.read_bytes(), size)

    @property
    def ext(self) -> str:
        """Lower-case extension with the dot."""
        return Path(self.name).suffix.lower()

    def info(self) -> FileInfo:
        """A FileInfo with name, size and SHA-256."""
        digest = hashlib.sha256(self.data).hexdigest() if self.data is not None else "-"
        return FileInfo(name=self.name, size=self.size, sha256=digest)


@dataclass
class Table:
    """A file's header and its rows, read lazily: (spreadsheet row number, cell values)."""

    info: FileInfo
    header: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    comma_decimal: bool = True  # ',' may be a decimal mark (the separator is not ',')
    preview: list[list[str]] = field(default_factory=list)


def mb(n: int) -> str:
    """Bytes as megabytes with one decimal (more decimals for tiny test limits)."""
    v = n / 1024 / 1024
    return f"{v:,.1f}" if v >= 1 else f"{v:.3f}"


# ---- container checks -----------------------------------------------------------------------
def check_zip(data: bytes, name: str, limits: Limits, report: ImportReport,
              members: list[str] | None = None) -> zipfile.ZipFile | None:
    """Open a ZIP container (XLSX or .zip) only after its declared sizes pass the limits.

    Python's zipfile never inflates a member beyond its declared size, so checking the
    declared sizes and ratios BEFORE extraction is what stops a ZIP bomb.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        report.add(name, None, None, None, "The file is damaged: it is not a valid ZIP/XLSX "
                   "container ({error})", error=str(exc))
        return None
    if members is not None:
        infos = [i for i in infos if i.filename in members]
    if len(infos) > limits.max_members:
        report.add(name, None, None, None, "The archive holds {n:,} files; at most {limit:,} "
                   "are accepted", n=len(infos), limit=limits.max_members)
        return None
    total = sum(i.file_size for i in infos)
    if total > limits.max_uncompressed:
        report.add(name, None, None, None, "The archive would expand to {size} MB, more than the "
                   "{limit} MB allowed: refused as a possible ZIP bomb",
                   size=mb(total), limit=mb(limits.max_uncompressed))
        return None
    for i in infos:
        if i.file_size > limits.ratio_floor and \
                i.file_size > limits.max_ratio * max(i.compress_size, 1):
            report.add(name, None, None, i.filename, "A part of the archive is compressed "
                       "{ratio:,.0f} to 1 (more than {limit:,.0f} to 1): refused as a possible "
                       "ZIP bomb", ratio=i.file_size / max(i.compress_size, 1),
                       limit=limits.max_ratio)
            return None
    return zf


def sniff_kind(f: InputFile, report: ImportReport, *, allow_zip: bool = False) -> str | None:
    """'csv', 'xlsx' or 'zip' from extension AND content; None (with a problem) if refused."""
    data = f.data or b""
    ext = f.ext
    if f.data is None:
        return None
    if f.size == 0 or not data.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        report.add(f.name, None, None, None, "The file is empty")
        return None
    is_zip = data[:4] in ZIP_MAGIC
    accepted = TEXT_EXT + XLSX_EXT + (ZIP_EXT if allow_zip else ())
    if data[:8] == OLE_MAGIC or ext == ".xls":
        report.add(f.name, None, None, None, "Old Excel 97–2003 (.xls) files are not accepted: "
                   "open it in Excel and save it as .xlsx or CSV")
        return None
    if ext not in accepted:
        report.add(f.name, None, None, None, "Unknown file type {ext!r}: upload a .csv or .xlsx "
                   "file{zip}", ext=ext or "(none)",
                   zip=" (or a .zip of CORDIS files)" if allow_zip else "")
        return None
    if ext in XLSX_EXT and not is_zip:
        looks = "a text (CSV) file" if _looks_like_text(data) else "not a spreadsheet"
        report.add(f.name, None, None, None, "The file is named .xlsx but its content is {looks}; "
                   "rename it to .csv if it is a CSV file, or save it again from Excel as .xlsx",
                   looks=looks)
        return None
    if ext in TEXT_EXT and is_zip:
        report.add(f.name, None, None, None, "The file is named {ext} but it is an Excel workbook "
                   "or ZIP archive: rename it to .xlsx, or save it from Excel as CSV", ext=ext)
        return None
    if ext in ZIP_EXT and not is_zip:
        report.add(f.name, None, None, None, "The file is named .zip but is not a ZIP archive")
        return None
    return "xlsx" if ext in XLSX_EXT else ("zip" if ext in ZIP_EXT else "csv")


def _looks_like_text(data: bytes) -> bool:
    head = data[:4096]
    return b"\x00" not in head and (b"," in head or b";" in head or b"\t" in head or
                                    b"\n" in head)


def check_size(f: InputFile, limits: Limits, report: ImportReport) -> bool:
    """Refuse a file over the upload limit (before reading or decoding it)."""
    if f.size > limits.max_bytes:
        report.add(f.name, None, None, None, "The file is {size} MB; the limit is {limit} MB "
                   "(setting MAX_UPLOAD_MB)", size=mb(f.size), limit=mb(limits.max_bytes))
        return False
    return True


# ---- CSV ------------------------------------------------------------------------------------
def decode(data: bytes) -> tuple[str, str] | None:
    """Decode strictly as UTF-8 (with or without BOM), else as Shift_JIS/CP932 (Japanese
    Excel's 'CSV'); returns (text, encoding name) or None. UTF-16 with a BOM (Excel's
    'Unicode text') is read too."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            return None
    try:
        text = data.decode("utf-8-sig")
        return text, "UTF-8 with BOM" if data.startswith(b"\xef\xbb\xbf") else "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932"), "Shift_JIS (CP932)"
    except UnicodeDecodeError:
        return None


def sniff_separator(text: str) -> str:
    """The separator of the header line: the one of ',', ';' and tab that splits it most."""
    first = text.split("\n", 1)[0]
    best, best_n = ",", 1
    for sep in (",", ";", "\t"):
        try:
            n = len(next(csv.reader([first], delimiter=sep)))
        except (csv.Error, StopIteration):
            continue
        if n > best_n:
            best, best_n = sep, n
    return best


def read_csv(f: InputFile, report: ImportReport, *, separator: str | None = None) -> Table | None:
    """Decode, sniff the separator and return the table (rows read lazily)."""
    info = f.info()
    info.kind = "csv"
    decoded = decode(f.data or b"")
    if decoded is None:
        report.add(f.name, None, None, None, "The file is neither UTF-8 nor Shift_JIS text: save "
                   "it from Excel as 'CSV UTF-8'")
        return None
    text, info.encoding = decoded
    if "\x00" in text:
        report.add(f.name, None, None, None, "The file contains NUL bytes: it is not a text (CSV) "
                   "file")
        return None
    sep = separator or sniff_separator(text)
    info.separator = "tab" if sep == "\t" else sep
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    try:
        header = next(reader)
    except csv.Error as exc:
        report.add(f.name, 1, None, None, "Row 1 cannot be read as CSV ({error})", error=str(exc))
        return None
    except StopIteration:
        report.add(f.name, None, None, None, "The file is empty")
        return None
    report.files.append(info)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        n = 1
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                report.add(f.name, n + 1, None, None, "This line cannot be read as CSV: {error}. "
                           "The file may be damaged or hold a value longer than any "
                           "spreadsheet cell", error=str(exc))
                report.rows_read += 1
                report.rows_refused += 1
                return
            n += 1
            yield n, values

    return Table(info, [h.strip() for h in header], rows(), comma_decimal=sep != ",")


# ---- XLSX -----------------------------------------------------------------------------------
def read_xlsx(f: InputFile, limits: Limits, report: ImportReport) -> Table | None:
    """Open the first sheet read-only, after the ZIP-bomb checks; formulas stay as text
    ('=HYPERLINK(...)') so the validator can refuse them."""
    info = f.info()
    info.kind = "xlsx"
    zf = check_zip(f.data or b"", f.name, limits, report)
    if zf is None:
        return None
    if "xl/workbook.xml" not in zf.namelist():
        report.add(f.name, None, None, None, "The file is a ZIP archive but not an Excel workbook")
        return None
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(f.data or b""), read_only=True, data_only=False)
        ws = wb.worksheets[0]
        info.sheet = ws.title
        it = ws.iter_rows(values_only=True)
        first = next(it, None)
    except Exception as exc:  # noqa: BLE001 - any parser error means "cannot read it"
        report.add(f.name, None, None, None, "The workbook cannot be read ({error})",
                   error=f"{type(exc).__name__}: {exc}")
        return None
    if first is None or all(v is None for v in first):
        report.add(f.name, None, None, None, "The file is empty" if first is None else
                   "Row 1 of sheet {sheet!r} is empty: it must hold the column names",
                   sheet=ws.title)
        return None
    header = [("" if v is None else str(v)).strip() for v in first]
    while header and not header[-1]:
        header.pop()
    report.files.append(info)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        n = 1
        try:
            for values in it:
                n += 1
                yield n, [_xlsx_value(v) for v in values]
        except Exception as exc:  # noqa: BLE001
            report.add(f.name, n + 1, None, None, "The workbook cannot be read past this row "
                       "({error})", error=f"{type(exc).__name__}: {exc}")
        finally:
            wb.close()

    return Table(info, header, rows(), comma_decimal=True)


def _xlsx_value(v: Any) -> Any:
    if isinstance(v, dt.time):
        return v.isoformat()
    return v
