"""Load a data file into the dashboard's database (for scheduled jobs and by hand).

    python -m data_access.load FILE --family helpdesk|programmes|techoffers|techdeals|epa
    python -m data_access.load project.csv organization.csv --family cordis
    python -m data_access.load cordis-HORIZONprojects-csv.zip --family cordis
    python -m data_access.load DIRECTORY --family cordis   # with project.csv, organization.csv

Options: --database-url URL (default: DATABASE_URL, else the local SQLite file),
--dry-run (validate and compare, write nothing). Limits: MAX_UPLOAD_MB, MAX_IMPORT_ROWS.

Prints the same validation report as the Data page. Exit status: 0 committed (or valid on
--dry-run), 1 refused (nothing written), 2 usage error, 3 failed while writing (rolled back).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from data_access.audit import Actor
from data_access.importers import FAMILY_KEYS, InputFile, Limits, import_files

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3


def _inputs(paths: list[str], family: str, limits: Limits) -> list[InputFile]:
    """Files to import; a directory (CORDIS) contributes its project and organization files."""
    out: list[InputFile] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            if family != "cordis":
                raise SystemExit(f"{p} is a directory; only --family cordis reads a directory")
            members = sorted(q for q in p.iterdir() if q.is_file() and q.name.lower() in (
                "project.csv", "organization.csv", "organisation.csv", "project.xlsx",
                "organization.xlsx", "organisation.xlsx"))
            if not members:
                raise SystemExit(f"{p} holds neither project.csv nor organization.csv")
            out.extend(InputFile.from_path(q, limits.max_bytes) for q in members)
        elif p.is_file():
            out.append(InputFile.from_path(p, limits.max_bytes))
        else:
            raise SystemExit(f"No such file: {p}")
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    from data_access.db import make_engine, upgrade_schema
    from data_access.settings import Settings

    ap = argparse.ArgumentParser(prog="python -m data_access.load", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+", metavar="FILE",
                    help="the file to load (CORDIS: project.csv and organization.csv, their "
                         ".zip, or a directory holding them)")
    ap.add_argument("--family", required=True, choices=FAMILY_KEYS)
    ap.add_argument("--database-url", default=None,
                    help="database to load into (default: DATABASE_URL or the local SQLite file)")
    ap.add_argument("--dry-run", action="store_true",
                    help="validate and compare with the database; write nothing")
    ap.add_argument("--quiet", action="store_true", help="print the report only")
    args = ap.parse_args(argv)
    settings = Settings.from_env()
    url = args.database_url or os.environ.get("DATABASE_URL") or settings.DATABASE_URL
    limits = Limits.from_settings(settings)
    if args.family != "cordis" and len(args.files) != 1:
        ap.error(f"--family {args.family} takes exactly one file")
    try:
        files = _inputs(args.files, args.family, limits)
    except SystemExit as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    engine = make_engine(url)
    try:
        upgrade_schema(engine)

        def progress(msg: str) -> None:
            if not args.quiet:
                print(msg, flush=True)

        report = import_files(engine, files, args.family, limits=limits, dry_run=args.dry_run,
                              progress=progress, actor=Actor.cli())
    finally:
        engine.dispose()
    print(report.to_text(), flush=True)
    if report.outcome == "committed" or (args.dry_run and report.ok):
        return EXIT_OK
    return EXIT_FAILED if report.outcome == "failed" else EXIT_REFUSED


if __name__ == "__main__":
    sys.exit(main())
