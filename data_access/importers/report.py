"""What an import found and did: problems, per-file facts, counts; shared by the UI and the CLI.

Problem messages are English templates with named parameters ("Unknown sector {value!r}")
so the Data page can translate them (the template is the translation key) and the command
line prints the same words.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field
from typing import Any


def _fmt(template: str, params: dict[str, Any]) -> str:
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


@dataclass
class Problem:
    """One reason to refuse: where (file, spreadsheet row, column), the value and why."""

    file: str
    row: int | None  # as a spreadsheet shows it: the header is row 1
    column: str | None
    value: str | None
    template: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        """The reason in English, parameters filled in."""
        return _fmt(self.template, self.params)

    def where(self) -> str:
        """'file.csv, row 5, column sector' (only the parts that are known)."""
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        return ", ".join(parts)

    def text(self) -> str:
        """One line for a terminal or a log."""
        value = "" if self.value is None else f", value {short(self.value)!r}"
        return f"{self.where()}{value}: {self.message}"


def short(value: object, limit: int = 80) -> str:
    """A value cut to `limit` characters for display (very long lines are a refusal reason)."""
    s = "" if value is None else str(value)
    return s if len(s) <= limit else s[: limit - 1] + "…"


@dataclass
class FileInfo:
    """How one file was read."""

    name: str
    size: int
    sha256: str
    kind: str = ""  # csv / xlsx / zip
    encoding: str = ""  # for CSV: UTF-8, UTF-8 with BOM, Shift_JIS (CP932)
    separator: str = ""  # for CSV: ',', ';' or 'tab'
    sheet: str = ""  # for XLSX: the sheet that was read
    rows: int = 0  # data rows (header not counted)
    role: str = ""  # CORDIS: project / organization


@dataclass
class TableCounts:
    """What the write did (or would do) to one table."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportReport:
    """The full outcome of checking (and possibly committing) one import."""

    family: str
    files: list[FileInfo] = field(default_factory=list)  # how each table was read
    uploads: list[FileInfo] = field(default_factory=list)  # the files as given (e.g. a .zip)
    problems: list[Problem] = field(default_factory=list)
    notes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    rows_read: int = 0
    rows_refused: int = 0
    rows_skipped: int = 0  # CORDIS: rows that are not about Japan
    tables: dict[str, TableCounts] = field(default_factory=dict)
    preview: dict[str, dict[str, list]] = field(default_factory=dict)
    outcome: str = "checked"  # checked / refused / committed / failed
    error: str = ""
    log_id: int | None = None

    # ---- derived figures --------------------------------------------------------------------
    @property
    def ok(self) -> bool:
        """True when nothing stands in the way of committing."""
        return not self.problems and not self.error

    @property
    def rows_fine(self) -> int:
        """Rows with no problem (skipped rows are neither fine nor refused)."""
        return max(0, self.rows_read - self.rows_skipped - self.rows_refused)

    @property
    def inserted(self) -> int:
        """New rows over every table."""
        return sum(c.inserted for c in self.tables.values())

    @property
    def updated(self) -> int:
        """Changed rows over every table."""
        return sum(c.updated for c in self.tables.values())

    @property
    def unchanged(self) -> int:
        """Rows already present with the same values."""
        return sum(c.unchanged for c in self.tables.values())

    @property
    def file_name(self) -> str:
        """The uploaded file name(s) for the import log."""
        return " + ".join(f.name for f in (self.uploads or self.files)) or "(no file)"

    @property
    def sha256(self) -> str:
        """SHA-256 of the uploaded file; of several, the first's (all are in the message)."""
        src = self.uploads or self.files
        return src[0].sha256 if src else "-"

    # ---- building ---------------------------------------------------------------------------
    def add(self, file: str, row: int | None, column: str | None, value: object,
            template: str, /, **params: Any) -> None:
        """Record a problem; `value` is kept as text, cut for display."""
        v = None if value is None else short(value, 200)
        self.problems.append(Problem(file, row, column, v, template,
                                     {k: (short(p, 120) if isinstance(p, str) else p)
                                      for k, p in params.items()}))

    def note(self, template: str, **params: Any) -> None:
        """Record a remark that does not refuse the import (e.g. rows skipped)."""
        self.notes.append((template, params))

    def summary_text(self) -> str:
        """The one-line summary used in the import log and the terminal."""
        s = (f"{self.rows_read:,} rows read, {self.rows_fine:,} fine, "
             f"{self.rows_refused:,} refused")
        if self.rows_skipped:
            s += f", {self.rows_skipped:,} skipped"
        s += f"; {self.inserted:,} new, {self.updated:,} updated, {self.unchanged:,} unchanged"
        return s

    def log_message(self) -> str:
        """Text stored in the import log: summary, files and the first problems."""
        lines = [self.summary_text()]
        src = self.uploads or self.files
        if len(src) > 1:
            lines.append("files: " + ", ".join(f"{f.name} ({f.sha256})" for f in src))
        if self.error:
            lines.append(self.error)
        for p in self.problems[:20]:
            lines.append(p.text())
        if len(self.problems) > 20:
            lines.append(f"… and {len(self.problems) - 20:,} more problems")
        return "\n".join(lines)

    def to_text(self) -> str:
        """The whole report as plain text (the command line prints this)."""
        out = [f"Family: {self.family}"]
        for f in self.files:
            how = [f.kind.upper()]
            if f.encoding:
                how.append(f.encoding)
            if f.separator:
                how.append(f"separator {f.separator!r}" if f.separator != "tab"
                           else "separator tab")
            if f.sheet:
                how.append(f"sheet {f.sheet!r}")
            out.append(f"File: {f.name} ({f.size:,} bytes; {', '.join(h for h in how if h)}; "
                       f"{f.rows:,} data rows; SHA-256 {f.sha256})")
        out.append("Summary: " + self.summary_text())
        for name, c in self.tables.items():
            out.append(f"  {name}: {c.inserted:,} new, {c.updated:,} updated, "
                       f"{c.unchanged:,} unchanged")
        for template, params in self.notes:
            out.append("Note: " + _fmt(template, params))
        if self.problems:
            out.append(f"Problems ({len(self.problems):,}):")
            out.extend("  " + p.text() for p in self.problems)
        if self.error:
            out.append("Error: " + self.error)
        verdict = {
            "committed": "COMMITTED: the data is in the database.",
            "refused": "REFUSED: nothing was written.",
            "failed": "FAILED: nothing was written.",
            "checked": ("VALID: nothing written yet (dry run)." if self.ok
                        else "REFUSED: nothing was written."),
        }[self.outcome]
        out.append("Outcome: " + verdict)
        return "\n".join(out)

    def problems_csv(self) -> bytes:
        """Every problem as CSV (UTF-8 with BOM so Excel opens it correctly)."""
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["file", "row", "column", "value", "problem"])
        for p in self.problems:
            w.writerow([p.file, "" if p.row is None else p.row, p.column or "",
                        p.value or "", p.message])
        return ("\ufeff" + buf.getvalue()).encode("utf-8")

    def to_dict(self, *, max_problems: int | None = None) -> dict[str, Any]:
        """A JSON-friendly view for the Data page (problems optionally capped)."""
        problems = self.problems if max_problems is None else self.problems[:max_problems]
        return {
            "family": self.family,
            "files": [asdict(f) for f in self.files],
            "problems": [{"file": p.file, "row": p.row, "column": p.column, "value": p.value,
                          "template": p.template, "params": p.params} for p in problems],
            "problem_count": len(self.problems),
            "notes": [{"template": t, "params": p} for t, p in self.notes],
            "rows_read": self.rows_read, "rows_fine": self.rows_fine,
            "rows_refused": self.rows_refused, "rows_skipped": self.rows_skipped,
            "inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged,
            "tables": {k: asdict(v) for k, v in self.tables.items()},
            "preview": self.preview, "outcome": self.outcome, "ok": self.ok,
            "error": self.error, "log_id": self.log_id,
        }
