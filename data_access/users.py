"""Accounts and roles: local accounts with argon2id password hashes, accounts made by single
sign-on, lock-out after repeated failures, and the command line that manages them.

    python -m data_access.users create alice --role staff [--email a@x.eu] [--name "Alice B"]
    python -m data_access.users set-role alice admin
    python -m data_access.users disable alice | enable alice
    python -m data_access.users reset-password alice      # prints a one-time password
    python -m data_access.users list

Options: --database-url URL (default: DATABASE_URL, else the local SQLite file). A new or
reset account gets a one-time password, printed once; its first sign-in asks for a new one.
Exit status: 0 done, 1 refused (e.g. no such user), 2 usage error.

Every change writes an audit row in the same transaction (data_access.audit).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import secrets
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.orm import Session

from data_access import audit
from data_access.audit import Actor
from data_access.models import User
from data_access.settings import ROLES

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@+-]{1,119}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the user name is unknown, so that a wrong name costs as much time as
# a wrong password (no way to tell which accounts exist by timing the answer).
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))
EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


class UserError(ValueError):
    """A change that cannot be made; `str()` is an English sentence the UI translates."""

    def __init__(self, message: str, **fmt: object) -> None:
        super().__init__(message.format(**fmt) if fmt else message)
        self.template = message
        self.fmt = fmt


def now() -> dt.datetime:
    """UTC now without a time zone (how every timestamp is stored)."""
    return audit.now()


# ---- passwords ------------------------------------------------------------------------------
def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when `password` matches the stored hash (False for accounts without one)."""
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of the most common passwords (data/common-passwords.txt)."""
    path = Path(__file__).resolve().parent / "data" / "common-passwords.txt"
    return frozenset(line.strip().lower() for line in path.read_text(encoding="utf-8")
                     .splitlines() if line.strip() and not line.startswith("#"))


def _cores(password: str) -> set[str]:
    """What a password is made of once the usual padding is taken off: the whole (lower
    case), without digits and symbols at either end, and the unit of a repetition."""
    low = unicodedata.normalize("NFKC", password).lower()
    out = {low, low.strip("0123456789!@#$%^&*()_-+=.?~ ")}
    for size in range(1, len(low) // 2 + 1):
        if len(low) % size == 0 and low[:size] * (len(low) // size) == low:
            out.add(low[:size])
            break
    return {c for c in out if c}


def password_problem(password: str, *, username: str = "", email: str = "") -> str | None:
    """Why `password` cannot be used (an English sentence), or None when it can."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    cores = _cores(password)
    if len({*password}) < 4 or cores & common_passwords():
        return "This password is too common; choose one that is harder to guess."
    names = {n for n in (username.lower(), email.lower().split("@")[0]) if len(n) >= 3}
    if any(n in c for n in names for c in cores):
        return "The password must not contain your user name."
    return None


def one_time_password() -> str:
    """A random password to hand over once (16 characters from an unambiguous alphabet)."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


# ---- reading --------------------------------------------------------------------------------
def normalise_name(username: str) -> str:
    """User names are compared and stored in lower case, without surrounding spaces."""
    return unicodedata.normalize("NFKC", username or "").strip().lower()


def find(session: Session | Connection, login: str) -> User | None:
    """The user whose name or e-mail is `login` (case-insensitive)."""
    name = normalise_name(login)
    if not name:
        return None
    if isinstance(session, Connection):
        with Session(bind=session) as s:
            return find(s, login)
    return session.scalars(select(User).where(
        (User.username == name) | (User.email == name))).first()


def get(session: Session, user_id: int) -> User | None:
    """The user with this id."""
    return session.get(User, user_id)


def count(conn: Connection) -> int:
    """How many accounts exist."""
    return int(conn.execute(select(func.count()).select_from(User)).scalar_one())


USER_COLUMNS = ["id", "username", "display_name", "email", "role", "active", "sso",
                "must_change_password", "created_at", "last_sign_in_at", "locked_until"]


def users_table(conn: Connection) -> pd.DataFrame:
    """Every account (no password hashes), by user name."""
    rows = conn.execute(select(User.id, User.username, User.display_name, User.email, User.role,
                               User.active, User.oidc_subject.is_not(None),
                               User.must_change_password, User.created_at,
                               User.last_sign_in_at, User.locked_until)
                        .order_by(User.username)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=USER_COLUMNS)


# ---- changes (each with its audit row, in the caller's transaction) --------------------------
def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError("Unknown role {role}: use viewer, staff or admin.", role=role)


def create(session: Session, actor: Actor, *, username: str, role: str,
           display_name: str = "", email: str = "", password: str | None = None,
           oidc_subject: str | None = None) -> tuple[User, str | None]:
    """Add an account; returns it and, when no password was given, its one-time password
    (to be shown once: the first sign-in asks for a new one)."""
    name = normalise_name(username)
    mail = normalise_name(email) or None
    _check_role(role)
    if not USERNAME_RE.match(name):
        raise UserError("A user name is 2 to 120 letters, digits or . _ @ + - (no spaces).")
    if mail and not EMAIL_RE.match(mail):
        raise UserError("This is not an e-mail address: {email}", email=mail)
    taken = session.scalars(select(User.id).where(
        (User.username == name) | (User.username == (mail or name))
        | (User.email == name) | (User.email == (mail or name)))).first()
    if taken is not None:
        raise UserError("The user name or e-mail address is already in use.")
    otp = None
    if password is not None:
        problem = password_problem(password, username=name, email=mail or "")
        if problem:
            raise UserError(problem)
    elif oidc_subject is None:
        otp = password = one_time_password()
    user = User(username=name, email=mail, display_name=(display_name.strip() or name)[:120],
                role=role, active=True,
                password_hash=hash_password(password) if password else None,
                must_change_password=otp is not None, oidc_subject=oidc_subject,
                created_at=now(), failed_sign_ins=0, session_epoch=0)
    session.add(user)
    session.flush()
    audit.add(session, actor, "user_created", target=name,
              detail={"role": role, "email": mail, "single_sign_on": oidc_subject is not None})
    return user, otp


def _admins_left(session: Session, besides: User) -> int:
    return int(session.scalar(select(func.count()).select_from(User).where(
        User.role == "admin", User.active.is_(True), User.id != besides.id)) or 0)


def set_role(session: Session, actor: Actor, user: User, role: str) -> None:
    """Change a user's role (their sessions end); the last active admin keeps the role."""
    _check_role(role)
    if user.role == role:
        return
    if user.role == "admin" and _admins_left(session, user) == 0:
        raise UserError("{name} is the last active admin: make someone else an admin first.",
                        name=user.username)
    audit.add(session, actor, "user_role_changed", target=user.username,
              detail={"from": user.role, "to": role})
    user.role = role
    user.session_epoch += 1


def set_active(session: Session, actor: Actor, user: User, active: bool) -> None:
    """Disable (sessions end at once) or enable an account; the last admin stays active."""
    if user.active == active:
        return
    if not active and user.role == "admin" and _admins_left(session, user) == 0:
        raise UserError("{name} is the last active admin: make someone else an admin first.",
                        name=user.username)
    user.active = active
    user.session_epoch += 1
    if active:
        user.failed_sign_ins, user.locked_until = 0, None
    audit.add(session, actor, "user_enabled" if active else "user_disabled",
              target=user.username)


def reset_password(session: Session, actor: Actor, user: User) -> str:
    """Give a user a new one-time password (returned, to be shown once); sessions end and
    the lock-out is lifted."""
    otp = one_time_password()
    user.password_hash = hash_password(otp)
    user.must_change_password = True
    user.session_epoch += 1
    user.failed_sign_ins, user.locked_until = 0, None
    audit.add(session, actor, "password_reset", target=user.username)
    return otp


def change_password(session: Session, actor: Actor, user: User, current: str,
                    new: str) -> None:
    """A user's own change: the current password must match, the new one pass the rules."""
    if not verify_password(user.password_hash, current):
        audit.add(session, actor, "password_changed", target=user.username, outcome="denied",
                  detail={"reason": "current password wrong"})
        raise UserError("The current password is not right.")
    if current == new:
        raise UserError("Choose a password different from the current one.")
    problem = password_problem(new, username=user.username, email=user.email or "")
    if problem:
        raise UserError(problem)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.session_epoch += 1
    audit.add(session, actor, "password_changed", target=user.username)


# ---- signing in -----------------------------------------------------------------------------
@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: `user` when it succeeded; otherwise `reason` is
    'bad' (name or password wrong), 'locked' (until `locked_until`, UTC) or 'disabled'."""

    user: User | None
    reason: str = "ok"
    locked_until: dt.datetime | None = None


def authenticate(engine: Engine, login: str, password: str, *, address: str | None,
                 max_failures: int, lock_minutes: float) -> SignIn:
    """Check a name and password, count failures, lock an account after `max_failures` in a
    row for `lock_minutes`; every attempt leaves an audit row."""
    with Session(engine, expire_on_commit=False) as s, s.begin():
        user = find(s, login)
        who = Actor(user.username if user else normalise_name(login)[:120] or "anonymous",
                    user.id if user else None, address)
        t = now()
        if user is not None and user.locked_until is not None and user.locked_until > t:
            verify_password(None, password)  # same cost as any other answer
            audit.add(s, who, "sign_in_failed", target=user.username, outcome="denied",
                      detail={"reason": "locked", "until": user.locked_until.isoformat()})
            return SignIn(None, "locked", user.locked_until)
        ok = verify_password(user.password_hash if user else None, password)
        if user is None or not ok:
            if user is not None:
                user.failed_sign_ins = (user.failed_sign_ins or 0) + 1
                if user.failed_sign_ins >= max_failures:
                    user.locked_until = t + dt.timedelta(minutes=lock_minutes)
                    user.failed_sign_ins = 0
                    audit.add(s, who, "locked_out", target=user.username, outcome="denied",
                              detail={"until": user.locked_until.isoformat(),
                                      "failures": max_failures})
                    audit.add(s, who, "sign_in_failed", target=user.username,
                              outcome="denied", detail={"reason": "password"})
                    return SignIn(None, "locked", user.locked_until)
            audit.add(s, who, "sign_in_failed", target=who.name, outcome="denied",
                      detail={"reason": "password" if user else "unknown user"})
            return SignIn(None, "bad")
        if not user.active:
            audit.add(s, who, "sign_in_failed", target=user.username, outcome="denied",
                      detail={"reason": "disabled"})
            return SignIn(None, "disabled")
        if _hasher.check_needs_rehash(user.password_hash or ""):
            user.password_hash = hash_password(password)
        user.failed_sign_ins, user.locked_until, user.last_sign_in_at = 0, None, t
        audit.add(s, who, "sign_in", target=user.username, detail={"method": "password"})
        return SignIn(user)


def role_from_claims(claims: Mapping[str, Any], claim: str, role_map: Mapping[str, str],
                     default: str) -> str | None:
    """The highest role a set of OpenID Connect claims maps to (None: no access)."""
    raw = claims.get(claim)
    values = raw if isinstance(raw, (list, tuple)) else ([] if raw is None else [raw])
    found = {role_map[str(v)] for v in values if str(v) in role_map}
    for role in reversed(ROLES):
        if role in found:
            return role
    return default or None


def parse_role_map(text: str) -> dict[str, str]:
    """'eujc-admins=admin, eujc-staff=staff' -> {'eujc-admins': 'admin', ...}."""
    out: dict[str, str] = {}
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        group, _, role = part.rpartition("=")
        if not group or role.strip() not in ROLES:
            raise ValueError(f"OIDC_ROLE_MAP: {part!r} is not group=viewer|staff|admin")
        out[group.strip()] = role.strip()
    return out


def sign_in_oidc(engine: Engine, *, issuer: str, claims: Mapping[str, Any], role: str | None,
                 address: str | None) -> SignIn:
    """Find or make the account of a single sign-on identity and sign it in; its role follows
    the identity provider's claims at every sign-in."""
    subject = f"{issuer}|{claims.get('sub')}"
    email = normalise_name(str(claims.get("email") or ""))
    name = normalise_name(str(claims.get("preferred_username") or email
                              or f"sso-{claims.get('sub')}"))
    display = str(claims.get("name") or name)
    with Session(engine, expire_on_commit=False) as s, s.begin():
        user = s.scalars(select(User).where(User.oidc_subject == subject)).first()
        who = Actor(user.username if user else name[:120], user.id if user else None, address)
        if role is None:
            audit.add(s, who, "sign_in_failed", target=name, outcome="denied",
                      detail={"reason": "no role for these claims", "method": "oidc"})
            return SignIn(None, "norole")
        if user is None:
            if find(s, name) is not None or (email and find(s, email) is not None):
                name = f"{name}-sso-{secrets.token_hex(3)}"  # a local account has the name
            email_free = bool(email) and find(s, email) is None
            user, _ = create(s, Actor.system(), username=name, role=role,
                             display_name=display, email=email if email_free else "",
                             oidc_subject=subject)
            who = Actor(user.username, user.id, address)
        if not user.active:
            audit.add(s, who, "sign_in_failed", target=user.username, outcome="denied",
                      detail={"reason": "disabled", "method": "oidc"})
            return SignIn(None, "disabled")
        if user.role != role:
            audit.add(s, Actor.system(), "user_role_changed", target=user.username,
                      detail={"from": user.role, "to": role, "by": "identity provider"})
            user.role = role
        user.display_name = display[:120]
        user.last_sign_in_at = now()
        audit.add(s, who, "sign_in", target=user.username, detail={"method": "oidc"})
        return SignIn(user)


def ensure_first_admin(engine: Engine) -> str | None:
    """On a database without any account, make `admin` with a one-time password and return
    it (the caller prints it once); None when accounts exist."""
    with Session(engine) as s, s.begin():
        if s.scalar(select(func.count()).select_from(User)):
            return None
        _, otp = create(s, Actor.system(), username="admin", role="admin",
                        display_name="Administrator")
        return otp


# ---- command line ---------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m data_access.users", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=None)
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("create", help="add an account (prints its one-time password)")
    c.add_argument("username")
    c.add_argument("--role", choices=ROLES, default="viewer")
    c.add_argument("--email", default="")
    c.add_argument("--name", default="", help="display name")
    c.add_argument("--password-stdin", action="store_true",
                   help="read the password from standard input instead of making one")
    r = sub.add_parser("set-role", help="change an account's role")
    r.add_argument("username")
    r.add_argument("role", choices=ROLES)
    for cmd in ("disable", "enable", "reset-password"):
        sub.add_parser(cmd).add_argument("username")
    sub.add_parser("list", help="list the accounts")
    return ap


def _run(engine: Engine, args: argparse.Namespace, out: Any) -> int:
    actor = Actor.cli()
    if args.command == "list":
        with engine.connect() as conn:
            table = users_table(conn)
        out.write(table.drop(columns=["id"]).to_string(index=False) + "\n")
        return EXIT_OK
    with Session(engine) as s, s.begin():
        if args.command == "create":
            pw = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
            user, otp = create(s, actor, username=args.username, role=args.role,
                               display_name=args.name, email=args.email, password=pw)
            out.write(f"Created {user.username} ({user.role}).\n")
            if otp:
                out.write(f"One-time password (shown once; asked to change at first "
                          f"sign-in): {otp}\n")
            return EXIT_OK
        user = find(s, args.username)
        if user is None:
            raise UserError("No such user: {name}", name=args.username)
        if args.command == "set-role":
            set_role(s, actor, user, args.role)
            out.write(f"{user.username} is now {args.role}.\n")
        elif args.command in ("disable", "enable"):
            set_active(s, actor, user, args.command == "enable")
            out.write(f"{user.username} is {'enabled' if user.active else 'disabled'}.\n")
        else:
            otp = reset_password(s, actor, user)
            out.write(f"New one-time password for {user.username} (shown once): {otp}\n")
    return EXIT_OK


def main(argv: Sequence[str] | None = None, out: Any = None) -> int:
    """Command line entry point; returns the exit status."""
    from data_access.db import make_engine, upgrade_schema
    from data_access.settings import Settings

    out = out or sys.stdout
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code else EXIT_OK
    url = args.database_url or os.environ.get("DATABASE_URL") or Settings().DATABASE_URL
    engine = make_engine(url)
    try:
        upgrade_schema(engine)
        return _run(engine, args, out)
    except UserError as exc:
        sys.stderr.write(f"{exc}\n")
        return EXIT_REFUSED
    finally:
        engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
