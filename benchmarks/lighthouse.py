"""Lighthouse scores of every page (performance, accessibility, best practices), desktop and
mobile presets, against the issue's targets. A script that prints figures, not a test.

    .venv/bin/python -m benchmarks.lighthouse                 # every page, both presets
    .venv/bin/python -m benchmarks.lighthouse --pages / /helpdesks --preset desktop
    .venv/bin/python -m benchmarks.lighthouse --lang ja

It serves the dashboard with gunicorn (gunicorn.conf.py, as in production, READ_ACCESS=public
so Lighthouse reads the pages as an anonymous visitor of a public statistics page) on a
database with demo data in benchmarks/out/, and runs the npm package `lighthouse`, pinned to
12.2.3 in tools/lighthouse/package.json (the last release that runs on this machine's
Node 20; `npm ci --prefix tools/lighthouse` once), against the system Chromium. Each page is
measured `--runs` times (default 3) and the median score is reported; the JSON reports stay in
benchmarks/out/lighthouse/.

Targets (issues 16 and 18): accessibility 100, best practices ≥ 95, performance ≥ 90
(desktop) and ≥ 75 (mobile).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.run import OUT, ROOT, Server, log

LH_DIR = ROOT / "tools" / "lighthouse"
LH_BIN = LH_DIR / "node_modules" / ".bin" / "lighthouse"
PAGES = ("/", "/programmes", "/helpdesks", "/techtransfer", "/research", "/epa", "/about")
TARGETS = {"accessibility": 100, "best-practices": 95, "performance": {"desktop": 90,
                                                                     "mobile": 75}}
CHROME_FLAGS = ("--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage "
                "--disable-background-networking --disable-component-update --disable-sync "
                "--no-first-run")


def ensure_lighthouse() -> Path:
    """The pinned Lighthouse, installed from the npm registry the first time."""
    if not LH_BIN.exists():
        if not shutil.which("npm"):
            raise SystemExit("npm is needed to install Lighthouse (tools/lighthouse)")
        log("installing lighthouse 12.2.3 (npm) ...")
        subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=LH_DIR, check=True)
    return LH_BIN


def demo_database() -> str:
    """A SQLite database with the demo data (built once)."""
    path = OUT / "lighthouse-demo.sqlite"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        log("building the demo database ...")
        subprocess.run([sys.executable, "-m", "data_access.demo", "--until", "2026-09-30",
                        "--database-url", f"sqlite:///{path}"], cwd=ROOT, check=True,
                       env={**os.environ, "DASHBOARD_NO_AUTOAPP": "1"},
                       stdout=subprocess.DEVNULL)
    return f"sqlite:///{path}"


def audit_page(lh: Path, url: str, preset: str, out: Path) -> dict[str, float]:
    """One Lighthouse run: each category's score (0–100)."""
    cmd = [str(lh), url, "--quiet", "--output=json", f"--output-path={out}",
           "--only-categories=performance,accessibility,best-practices",
           f"--chrome-flags={CHROME_FLAGS}", "--max-wait-for-load=60000"]
    if preset == "desktop":
        cmd.append("--preset=desktop")
    env = {**os.environ, "CHROME_PATH": os.environ.get("BROWSER_PATH", "/usr/bin/chromium")}
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=300)
    report = json.loads(out.read_text())
    return {k: round(100 * (v["score"] or 0)) for k, v in report["categories"].items()}


def target(category: str, preset: str) -> float:
    """The target score of a category for a preset."""
    t = TARGETS[category]
    return t[preset] if isinstance(t, dict) else t


def main(argv: list[str] | None = None) -> int:
    """Run the measurements and print the table; exit 1 when a target is missed."""
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", nargs="*", default=list(PAGES))
    ap.add_argument("--preset", choices=("desktop", "mobile", "both"), default="both")
    ap.add_argument("--lang", choices=("en", "ja"), default="en")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    lh = ensure_lighthouse()
    presets = ("desktop", "mobile") if args.preset == "both" else (args.preset,)
    folder = OUT / "lighthouse"
    folder.mkdir(parents=True, exist_ok=True)
    server = Server("app:server", demo_database(), "lighthouse")
    rows: list[tuple[str, str, dict[str, float]]] = []
    try:
        for path in args.pages:
            for preset in presets:
                sep = "&" if "?" in path else "?"
                url = f"{server.base}{path}{sep}lang={args.lang}"
                runs = []
                for i in range(args.runs):
                    name = (path.strip("/") or "overview").replace("/", "_")
                    runs.append(audit_page(lh, url, preset,
                                           folder / f"{name}-{preset}-{args.lang}-{i}.json"))
                med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                rows.append((path, preset, med))
                log(f"{path} {preset}: {med}")
    finally:
        server.stop()
    cats = ("performance", "accessibility", "best-practices")
    print(f"\nLighthouse 12.2.3, {args.lang}, median of {args.runs} runs per page "
          "(target in brackets)\n")
    print("| page | preset | " + " | ".join(cats) + " |")
    print("|---|---|" + "---|" * len(cats))
    missed = 0
    for path, preset, med in rows:
        cells = []
        for c in cats:
            ok = med[c] >= target(c, preset)
            missed += not ok
            cells.append(f"{med[c]:.0f} ({target(c, preset)}){'' if ok else ' MISSED'}")
        print(f"| {path} | {preset} | " + " | ".join(cells) + " |")
    print(f"\n{missed} of {len(rows) * len(cats)} figures miss their target")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
