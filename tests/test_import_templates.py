"""Templates and the data dictionary come from the validator's own schemas: the example row of
every template passes validation and loads, and the dictionary lists exactly its columns."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import Engine

from data_access.importers import FAMILIES, InputFile, check, import_files
from data_access.importers.parse import Bad, parse_date, parse_number
from data_access.importers.schemas import norm_header
from data_access.templates import (
    TEMPLATE_FAMILIES,
    dictionary_csv,
    dictionary_frame,
    dictionary_markdown,
    dictionary_xlsx,
    template_csv,
    template_xlsx,
)


@pytest.mark.parametrize("family", TEMPLATE_FAMILIES)
def test_template_example_rows_load(engine: Engine, family: str) -> None:
    for name, data in ((f"{family}.csv", template_csv(family)),
                       (f"{family}.xlsx", template_xlsx(family))):
        report = import_files(engine, [InputFile.from_bytes(name, data)], family)
        assert report.outcome == "committed", report.to_text()
        assert report.rows_read == 1
    # the CSV and the XLSX template hold the same row: the second load changes nothing
    assert report.inserted == 0 and report.unchanged == 1


@pytest.mark.parametrize("family", TEMPLATE_FAMILIES)
def test_dictionary_lists_the_validators_columns(family: str) -> None:
    d = dictionary_frame(family)
    names = [c.split(" (also")[0] for c in d["column"]]
    assert names == [c.name for c in FAMILIES[family].columns]
    header = template_csv(family).decode("utf-8-sig").splitlines()[0].split(",")
    assert header == names
    wb = openpyxl.load_workbook(io.BytesIO(template_xlsx(family)), read_only=True)
    assert wb.sheetnames == ["data", "dictionary", "allowed values"]
    assert [c.value for c in next(wb["data"].iter_rows(max_row=1))] == names
    # every allowed code listed for a column is accepted by the validator for that column
    for col in FAMILIES[family].columns:
        if col.vocab is not None:
            assert all(col.vocab.lookup(code) == code for code in col.vocab.codes)
            assert col.vocab.lookup(col.vocab.terms[0][1].upper()) == col.vocab.codes[0]


def test_dictionary_workbook_and_markdown() -> None:
    wb = openpyxl.load_workbook(io.BytesIO(dictionary_xlsx()), read_only=True)
    assert wb.sheetnames == [*TEMPLATE_FAMILIES, "cordis", "allowed values"]
    md = dictionary_markdown()
    assert "`--family cordis`" in md and "| received_date (also: received) | yes |" in md
    assert dictionary_csv("epa").startswith(b"\xef\xbb\xbfcolumn,required")
    cordis = dictionary_frame("cordis")
    assert "organization.csv: organisationID" in set(cordis["column"])


def test_header_matching_is_forgiving_but_exact_about_names() -> None:
    assert norm_header("\ufeff Received Date ") == "received_date"
    assert FAMILIES["helpdesk"].column("Country code").name == "country"
    assert FAMILIES["helpdesk"].column("colour") is None


@pytest.mark.parametrize("value, expected", [
    ("2024-03-31", "2024-03-31"), ("2024/3/1", "2024-03-01"), ("2024-03-31 00:00:00",
                                                               "2024-03-31")])
def test_dates(value: str, expected: str) -> None:
    assert parse_date(value).isoformat() == expected


@pytest.mark.parametrize("value", ["31/03/2024", "03/31/2024", "2024-3", "yesterday", "45000"])
def test_ambiguous_or_wrong_dates_are_refused(value: str) -> None:
    with pytest.raises(Bad):
        parse_date(value)


def test_numbers() -> None:
    assert parse_number("960619,95") == pytest.approx(960619.95)
    assert parse_number("528340.97") == pytest.approx(528340.97)
    assert parse_number(" 1 000,5 ") == pytest.approx(1000.5)
    with pytest.raises(Bad):
        parse_number("1,234", comma_decimal=False)
    with pytest.raises(Bad):
        parse_number("1.234,5")


def test_check_without_database_reports_format() -> None:
    report = check(None, [InputFile.from_bytes("t.csv", template_csv("epa"))], "epa")
    assert report.ok and report.files[0].encoding == "UTF-8 with BOM"
    assert report.preview["t.csv"]["columns"][0] == "year"
    assert report.preview["t.csv"]["rows"][0][3] == "XVI"
