"""Configuration read from environment variables, in one place."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE = ROOT / "instance" / "dashboard.sqlite"
ROLES = ("viewer", "staff", "admin")  # each may do all the one before it may
READ_ACCESS_MODES = ("signed-in", "public")
# Keys that must never protect a real deployment: a placeholder, or too short to resist a
# brute force of the session signature.
PLACEHOLDER_KEYS = frozenset({"", "dev-not-secret", "change-me", "changeme", "secret"})
MIN_SECRET_KEY_LENGTH = 32


class ConfigError(RuntimeError):
    """The configuration cannot be used (the message says what to set)."""


@dataclass(frozen=True)
class Settings:
    """Everything the app can be configured with; `from_env` reads the environment."""

    DATABASE_URL: str = f"sqlite:///{DEFAULT_SQLITE}"
    REDIS_URL: str = ""
    CACHE_TIMEOUT: int = 3600
    LOAD_DEMO_IF_EMPTY: bool = True
    MAX_UPLOAD_MB: int = 50
    MAX_IMPORT_ROWS: int = 2_000_000
    # Uploads wait here until confirmed (default instance/uploads); at most this many per
    # account (the oldest go) and this much in all (new uploads are refused when full).
    UPLOAD_DIR: str = ""
    STAGED_PER_USER: int = 3
    STAGED_TOTAL_MB: int = 1000
    # Checks and imports run as background processes: at most this many at once (the rest
    # wait), each with this much memory and time.
    JOBS_MAX_RUNNING: int = 2
    JOB_MEMORY_MB: int = 3072
    JOB_TIMEOUT_MINUTES: float = 60
    # "production" (default) refuses to start without a real SECRET_KEY; "development"
    # (what `./dev run` sets) makes and keeps one in instance/ when none is given.
    DASHBOARD_ENV: str = "production"
    SECRET_KEY: str = ""
    # Who may read the analysis pages: "signed-in" users only, or "public" (anonymous
    # visitors are viewers). Writing always needs a signed-in staff member.
    READ_ACCESS: str = "signed-in"
    SESSION_IDLE_MINUTES: float = 480  # a session ends after this long without a request
    SESSION_COOKIE_NAME: str = "eujc_session"
    LOGIN_MAX_FAILURES: int = 5  # failed sign-ins in a row that lock an account ...
    LOGIN_LOCK_MINUTES: float = 15  # ... for this long
    LOGIN_RATE_PER_ADDRESS: str = "30 per 10 minutes"  # sign-in attempts (Flask-Limiter)
    LOGIN_RATE_PER_ACCOUNT: str = "20 per hour"
    # Single sign-on by OpenID Connect: on when OIDC_ISSUER and OIDC_CLIENT_ID are set.
    OIDC_ISSUER: str = ""
    OIDC_CLIENT_ID: str = ""
    OIDC_CLIENT_SECRET: str = ""
    OIDC_SCOPES: str = "openid email profile"
    OIDC_LABEL: str = "Single sign-on"  # the button's text
    OIDC_ROLE_CLAIM: str = "groups"  # claim holding a group/role name or a list of them
    # "group=role" pairs, comma-separated, e.g. "eujc-admins=admin,eujc-staff=staff"
    OIDC_ROLE_MAP: str = ""
    OIDC_DEFAULT_ROLE: str = "viewer"  # role when no mapped group matches ("" refuses)
    # The address the dashboard is reached at (https://dashboard.example.org): permalinks and
    # sign-in redirects use it, never the Host header; https here makes cookies Secure.
    PUBLIC_URL: str = ""
    PROXY_FIX: int = 0  # number of trusted reverse proxies in front (X-Forwarded-*)
    AUDIT_RETENTION_DAYS: int = 0  # 0: keep every audit row
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, overrides: dict[str, Any] | None = None) -> Settings:
        """Build settings from the environment, then apply `overrides` (used by tests)."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra" or f.name not in os.environ:
                continue
            raw = os.environ[f.name]
            if f.type in ("bool", bool):
                values[f.name] = raw.strip().lower() in ("1", "true", "yes", "on")
            elif f.type in ("int", int):
                values[f.name] = int(raw)
            elif f.type in ("float", float):
                values[f.name] = float(raw)
            else:
                values[f.name] = raw
        s = cls(**values)
        if overrides:
            known = {f.name for f in fields(cls)}
            extra = {k: v for k, v in overrides.items() if k not in known}
            s = replace(s, **{k: v for k, v in overrides.items() if k in known},
                        extra={**s.extra, **extra})
        return s

    @property
    def development(self) -> bool:
        """True in development mode (`DASHBOARD_ENV=development`)."""
        return self.DASHBOARD_ENV.strip().lower() in ("development", "dev")

    @property
    def max_request_bytes(self) -> int:
        """The largest request body accepted (MAX_CONTENT_LENGTH): two files of the upload
        limit (a CORDIS project and organisation file) and the form around them."""
        return 2 * self.MAX_UPLOAD_MB * 1024 * 1024 + 1024 * 1024

    @property
    def https(self) -> bool:
        """True when the dashboard is served over HTTPS (PUBLIC_URL says so)."""
        return self.PUBLIC_URL.lower().startswith("https://")

    @property
    def oidc_enabled(self) -> bool:
        """True when single sign-on is configured."""
        return bool(self.OIDC_ISSUER and self.OIDC_CLIENT_ID)

    def checked(self) -> Settings:
        """These settings with a usable SECRET_KEY, or ConfigError saying what to set."""
        if self.READ_ACCESS not in READ_ACCESS_MODES:
            raise ConfigError(f"READ_ACCESS must be one of {', '.join(READ_ACCESS_MODES)} "
                              f"(got {self.READ_ACCESS!r})")
        if self.OIDC_DEFAULT_ROLE not in ("", *ROLES):
            raise ConfigError(f"OIDC_DEFAULT_ROLE must be empty or one of {', '.join(ROLES)}")
        key = self.SECRET_KEY
        weak = key in PLACEHOLDER_KEYS or len(key) < MIN_SECRET_KEY_LENGTH
        if not weak:
            return self
        if not self.development:
            raise ConfigError(
                "SECRET_KEY is not set (or is a placeholder, or shorter than "
                f"{MIN_SECRET_KEY_LENGTH} characters): sessions could be forged. Set it to a "
                "long random value, e.g. "
                "SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))'), "
                "or run in development mode with DASHBOARD_ENV=development (./dev run does).")
        return replace(self, SECRET_KEY=development_key())


def development_key() -> str:
    """A random key kept in instance/.secret_key, so development sessions survive restarts."""
    path = ROOT / "instance" / ".secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        key = path.read_text().strip()
        if len(key) >= MIN_SECRET_KEY_LENGTH:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
