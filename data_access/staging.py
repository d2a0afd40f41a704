"""Where uploads wait until they are confirmed: one folder per upload (a random token) under
UPLOAD_DIR (default instance/uploads), holding the files as they arrived, `meta.json` (family,
original names, who uploaded it, encoding) and, once checked, the problem list.

Files arrive as streams and are copied to disk in chunks, counting bytes as they go: an
upload over the limit is cut off and removed at once, never held in memory. Each account
keeps at most STAGED_PER_USER uploads (the oldest go); when everything staged passes
STAGED_TOTAL_MB, new uploads are refused until some are confirmed, cancelled or expire
(STALE_SECONDS; swept at start and with every new upload). Several gunicorn workers and the
background job processes on one host see the same folders.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from data_access.settings import ROOT, Settings

TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")
STALE_SECONDS = 24 * 3600
CHUNK = 1024 * 1024


class StagingError(ValueError):
    """An upload that cannot be staged; `template` and `fmt` make the translated message."""

    def __init__(self, template: str, **fmt: object) -> None:
        super().__init__(template.format(**fmt) if fmt else template)
        self.template = template
        self.fmt = fmt


@dataclass(frozen=True)
class Area:
    """The staging folder and its limits."""

    root: Path
    max_file_bytes: int
    per_user: int
    total_bytes: int

    @classmethod
    def from_settings(cls, s: Settings) -> Area:
        """The area a running app is configured with."""
        root = Path(s.UPLOAD_DIR) if s.UPLOAD_DIR else ROOT / "instance" / "uploads"
        root.mkdir(parents=True, exist_ok=True)
        return cls(root, s.MAX_UPLOAD_MB * 1024 * 1024, s.STAGED_PER_USER,
                   s.STAGED_TOTAL_MB * 1024 * 1024)

    # ---- reading -----------------------------------------------------------------------------
    def folder(self, token: object) -> Path | None:
        """The folder of a staged upload (None for a malformed or unknown token)."""
        if not isinstance(token, str) or not TOKEN_RE.match(token):
            return None
        d = self.root / token
        return d if d.is_dir() else None

    def meta(self, token: object) -> dict[str, Any] | None:
        """An upload's metadata (family, names, owner, encoding), without its files."""
        d = self.folder(token)
        if d is None:
            return None
        try:
            return json.loads((d / "meta.json").read_text())
        except (OSError, ValueError):
            return None

    def paths(self, token: object) -> list[tuple[str, Path]] | None:
        """(original name, path on disk) of each staged file; None when gone."""
        d, meta = self.folder(token), self.meta(token)
        if d is None or meta is None:
            return None
        out = [(name, d / f"{i}.bin") for i, name in enumerate(meta.get("names", []))]
        return out if all(p.is_file() for _, p in out) else None

    def used_bytes(self) -> int:
        """Bytes staged in all."""
        return sum(f.stat().st_size for f in self.root.glob("*/*.bin") if f.is_file())

    # ---- writing -----------------------------------------------------------------------------
    def stage(self, files: Iterable[tuple[str, IO[bytes]]], *, family: str, owner: str,
              encoding: str = "auto") -> str:
        """Copy uploaded streams to a new folder; returns its token. Raises StagingError
        (and keeps nothing) for a file over the limit or a full area."""
        self.sweep()
        self._make_room(owner)
        token = uuid.uuid4().hex
        d = self.root / token
        d.mkdir(parents=True)
        names: list[str] = []
        try:
            for i, (name, stream) in enumerate(files):
                clean = Path(name or "").name[:200] or f"upload-{i}"
                self._copy(stream, d / f"{i}.bin", clean)
                names.append(clean)
            if not names:
                raise StagingError("Choose a file to upload.")
        except BaseException:
            shutil.rmtree(d, ignore_errors=True)
            raise
        self.write_meta(token, {"family": family, "names": names, "owner": owner,
                                "encoding": encoding, "staged_at": time.time()})
        return token

    def _copy(self, stream: IO[bytes], path: Path, name: str) -> None:
        size = 0
        with open(path, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > self.max_file_bytes:
                    raise StagingError("{name} is larger than {mb} MB, the most a file may be.",
                                       name=name, mb=self.max_file_bytes // (1024 * 1024))
                out.write(chunk)

    def _make_room(self, owner: str) -> None:
        mine = sorted((d for d in self.root.iterdir() if d.is_dir() and TOKEN_RE.match(d.name)
                       and (self.meta(d.name) or {}).get("owner") == owner),
                      key=lambda d: d.stat().st_mtime)
        for d in mine[:max(0, len(mine) - self.per_user + 1)]:
            shutil.rmtree(d, ignore_errors=True)
        if self.used_bytes() >= self.total_bytes:
            raise StagingError("The upload area is full. Try again later, or confirm or cancel "
                               "the uploads that are waiting.")

    def write_meta(self, token: str, meta: dict[str, Any]) -> None:
        """Replace an upload's metadata (atomically)."""
        d = self.folder(token)
        if d is None:
            return
        tmp = d / "meta.json.tmp"
        tmp.write_text(json.dumps(meta))
        tmp.replace(d / "meta.json")

    def set_family(self, token: str, family: str, encoding: str | None = None) -> None:
        """Record the family (and encoding) the staged files are to be checked as."""
        meta = self.meta(token)
        if meta is not None:
            meta["family"] = family
            if encoding:
                meta["encoding"] = encoding
            self.write_meta(token, meta)

    def forget_files(self, token: str) -> None:
        """Delete the staged files but keep the folder's problem list (a refused upload)."""
        d = self.folder(token)
        if d is not None:
            for f in d.glob("*.bin"):
                f.unlink(missing_ok=True)

    def save_problems(self, token: str, data: bytes) -> None:
        """Keep the full problem list (CSV bytes) for the 'download every problem' link."""
        d = self.folder(token)
        if d is not None:
            (d / "problems.csv").write_bytes(data)

    def problems(self, token: object) -> bytes | None:
        """The saved problem list of an upload, if any."""
        d = self.folder(token)
        f = d / "problems.csv" if d is not None else None
        return f.read_bytes() if f is not None and f.is_file() else None

    def drop(self, token: str) -> None:
        """Forget a staged upload (after it was committed or cancelled)."""
        d = self.folder(token)
        if d is not None:
            shutil.rmtree(d, ignore_errors=True)

    def sweep(self, max_age: float = STALE_SECONDS) -> int:
        """Remove staged uploads older than `max_age` seconds; returns how many went."""
        now, gone = time.time(), 0
        for d in self.root.iterdir():
            if d.is_dir() and TOKEN_RE.match(d.name) and now - d.stat().st_mtime > max_age:
                shutil.rmtree(d, ignore_errors=True)
                gone += 1
            elif d.is_file() and d.name.endswith(".tmp") and now - d.stat().st_mtime > 3600:
                d.unlink(missing_ok=True)
        return gone
