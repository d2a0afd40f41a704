"""SQLAlchemy 2 typed models for the five data families and the shared dimensions.

Every fact row carries `is_demo` so demo data can be told apart from (and removed after)
real imports, and a natural key (`external_id` or a composite unique constraint) so an
import of the same file twice changes nothing. No personal data is stored for applicants.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    DDL,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of every table."""


# ---- Shared dimensions ----------------------------------------------------------------------
class Sector(Base):
    """The one controlled sector vocabulary every family maps onto."""

    __tablename__ = "sector"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_ja: Mapped[str] = mapped_column(String(120))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Country(Base):
    """Countries (ISO 3166-1 alpha-2) with their group: EU, JP or other."""

    __tablename__ = "country"
    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_ja: Mapped[str] = mapped_column(String(120))
    grp: Mapped[str] = mapped_column(String(8))


class OrgType(Base):
    """Organisation types: SME, large enterprise, university, research, public body, other."""

    __tablename__ = "org_type"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_ja: Mapped[str] = mapped_column(String(120))


# ---- Programmes -----------------------------------------------------------------------------
class ProgrammeApplication(Base):
    """One application to a mobility programme (no names, e-mails or birth dates)."""

    __tablename__ = "programme_application"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    programme: Mapped[str] = mapped_column(String(16))
    cycle_year: Mapped[int] = mapped_column(Integer)
    country_code: Mapped[str] = mapped_column(ForeignKey("country.code"))
    prefecture: Mapped[str | None] = mapped_column(String(5))
    field_of_study: Mapped[str] = mapped_column(String(32))
    gender: Mapped[str | None] = mapped_column(String(1))
    status: Mapped[str] = mapped_column(String(16))  # applied / shortlisted / selected
    # Sector of the field of study (what the global sector filter uses for applicants) and,
    # for selected applicants, the sector of the host company.
    sector_code: Mapped[str] = mapped_column(ForeignKey("sector.code"))
    host_sector: Mapped[str | None] = mapped_column(ForeignKey("sector.code"))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (Index("ix_prog_year_prog", "cycle_year", "programme"),)


# ---- Help desks -----------------------------------------------------------------------------
class HelpdeskEnquiry(Base):
    """One enquiry to a help desk."""

    __tablename__ = "helpdesk_enquiry"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    desk: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str] = mapped_column(String(32))
    received_date: Mapped[dt.date] = mapped_column(Date)
    answered_date: Mapped[dt.date | None] = mapped_column(Date)
    sector_code: Mapped[str] = mapped_column(ForeignKey("sector.code"))
    requester_type: Mapped[str] = mapped_column(ForeignKey("org_type.code"))
    country_code: Mapped[str] = mapped_column(ForeignKey("country.code"))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (Index("ix_enquiry_received", "received_date"),)


# ---- Technology transfer --------------------------------------------------------------------
class TechOffer(Base):
    """A technology offer or a request for proposals in the Technology Transfer database."""

    __tablename__ = "tech_offer"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # offer / request
    published_date: Mapped[dt.date] = mapped_column(Date)
    withdrawn_date: Mapped[dt.date | None] = mapped_column(Date)
    sector_code: Mapped[str] = mapped_column(ForeignKey("sector.code"))
    country_code: Mapped[str] = mapped_column(ForeignKey("country.code"))
    org_type: Mapped[str] = mapped_column(ForeignKey("org_type.code"))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (Index("ix_offer_published", "published_date"),)


class TechDeal(Base):
    """A deal between an EU and a Japanese party, at the furthest stage it has reached."""

    __tablename__ = "tech_deal"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    offer_external_id: Mapped[str | None] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(16))  # contact / nda / negotiation / signed
    opened_date: Mapped[dt.date] = mapped_column(Date)
    signed_date: Mapped[dt.date | None] = mapped_column(Date)
    deal_type: Mapped[str] = mapped_column(String(32))
    sector_code: Mapped[str] = mapped_column(ForeignKey("sector.code"))
    eu_country_code: Mapped[str] = mapped_column(ForeignKey("country.code"))
    jp_region: Mapped[str | None] = mapped_column(String(16))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)


# ---- Research participation (CORDIS) --------------------------------------------------------
class ResearchProject(Base):
    """A Horizon 2020 / Horizon Europe project with at least one Japanese participant."""

    __tablename__ = "research_project"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    acronym: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    framework: Mapped[str] = mapped_column(String(16))  # H2020 / HORIZON
    legal_basis: Mapped[str] = mapped_column(String(64))
    programme_part: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    total_cost: Mapped[float | None] = mapped_column(Float)
    ec_max_contribution: Mapped[float | None] = mapped_column(Float)
    sector_code: Mapped[str] = mapped_column(ForeignKey("sector.code"))
    content_update: Mapped[dt.datetime | None] = mapped_column(DateTime)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)


class ResearchParticipation(Base):
    """One participation of a (Japanese) organisation in a project."""

    __tablename__ = "research_participation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("research_project.id", ondelete="CASCADE"))
    organisation_id: Mapped[str] = mapped_column(String(32))
    organisation_name: Mapped[str] = mapped_column(String(300))
    country_code: Mapped[str] = mapped_column(ForeignKey("country.code"))
    activity_type: Mapped[str | None] = mapped_column(String(8))
    org_type: Mapped[str] = mapped_column(ForeignKey("org_type.code"))
    role: Mapped[str] = mapped_column(String(16))
    sme: Mapped[bool | None] = mapped_column(Boolean)
    ec_contribution: Mapped[float | None] = mapped_column(Float)
    city: Mapped[str | None] = mapped_column(String(120))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (UniqueConstraint("project_id", "organisation_id", "role",
                                       name="uq_participation"),)


# ---- EPA utilisation ------------------------------------------------------------------------
class EpaUtilisation(Base):
    """Eligible and preferential imports for a year, direction, member state and HS section."""

    __tablename__ = "epa_utilisation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    year: Mapped[int] = mapped_column(Integer)
    direction: Mapped[str] = mapped_column(String(8))  # EU_JP / JP_EU
    member_state: Mapped[str] = mapped_column(ForeignKey("country.code"))
    hs_section: Mapped[str] = mapped_column(String(6))
    sector_code: Mapped[str] = mapped_column(ForeignKey("sector.code"))
    eligible_eur: Mapped[float] = mapped_column(Float)
    preferential_eur: Mapped[float] = mapped_column(Float)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (UniqueConstraint("year", "direction", "member_state", "hs_section",
                                       name="uq_epa_row"),)


# ---- Bookkeeping ----------------------------------------------------------------------------
class ImportLog(Base):
    """One attempted import of a file (or a demo-data load)."""

    __tablename__ = "import_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    file_name: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    family: Mapped[str] = mapped_column(String(32))
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_inserted: Mapped[int] = mapped_column(Integer, default=0)
    rows_updated: Mapped[int] = mapped_column(Integer, default=0)
    rows_refused: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    outcome: Mapped[str] = mapped_column(String(16))  # committed / refused / failed / demo
    message: Mapped[str | None] = mapped_column(Text)
    # who ran it: a user name, "cli:<account>" for the command line, "system" for start-up
    actor: Mapped[str | None] = mapped_column(String(120))


# ---- Sign-in and audit ----------------------------------------------------------------------
class User(Base):
    """A person who may sign in: a local account (password) or one made by single sign-on
    (OpenID Connect subject). Roles: viewer, staff, admin (data_access.settings.ROLES)."""

    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)  # stored lower-case
    email: Mapped[str | None] = mapped_column(String(254), unique=True)  # lower-case
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))  # argon2id; None: SSO only
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    oidc_subject: Mapped[str | None] = mapped_column(String(400), unique=True)  # issuer|sub
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Bumped when the password is changed or reset, the role changes or the account is
    # disabled: sessions carry the epoch they were made in and end when it moves.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)


class Job(Base):
    """A check or an import of an uploaded file, run as a background process
    (data_access.jobs). Live progress is kept in a small file beside the upload, so that a
    running import's transaction (SQLite has one writer) is not written to by its own progress;
    this row holds the lifecycle and the outcome."""

    __tablename__ = "job"
    id: Mapped[str] = mapped_column(String(48), primary_key=True)  # imports: imp-<token>
    kind: Mapped[str] = mapped_column(String(16))  # check / import
    # queued / running / done / failed / cancelled
    status: Mapped[str] = mapped_column(String(12), index=True)
    family: Mapped[str] = mapped_column(String(32))
    token: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(120))
    user_id: Mapped[int | None] = mapped_column(Integer)
    address: Mapped[str | None] = mapped_column(String(64))
    params: Mapped[str | None] = mapped_column(Text)  # JSON: encoding, …
    result: Mapped[str | None] = mapped_column(Text)  # JSON: the report
    message: Mapped[str | None] = mapped_column(String(300))  # why it failed (English key)
    pid: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class AuditEvent(Base):
    """One audited action: who (user id and name as it was then), what, on what, when, from
    where, and how it ended. Append-only: triggers refuse updates, and deletes of rows newer
    than the retention cut-off (data_access.audit)."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(120))  # user name, "anonymous", "cli:…"
    action: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str | None] = mapped_column(String(300))
    outcome: Mapped[str] = mapped_column(String(16))  # ok / denied / failed
    detail: Mapped[str | None] = mapped_column(Text)  # JSON
    address: Mapped[str | None] = mapped_column(String(64))
    import_log_id: Mapped[int | None] = mapped_column(Integer)


class Meta(Base):
    """Key/value facts about the database: demo flag, data version, data dates."""

    __tablename__ = "app_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# ---- Summary tables (data_access/summaries.py rebuilds them after every data change) --------
class HelpdeskCuboid(Base):
    """One year of one help-desk cuboid (a grouping of the enquiries: time grain and some of
    desk, topic, sector, requester type and country; see data_access.summaries) as packed
    numpy arrays: `kind` 'counts' (enquiries per month or year and cell) or 'days' (the
    days-to-answer histogram of each month and cell). Written by a rebuild or refresh, read
    whole into memory by each process; `rows` is the number of cells and months it holds."""

    __tablename__ = "helpdesk_cuboid"
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    cuboid: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    rows: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


# PostgreSQL would compress each packed value (pglz, slower to write and to read than the
# arrays are worth compressing): stored out of line, uncompressed.
event.listen(HelpdeskCuboid.__table__, "after_create", DDL(
    "ALTER TABLE helpdesk_cuboid ALTER COLUMN data SET STORAGE EXTERNAL"
).execute_if(dialect="postgresql"))


class HelpdeskDailySummary(Base):
    """Enquiries per day, desk, topic and sector, for the months where a compared period
    starts or ends mid-month (the rest is answered by whole months)."""

    __tablename__ = "helpdesk_daily_summary"
    received_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    sector_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    topic: Mapped[str] = mapped_column(String(32), primary_key=True)
    desk: Mapped[str] = mapped_column(String(16), primary_key=True)
    enquiries: Mapped[int] = mapped_column(Integer)
    __table_args__ = {"sqlite_with_rowid": False}  # the key is the storage order


class HelpdeskDailyDaysSummary(Base):
    """Answered enquiries per day, sector and days to answer, for the same months."""

    __tablename__ = "helpdesk_daily_days_summary"
    received_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    sector_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    days: Mapped[int] = mapped_column(Integer, primary_key=True)
    enquiries: Mapped[int] = mapped_column(Integer)
    __table_args__ = {"sqlite_with_rowid": False}  # the key is the storage order


class TechOfferSummary(Base):
    """Technology offers and requests published, and withdrawn, per year, kind and sector
    (`event` is 'published' or 'withdrawn'; `year` is the year of that event)."""

    __tablename__ = "tech_offer_summary"
    event: Mapped[str] = mapped_column(String(9), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    sector_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    offers: Mapped[int] = mapped_column(Integer)
    __table_args__ = {"sqlite_with_rowid": False}  # the key is the storage order
