"""Loading real data: CSV/XLSX files of each family and the public CORDIS files.

    report = check(engine, [InputFile.from_path("enquiries.csv")], "helpdesk")   # preview
    report = import_files(engine, files, "helpdesk")                               # commit

Both return an `ImportReport` (every problem with file, row, column, value and reason; rows
fine / refused / new / updated). `import_files` is all-or-nothing and idempotent by each
family's natural key; see `run.py`.
"""

from data_access.importers.reader import InputFile, Limits
from data_access.importers.report import ImportReport, Problem
from data_access.importers.run import (
    FAMILY_KEYS,
    FAMILY_LABELS,
    check,
    import_files,
    log_refusal,
)
from data_access.importers.schemas import FAMILIES
from data_access.importers.status import (
    family_counts,
    has_demo_data,
    has_real_data,
    import_log,
    remove_demo_data,
)

__all__ = [
    "FAMILIES", "FAMILY_KEYS", "FAMILY_LABELS", "ImportReport", "InputFile", "Limits", "Problem",
    "check", "family_counts", "has_demo_data", "has_real_data", "import_files", "import_log",
    "log_refusal", "remove_demo_data",
]
