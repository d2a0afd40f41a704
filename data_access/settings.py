"""Configuration read from environment variables, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE = ROOT / "instance" / "dashboard.sqlite"


@dataclass(frozen=True)
class Settings:
    """Everything the app can be configured with; `from_env` reads the environment."""

    DATABASE_URL: str = f"sqlite:///{DEFAULT_SQLITE}"
    REDIS_URL: str = ""
    CACHE_TIMEOUT: int = 3600
    LOAD_DEMO_IF_EMPTY: bool = True
    MAX_UPLOAD_MB: int = 50
    MAX_IMPORT_ROWS: int = 2_000_000
    SECRET_KEY: str = "dev-not-secret"
    DEBUG: bool = False
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
            else:
                values[f.name] = raw
        s = cls(**values)
        if overrides:
            known = {f.name for f in fields(cls)}
            extra = {k: v for k, v in overrides.items() if k not in known}
            s = replace(s, **{k: v for k, v in overrides.items() if k in known},
                        extra={**s.extra, **extra})
        return s
