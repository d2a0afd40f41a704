"""One engine and sessionmaker per process, made from DATABASE_URL; schema via Alembic."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from data_access import vocab
from data_access.models import Country, Meta, OrgType, Sector

_engine: Engine | None = None
_sessionmaker: sessionmaker[Session] | None = None
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite files get their folder created and sensible pragmas."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def init_engine(url: str) -> Engine:
    """Set the process-wide engine (replacing any previous one) and return it."""
    global _engine, _sessionmaker
    if _engine is not None and str(_engine.url) == url:
        return _engine
    if _engine is not None:
        _engine.dispose()
    _engine = make_engine(url)
    _sessionmaker = sessionmaker(_engine, expire_on_commit=False)
    return _engine


def get_engine() -> Engine:
    """The process-wide engine; `init_engine` must have been called."""
    if _engine is None:
        raise RuntimeError("init_engine(DATABASE_URL) has not been called")
    return _engine


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session in a transaction: committed on success, rolled back on error."""
    if _sessionmaker is None:
        raise RuntimeError("init_engine(DATABASE_URL) has not been called")
    with _sessionmaker.begin() as session:
        yield session


def alembic_config(engine: Engine):  # noqa: ANN201 - alembic.config.Config
    """An Alembic config pointing at our migrations, bound to `engine`."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def upgrade_schema(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision, then sync the vocabularies."""
    from alembic import command

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with Session(engine) as s, s.begin():
        sync_vocabularies(s)


def schema_exists(engine: Engine) -> bool:
    """True when the schema has been created (the Alembic version table exists)."""
    return inspect(engine).has_table("alembic_version")


def sync_vocabularies(session: Session) -> None:
    """Insert or update the shared dimension tables from `vocab` (idempotent)."""
    for i, s in enumerate(vocab.SECTORS):
        session.merge(Sector(code=s.code, name_en=s.en, name_ja=s.ja, sort_order=i))
    for c in vocab.COUNTRIES:
        session.merge(Country(code=c.code, name_en=c.en, name_ja=c.ja,
                              grp=vocab.country_group(c.code)))
    for o in vocab.ORG_TYPES:
        session.merge(OrgType(code=o.code, name_en=o.en, name_ja=o.ja))


def get_meta(conn_or_session, key: str, default: str | None = None) -> str | None:  # noqa: ANN001
    """Read one value of the key/value meta table."""
    v = conn_or_session.execute(select(Meta.value).where(Meta.key == key)).scalar_one_or_none()
    return default if v is None else v


def set_meta(session: Session, key: str, value: str) -> None:
    """Write one value of the key/value meta table."""
    session.merge(Meta(key=key, value=value))


def bump_data_version(session: Session) -> int:
    """Increase the data version that cache keys include; every data change calls this."""
    v = int(get_meta(session, "data_version", "0") or 0) + 1
    set_meta(session, "data_version", str(v))
    set_meta(session, "data_changed_at", dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    return v
