"""Accounts, sign-in, lock-out and the append-only audit trail, on SQLite and PostgreSQL:
data_access.users and data_access.audit as plain functions, and the users CLI."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from data_access import audit, users
from data_access.audit import Actor
from data_access.importers import InputFile, import_files
from data_access.models import AuditEvent, ImportLog, User
from tests.import_corpus import HELPDESK_HEADER, helpdesk_rows, to_csv

ADMIN = Actor("root-admin", None, "127.0.0.1")
GOOD = "lantern orbit pebble 47"


def _make(engine: Engine, name: str, role: str = "viewer", password: str | None = GOOD,
          **kw: str) -> tuple[User, str | None]:
    with Session(engine, expire_on_commit=False) as s, s.begin():
        return users.create(s, ADMIN, username=name, role=role, password=password, **kw)


def _actions(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        df = audit.events(conn, limit=None)
    return [(r.actor, r.action, r.outcome) for r in df.iloc[::-1].itertuples()]


def _sign_in(engine: Engine, name: str, pw: str, *, lock: float = 15) -> users.SignIn:
    return users.authenticate(engine, name, pw, address="10.0.0.9", max_failures=3,
                              lock_minutes=lock)


# ---- passwords ----------------------------------------------------------------------------------
def test_passwords_are_argon2id_hashes_that_verify() -> None:
    h = users.hash_password(GOOD)
    assert h.startswith("$argon2id$") and GOOD not in h
    assert users.verify_password(h, GOOD)
    assert not users.verify_password(h, GOOD + "x")
    assert not users.verify_password(None, GOOD)  # an SSO account has no password
    assert users.hash_password(GOOD) != h  # salted


@pytest.mark.parametrize(("pw", "why"), [
    ("short-pw-1", "at least 12"),
    ("password1234", "too common"),  # a listed password with digits added
    ("1234Password", "too common"),
    ("qwertyqwertyqwerty", "too common"),  # a repetition of a listed one
    ("aaaaaaaaaaaaaaa", "too common"),
    ("mariko-secret-2026", "user name"),
])
def test_weak_passwords_are_refused_with_a_reason(pw: str, why: str) -> None:
    assert why in (users.password_problem(pw, username="mariko") or "")


def test_a_strong_password_passes_and_the_common_list_is_shipped() -> None:
    assert users.password_problem(GOOD, username="mariko") is None
    assert len(users.common_passwords()) > 20_000 and "dragon" in users.common_passwords()


# ---- accounts -----------------------------------------------------------------------------------
def test_create_gives_a_one_time_password_and_an_audit_row(engine: Engine) -> None:
    user, otp = _make(engine, "Mariko", "staff", password=None, email="M.Sato@example.jp")
    assert user.username == "mariko" and user.email == "m.sato@example.jp"
    assert otp and user.must_change_password and users.verify_password(user.password_hash, otp)
    assert users.password_problem(otp) is None
    with pytest.raises(users.UserError, match="already in use"):
        _make(engine, "MARIKO")
    with pytest.raises(users.UserError, match="already in use"):
        _make(engine, "m.sato@example.jp")
    with pytest.raises(users.UserError, match="Unknown role"):
        _make(engine, "kenji", "superuser")
    assert _actions(engine) == [("root-admin", "user_created", "ok")]


def test_sign_in_counts_failures_locks_and_unlocks(engine: Engine) -> None:
    _make(engine, "kenji")
    assert _sign_in(engine, "kenji", "wrong").reason == "bad"
    assert _sign_in(engine, "nobody", GOOD).reason == "bad"  # same answer as a wrong password
    assert _sign_in(engine, "kenji", "wrong").reason == "bad"
    locked = _sign_in(engine, "kenji", "wrong")  # the third in a row
    assert locked.reason == "locked" and locked.locked_until is not None
    assert locked.locked_until > audit.now() + dt.timedelta(minutes=14)
    # locked: even the right password is refused, and says until when
    again = _sign_in(engine, "KENJI", GOOD)
    assert again.reason == "locked" and again.locked_until == locked.locked_until
    with Session(engine) as s, s.begin():  # the lock has run out
        s.execute(update(User).values(locked_until=audit.now() - dt.timedelta(seconds=1)))
    ok = _sign_in(engine, "kenji", GOOD)
    assert ok.user is not None and ok.user.last_sign_in_at is not None
    with Session(engine) as s:
        assert s.scalars(select(User.failed_sign_ins)).one() == 0
    acts = [a for _, a, _ in _actions(engine)]
    assert acts == ["user_created", "sign_in_failed", "sign_in_failed", "sign_in_failed",
                    "locked_out", "sign_in_failed", "sign_in_failed", "sign_in"]
    with engine.connect() as conn:
        rows = audit.events(conn, audit.AuditFilter(action="locked_out"))
    assert rows.iloc[0].address == "10.0.0.9" and rows.iloc[0].actor == "kenji"


def test_disabled_accounts_and_role_changes_end_sessions(engine: Engine) -> None:
    admin, _ = _make(engine, "boss", "admin")
    viewer, _ = _make(engine, "yui")
    with Session(engine, expire_on_commit=False) as s, s.begin():
        boss, yui = s.get(User, admin.id), s.get(User, viewer.id)
        users.set_role(s, ADMIN, yui, "staff")
        assert yui.session_epoch == 1
        with pytest.raises(users.UserError, match="last active admin"):
            users.set_role(s, ADMIN, boss, "viewer")
        with pytest.raises(users.UserError, match="last active admin"):
            users.set_active(s, ADMIN, boss, False)
        users.set_active(s, ADMIN, yui, False)
        assert yui.session_epoch == 2
    assert _sign_in(engine, "yui", GOOD).reason == "disabled"
    with Session(engine, expire_on_commit=False) as s, s.begin():
        yui = s.get(User, viewer.id)
        users.set_active(s, ADMIN, yui, True)
        otp = users.reset_password(s, ADMIN, yui)
        assert yui.must_change_password and yui.session_epoch == 4
    assert _sign_in(engine, "yui", GOOD).reason == "bad"
    signed = _sign_in(engine, "yui", otp)
    assert signed.user is not None and signed.user.must_change_password
    with Session(engine, expire_on_commit=False) as s, s.begin():
        yui = s.get(User, viewer.id)
        with pytest.raises(users.UserError, match="not right"):
            users.change_password(s, Actor("yui"), yui, "guess", "another good phrase 9")
    with Session(engine, expire_on_commit=False) as s, s.begin():
        yui = s.get(User, viewer.id)
        with pytest.raises(users.UserError, match="too common"):
            users.change_password(s, Actor("yui"), yui, otp, "password12345")
        users.change_password(s, Actor("yui"), yui, otp, "another good phrase 9")
        assert not yui.must_change_password
    assert _sign_in(engine, "yui", "another good phrase 9").user is not None
    acts = [a for _, a, _ in _actions(engine)]
    for expected in ("user_role_changed", "user_disabled", "user_enabled", "password_reset",
                     "password_changed"):
        assert expected in acts


def test_first_admin_only_on_an_empty_database(engine: Engine) -> None:
    otp = users.ensure_first_admin(engine)
    assert otp is not None
    assert users.ensure_first_admin(engine) is None
    signed = _sign_in(engine, "admin", otp)
    assert signed.user is not None and signed.user.role == "admin"
    assert signed.user.must_change_password


def test_single_sign_on_makes_and_updates_accounts_from_claims(engine: Engine) -> None:
    role_map = users.parse_role_map("eujc-admins=admin, eujc-staff=staff")
    claims = {"sub": "u1", "email": "Aiko@Example.org", "name": "Aiko Example",
              "preferred_username": "aiko", "groups": ["eujc-staff", "other"]}
    role = users.role_from_claims(claims, "groups", role_map, "viewer")
    assert role == "staff"
    assert users.role_from_claims({"groups": ["eujc-admins", "eujc-staff"]}, "groups",
                                  role_map, "viewer") == "admin"
    assert users.role_from_claims({"groups": "x"}, "groups", role_map, "") is None
    first = users.sign_in_oidc(engine, issuer="https://idp", claims=claims, role=role,
                               address=None)
    assert first.user is not None and first.user.role == "staff"
    assert first.user.password_hash is None and first.user.email == "aiko@example.org"
    again = users.sign_in_oidc(engine, issuer="https://idp", claims=claims, role="viewer",
                               address=None)
    assert again.user is not None and again.user.id == first.user.id
    assert again.user.role == "viewer"  # the provider's claims decide at every sign-in
    refused = users.sign_in_oidc(engine, issuer="https://idp", claims=claims, role=None,
                                 address=None)
    assert refused.user is None and refused.reason == "norole"
    with pytest.raises(ValueError, match="group=viewer"):
        users.parse_role_map("admins=root")
    assert _sign_in(engine, "aiko", "anything at all").reason == "bad"  # no local password


# ---- the audit trail ----------------------------------------------------------------------------
def test_audit_rows_cannot_be_changed_or_deleted(engine: Engine) -> None:
    audit.record(engine, ADMIN, "sign_in", target="root-admin")
    with pytest.raises(DBAPIError), engine.begin() as conn:
        conn.execute(update(AuditEvent).values(actor="someone else"))
    with pytest.raises(DBAPIError), engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event"))
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_event"))
    with engine.connect() as conn:
        df = audit.events(conn)
    assert list(df.actor) == ["root-admin"]


def test_retention_purges_only_rows_older_than_the_period(engine: Engine) -> None:
    audit.record(engine, ADMIN, "sign_in")
    assert audit.purge(engine, 0) == 0  # the default: keep every row
    with engine.begin() as conn:  # an old row, as if written 400 days ago
        conn.execute(AuditEvent.__table__.insert().values(
            at=audit.now() - dt.timedelta(days=400), actor="old", action="sign_in",
            outcome="ok"))
    assert audit.purge(engine, 365) == 1
    with engine.connect() as conn:
        actors = list(audit.events(conn, limit=None).actor)
    assert actors == ["system", "root-admin"]  # the purge itself is recorded
    with pytest.raises(DBAPIError), engine.begin() as conn:  # newer rows stay protected
        conn.execute(text("DELETE FROM audit_event"))


def test_filters_and_counts(engine: Engine) -> None:
    for who, action, outcome in (("a", "sign_in", "ok"), ("b", "sign_in_failed", "denied"),
                                 ("a", "sign_out", "ok")):
        audit.record(engine, Actor(who), action, outcome=outcome,
                     detail={"note": "=1+1"})
    with engine.connect() as conn:
        assert audit.count(conn, audit.AuditFilter(actor="A")) == 2
        assert audit.count(conn, audit.AuditFilter(outcome="denied")) == 1
        today = audit.now().date()
        assert audit.count(conn, audit.AuditFilter(day_from=today, day_to=today)) == 3
        assert audit.count(conn, audit.AuditFilter(day_to=today - dt.timedelta(days=1))) == 0
        assert audit.actions(conn) == ["sign_in", "sign_in_failed", "sign_out"]
        row = audit.events(conn, audit.AuditFilter(action="sign_out")).iloc[0]
    assert json.loads(row.detail) == {"note": "=1+1"}


def test_imports_name_who_ran_them_in_the_log_and_the_trail(engine: Engine) -> None:
    who = Actor("sakura", 7, "10.1.1.1")
    ok = import_files(engine, [InputFile.from_bytes("e.csv", to_csv(HELPDESK_HEADER,
                                                                   helpdesk_rows(5)))],
                      "helpdesk", actor=who)
    bad_rows = helpdesk_rows(2, start=50)
    bad_rows[0][7] = "ZZ"
    bad = import_files(engine, [InputFile.from_bytes("bad.csv", to_csv(HELPDESK_HEADER,
                                                                      bad_rows))],
                       "helpdesk", actor=who)
    assert ok.outcome == "committed" and bad.outcome == "refused"
    with engine.connect() as conn:
        logs = dict(conn.execute(select(ImportLog.id, ImportLog.actor)).all())
        trail = audit.events(conn, limit=None)
    assert logs == {ok.log_id: "sakura", bad.log_id: "sakura"}
    got = {(r.action, r.import_log_id, r.actor, r.address) for r in trail.itertuples()}
    assert got == {("import_committed", ok.log_id, "sakura", "10.1.1.1"),
                   ("import_refused", bad.log_id, "sakura", "10.1.1.1")}


# ---- the command line ---------------------------------------------------------------------------
def test_users_cli(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    assert users.main(["--database-url", db_url, "create", "Ren", "--role", "staff",
                       "--email", "ren@example.eu"], out=out) == 0
    otp = out.getvalue().rsplit(": ", 1)[1].strip()
    assert "Created ren (staff)" in out.getvalue() and len(otp) == 19
    assert users.main(["--database-url", db_url, "set-role", "ren", "admin"], out=out) == 0
    assert users.main(["--database-url", db_url, "disable", "ren"], out=out) == 1  # last admin
    assert "last active admin" in capsys.readouterr().err
    assert users.main(["--database-url", db_url, "create", "ann", "--role", "admin"],
                      out=out) == 0
    assert users.main(["--database-url", db_url, "disable", "ren"], out=out) == 0
    assert users.main(["--database-url", db_url, "reset-password", "nobody"], out=out) == 1
    assert users.main(["--database-url", db_url, "set-role", "ann", "king"], out=out) == 2
    listing = io.StringIO()
    assert users.main(["--database-url", db_url, "list"], out=listing) == 0
    assert "ren" in listing.getvalue() and "ann" in listing.getvalue()
    from data_access.db import make_engine

    eng = make_engine(db_url)
    try:
        with Session(eng) as s:
            ren = s.scalars(select(User).where(User.username == "ren")).one()
            assert ren.role == "admin" and not ren.active
            n = s.scalar(select(func.count()).select_from(AuditEvent)
                         .where(AuditEvent.actor.like("cli:%")))
        # two creations, a role change and a disable (the refused disable wrote nothing)
        assert n == 4
    finally:
        eng.dispose()
