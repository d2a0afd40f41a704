"""One schema object per data family: the validator, the templates and the data dictionary
are all generated from these, so they cannot disagree.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from data_access import vocab
from data_access.models import (
    EpaUtilisation,
    HelpdeskEnquiry,
    ProgrammeApplication,
    TechDeal,
    TechOffer,
)


def norm_header(name: object) -> str:
    """Header matching ignores case, spaces, hyphens and a stray BOM: 'Received date' ==
    'received_date'."""
    s = str(name or "").replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s\-./]+", "_", s).strip("_")


def _norm_term(s: str) -> str:
    return re.sub(r"\s+", " ", s.strip().lower())


@dataclass(frozen=True)
class Vocabulary:
    """Allowed values of a code column: the code, the English or Japanese label, or an alias,
    all case-insensitive, map onto the code stored in the database."""

    name: str
    terms: tuple[tuple[str, str, str], ...]  # (code, English, Japanese)
    aliases: Mapping[str, str] = field(default_factory=dict)

    def _index(self) -> dict[str, str]:
        idx: dict[str, str] = {}
        for code, en, ja in self.terms:
            for k in (code, en, ja):
                if k:
                    idx.setdefault(_norm_term(k), code)
        for k, code in self.aliases.items():
            idx.setdefault(_norm_term(k), code)
        return idx

    def lookup(self, value: object) -> str | None:
        """The code for a value, or None when it is not in the vocabulary."""
        idx = _INDEX_CACHE.get(self.name)
        if idx is None:
            idx = _INDEX_CACHE[self.name] = self._index()
        return idx.get(_norm_term(str(value)))

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes, in vocabulary order."""
        return tuple(t[0] for t in self.terms)


_INDEX_CACHE: dict[str, dict[str, str]] = {}


def _terms(ts: tuple[vocab.Term, ...]) -> tuple[tuple[str, str, str], ...]:
    return tuple((t.code, t.en, t.ja) for t in ts)


SECTOR = Vocabulary("sector", _terms(vocab.SECTORS))
COUNTRY = Vocabulary("country", _terms(vocab.COUNTRIES), dict(vocab.CORDIS_COUNTRY))
EU_COUNTRY = Vocabulary("eu_country", _terms(vocab.EU_MEMBER_STATES),
                        {"EL": "GR"})
ORG_TYPE = Vocabulary("org_type", _terms(vocab.ORG_TYPES),
                      {"large enterprise": "large", "large company": "large",
                       "research organization": "research", "public": "public"})
PROGRAMME = Vocabulary("programme", _terms(vocab.PROGRAMMES),
                       {"vulcanus": "vulcanus_jp", "minerva": "minerva",
                        "minerva fellowship": "minerva", "training mission": "training"})
STATUS = Vocabulary("status", _terms(vocab.APPLICATION_STATUSES),
                    {"applied": "applied", "not shortlisted": "applied", "rejected": "applied"})
FIELD = Vocabulary("field_of_study", _terms(vocab.FIELDS_OF_STUDY))
GENDER = Vocabulary("gender", _terms(vocab.GENDERS),
                    {"woman": "F", "man": "M", "other": "X", "not stated": "X",
                     "diverse": "X"})
PREFECTURE = Vocabulary("prefecture", _terms(vocab.JP_PREFECTURES),
                        {c.en.lower() + s: c.code for c in vocab.JP_PREFECTURES
                         for s in ("", " prefecture")})
DESK = Vocabulary("desk", _terms(vocab.DESKS),
                  {"epa help desk": "epa", "procurement helpdesk": "procurement",
                   "ncp japan": "ncp", "ncp": "ncp", "tt helpdesk": "techtransfer"})
TOPIC = Vocabulary("topic", _terms(vocab.TOPICS))
TT_KIND = Vocabulary("kind", _terms(vocab.TT_KINDS),
                     {"offer": "offer", "request": "request", "rfp": "request"})
DEAL_STAGE = Vocabulary("stage", _terms(vocab.DEAL_STAGES))
DEAL_TYPE = Vocabulary("deal_type", _terms(vocab.DEAL_TYPES), {"license": "licence"})
JP_REGION = Vocabulary(
    "jp_region", _terms(vocab.JP_REGIONS),
    {**{p.code: vocab.PREFECTURE_REGION[p.code] for p in vocab.JP_PREFECTURES},
     **{p.en: vocab.PREFECTURE_REGION[p.code] for p in vocab.JP_PREFECTURES},
     **{p.ja: vocab.PREFECTURE_REGION[p.code] for p in vocab.JP_PREFECTURES},
     "kyushu": "kyushu", "okinawa": "kyushu"})
DIRECTION = Vocabulary("direction", _terms(vocab.DIRECTIONS),
                       {"EU-JP": "EU_JP", "EU>JP": "EU_JP", "EU→JP": "EU_JP", "EU to JP": "EU_JP",
                        "EU exports": "EU_JP", "JP-EU": "JP_EU", "JP>EU": "JP_EU",
                        "JP→EU": "JP_EU", "JP to EU": "JP_EU", "Japanese exports": "JP_EU"})

# Column names that would hold personal data: programme files must not carry them.
PERSONAL_DATA_HEADERS = frozenset({
    "name", "first_name", "firstname", "last_name", "lastname", "surname", "family_name",
    "given_name", "full_name", "fullname", "applicant_name", "email", "e_mail", "email_address",
    "e_mail_address", "mail", "birth_date", "birthdate", "date_of_birth", "dob", "birthday",
    "age", "phone", "telephone", "mobile", "address", "street", "passport", "passport_number",
    "氏名", "名前", "メール", "メールアドレス", "生年月日", "住所", "電話番号",
})

MIN_DATE = dt.date(1987, 1, 1)  # the Centre's founding year: anything earlier is a typo


@dataclass(frozen=True)
class Column:
    """One column of a family's file: its type, allowed values, where it goes."""

    name: str
    kind: str  # text / int / number / date / code / hs
    description: str
    example: Any
    required: bool = True
    db: str | None = None  # database column (default: `name`)
    vocab: Vocabulary | None = None
    max_len: int | None = None
    minimum: float | None = None
    maximum: Callable[[], float] | None = None  # evaluated at check time (e.g. this year)
    not_future: bool = False
    aliases: tuple[str, ...] = ()

    @property
    def target(self) -> str:
        """The database column it fills."""
        return self.db or self.name

    def type_text(self) -> str:
        """How the data dictionary names the type."""
        return {
            "text": "text" + (f" (at most {self.max_len} characters)" if self.max_len else ""),
            "int": "whole number",
            "number": "number" + (" ≥ 0" if self.minimum == 0 else ""),
            "date": "date YYYY-MM-DD",
            "code": "code from a list",
            "hs": "HS section (I–XXI) or HS chapter (1–99)",
        }[self.kind]

    def allowed_text(self) -> str:
        """Allowed values for the data dictionary."""
        if self.vocab is not None:
            return "; ".join(f"{c} ({en})" for c, en, _ in self.vocab.terms)
        if self.kind == "hs":
            return "; ".join(f"{s[0]} (chapters {s[1]}: {s[2]})" for s in vocab.HS_SECTIONS)
        bits = []
        if self.minimum is not None:
            bits.append(f"from {self.minimum:g}")
        if self.maximum is not None:
            bits.append(f"to {self.maximum():g}")
        if self.not_future:
            bits.append("not in the future")
        if self.kind == "date":
            bits.append(f"not before {MIN_DATE.isoformat()}")
        return ", ".join(bits)


# Cross-field checks get the parsed record and a `fail(column, template, **params)` callback.
Check = Callable[[dict[str, Any], Callable[..., None]], None]


@dataclass(frozen=True)
class FamilySchema:
    """A data family's file format and how its rows land in the database."""

    key: str
    label: str
    description: str
    model: type
    columns: tuple[Column, ...]
    key_columns: tuple[str, ...]  # natural key, database column names
    derive: Callable[[dict[str, Any]], None] = lambda rec: None
    check: Check = lambda rec, fail: None
    refuse_personal_data: bool = True
    derived: tuple[str, ...] = ()  # database columns `derive` fills

    @property
    def fields(self) -> tuple[str, ...]:
        """Database columns an imported row fills, in a fixed order."""
        return tuple(dict.fromkeys([c.target for c in self.columns] + list(self.derived)))

    @property
    def table(self) -> str:
        """The database table the family fills."""
        return self.model.__tablename__  # type: ignore[attr-defined]

    def column(self, name: str) -> Column | None:
        """The column a header names (by name or alias), or None."""
        n = norm_header(name)
        for c in self.columns:
            if n == c.name or n in c.aliases:
                return c
        return None

    def example_row(self) -> dict[str, Any]:
        """The example row of the template (it must pass the validator: a test checks it)."""
        return {c.name: c.example for c in self.columns}


def _this_year() -> float:
    return float(dt.date.today().year)


def _next_year() -> float:
    return float(dt.date.today().year + 1)


ID = Column("external_id", "text", "Your system's identifier of the record; the same "
            "identifier in a later file updates the record instead of adding a new one.",
            "REC-2024-00001", max_len=64, aliases=("id",))


# ---- Programmes -----------------------------------------------------------------------------
def _programme_derive(rec: dict[str, Any]) -> None:
    rec["sector_code"] = vocab.FIELD_SECTOR.get(rec.get("field_of_study") or "other", "other")


def _programme_check(rec: dict[str, Any], fail: Callable[..., None]) -> None:
    if rec.get("prefecture") and rec.get("country_code") not in (None, "JP"):
        fail("prefecture", "A prefecture is only given for applicants from Japan (country JP)")
    if rec.get("host_sector") and rec.get("status") not in (None, "selected"):
        fail("host_sector", "A host sector is only given for selected applicants")


PROGRAMMES = FamilySchema(
    "programmes", "Programme applications",
    "One row per application to a mobility programme. No names, e-mail addresses or birth "
    "dates: files with such columns are refused.",
    ProgrammeApplication,
    (
        Column("external_id", "text", ID.description, "VJ-2025-0001", max_len=64,
               aliases=("id", "application_id")),
        Column("programme", "code", "The programme applied to.", "vulcanus_jp",
               vocab=PROGRAMME),
        Column("cycle_year", "int", "Year the programme cycle starts.", 2025, minimum=1987,
               maximum=_next_year, aliases=("year", "cycle")),
        Column("country", "code", "Applicant's country (ISO 3166-1 alpha-2; EL and UK are "
               "accepted for Greece and the United Kingdom).", "DE", db="country_code",
               vocab=COUNTRY, aliases=("country_code",)),
        Column("prefecture", "code", "Japanese prefecture (JP-01 … JP-47 or its name), only "
               "for applicants from Japan.", "", required=False, vocab=PREFECTURE),
        Column("field_of_study", "code", "Applicant's field of study; it also sets the sector "
               "used by the sector filter.", "mechanical", vocab=FIELD, aliases=("field",)),
        Column("gender", "code", "Gender if the applicant gave it: F, M or X (other / not "
               "stated); leave empty if unknown.", "F", required=False, vocab=GENDER),
        Column("status", "code", "Furthest stage reached.", "selected", vocab=STATUS),
        Column("host_sector", "code", "Sector of the host company, for selected applicants.",
               "machinery", required=False, vocab=SECTOR),
    ),
    ("external_id",), _programme_derive, _programme_check, derived=("sector_code",),
)


# ---- Help desks -----------------------------------------------------------------------------
def _helpdesk_check(rec: dict[str, Any], fail: Callable[..., None]) -> None:
    desk, topic = rec.get("desk"), rec.get("topic")
    if desk and topic and topic not in vocab.DESK_TOPICS.get(desk, ()):
        fail("topic", "Topic {topic!r} is not a topic of the {desk!r} help desk (allowed: "
             "{allowed})", topic=topic, desk=desk,
             allowed=", ".join(vocab.DESK_TOPICS.get(desk, ())))
    rd, ad = rec.get("received_date"), rec.get("answered_date")
    if rd and ad and ad < rd:
        fail("answered_date", "Answered before it was received ({received})",
             received=rd.isoformat())


HELPDESK = FamilySchema(
    "helpdesk", "Help-desk enquiries",
    "One row per enquiry to a help desk. No names or e-mail addresses of requesters.",
    HelpdeskEnquiry,
    (
        Column("external_id", "text", ID.description, "EPA-2025-000123", max_len=64,
               aliases=("id", "enquiry_id", "ticket_id")),
        Column("desk", "code", "The help desk that received the enquiry.", "epa", vocab=DESK),
        Column("topic", "code", "Topic of the enquiry; each desk has its own topics.",
               "rules_of_origin", vocab=TOPIC),
        Column("received_date", "date", "Day the enquiry arrived.", "2025-03-14",
               not_future=True, aliases=("received",)),
        Column("answered_date", "date", "Day it was answered; empty while open.",
               "2025-03-18", required=False, not_future=True, aliases=("answered",)),
        Column("sector", "code", "Sector of the requester's business.", "agrifood",
               db="sector_code", vocab=SECTOR, aliases=("sector_code",)),
        Column("requester_type", "code", "Type of organisation asking.", "sme",
               vocab=ORG_TYPE, aliases=("org_type", "requester")),
        Column("country", "code", "Requester's country (ISO 3166-1 alpha-2; XX if unknown).",
               "FR", db="country_code", vocab=COUNTRY, aliases=("country_code",)),
    ),
    ("external_id",), check=_helpdesk_check,
)


# ---- Technology transfer --------------------------------------------------------------------
def _offer_check(rec: dict[str, Any], fail: Callable[..., None]) -> None:
    p, w = rec.get("published_date"), rec.get("withdrawn_date")
    if p and w and w < p:
        fail("withdrawn_date", "Withdrawn before it was published ({published})",
             published=p.isoformat())


TECHOFFERS = FamilySchema(
    "techoffers", "Technology offers and requests",
    "One row per technology offer or request for proposals in the Technology Transfer "
    "database.",
    TechOffer,
    (
        Column("external_id", "text", ID.description, "TT-O-004711", max_len=64,
               aliases=("id", "offer_id")),
        Column("kind", "code", "Offer or request.", "offer", vocab=TT_KIND,
               aliases=("type",)),
        Column("published_date", "date", "Day it was published.", "2024-11-05",
               not_future=True, aliases=("published",)),
        Column("withdrawn_date", "date", "Day it was withdrawn; empty while it is live.", "",
               required=False, not_future=True, aliases=("withdrawn",)),
        Column("sector", "code", "Sector of the technology.", "ict", db="sector_code",
               vocab=SECTOR, aliases=("sector_code",)),
        Column("country", "code", "Country of the organisation (ISO 3166-1 alpha-2).", "JP",
               db="country_code", vocab=COUNTRY, aliases=("country_code",)),
        Column("org_type", "code", "Type of organisation.", "university", vocab=ORG_TYPE,
               aliases=("organisation_type", "organization_type")),
    ),
    ("external_id",), check=_offer_check,
)


def _deal_check(rec: dict[str, Any], fail: Callable[..., None]) -> None:
    stage, signed, opened = rec.get("stage"), rec.get("signed_date"), rec.get("opened_date")
    # a key missing from `rec` means its cell was refused already: no second message
    if stage == "signed" and "signed_date" in rec and not signed:
        fail("signed_date", "A signed deal needs its signing date")
    if signed and stage and stage != "signed":
        fail("signed_date", "A signing date is only given for deals at stage 'signed'")
    if signed and opened and signed < opened:
        fail("signed_date", "Signed before it was opened ({opened})", opened=opened.isoformat())


TECHDEALS = FamilySchema(
    "techdeals", "Technology transfer deals",
    "One row per deal between an EU and a Japanese party, at the furthest stage reached.",
    TechDeal,
    (
        Column("external_id", "text", ID.description, "TT-D-00042", max_len=64,
               aliases=("id", "deal_id")),
        Column("offer_external_id", "text", "external_id of the offer or request the deal "
               "came from, if any.", "TT-O-004711", required=False, max_len=64,
               aliases=("offer_id",)),
        Column("stage", "code", "Furthest stage reached.", "signed", vocab=DEAL_STAGE),
        Column("opened_date", "date", "Day of first contact.", "2024-02-01", not_future=True,
               aliases=("opened",)),
        Column("signed_date", "date", "Day the agreement was signed (stage 'signed' only).",
               "2024-09-30", required=False, not_future=True, aliases=("signed",)),
        Column("deal_type", "code", "Kind of agreement.", "licence", vocab=DEAL_TYPE),
        Column("sector", "code", "Sector of the technology.", "health", db="sector_code",
               vocab=SECTOR, aliases=("sector_code",)),
        Column("eu_country", "code", "Member state of the EU party (ISO alpha-2; EL accepted).",
               "NL", db="eu_country_code", vocab=EU_COUNTRY, aliases=("eu_country_code",)),
        Column("jp_region", "code", "Region of the Japanese party (a region, or a prefecture "
               "which is mapped to its region).", "kansai", required=False, vocab=JP_REGION),
    ),
    ("external_id",), check=_deal_check,
)


# ---- EPA utilisation ------------------------------------------------------------------------
def _epa_check(rec: dict[str, Any], fail: Callable[..., None]) -> None:
    e, p = rec.get("eligible_eur"), rec.get("preferential_eur")
    if e is not None and p is not None and p > e * (1 + 1e-9) + 0.005:
        fail("preferential_eur", "Preferential imports exceed eligible imports ({eligible:,.2f})",
             eligible=e)


def _epa_derive(rec: dict[str, Any]) -> None:
    rec["sector_code"] = vocab.HS_SECTION_SECTOR[rec["hs_section"]]


EPA = FamilySchema(
    "epa", "EPA utilisation",
    "One row per year, direction, member state and product group (HS section, or HS chapter "
    "which is added up into its section). Values in euro.",
    EpaUtilisation,
    (
        Column("year", "int", "Calendar year (the EPA entered into force on 1 February 2019).",
               2024, minimum=2019, maximum=_this_year),
        Column("direction", "code", "EU_JP: EU exports to Japan; JP_EU: Japanese exports to "
               "the EU.", "EU_JP", vocab=DIRECTION),
        Column("member_state", "code", "EU member state (ISO alpha-2; EL accepted for Greece).",
               "DE", vocab=EU_COUNTRY, aliases=("country", "ms")),
        Column("hs_section", "hs", "Product group: HS section as a roman numeral, or an HS "
               "chapter number (chapters are added up into their section).", "XVI",
               aliases=("hs", "section", "hs_chapter", "product_group")),
        Column("eligible_eur", "number", "Imports eligible for the EPA preference, EUR.",
               1250000.0, minimum=0, aliases=("eligible",)),
        Column("preferential_eur", "number", "Imports that used the preference, EUR (at most "
               "the eligible value).", 905000.0, minimum=0, aliases=("preferential",)),
    ),
    ("year", "direction", "member_state", "hs_section"), _epa_derive, _epa_check,
    derived=("sector_code",),
)

FAMILIES: dict[str, FamilySchema] = {s.key: s for s in
                                     (PROGRAMMES, HELPDESK, TECHOFFERS, TECHDEALS, EPA)}
