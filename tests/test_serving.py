"""How the app is served: gunicorn's settings (gunicorn.conf.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_loaded_app_is_frozen_before_the_workers_are_forked() -> None:
    """gunicorn's `when_ready` (after the preloaded app is built, before the fork) moves the
    app's objects out of the collector's reach: a worker's full collection does not walk the
    whole app (a ~60 ms pause on about one request in forty)."""
    code = ("import gc, runpy; cfg = runpy.run_path('gunicorn.conf.py'); "
            "before = gc.get_freeze_count(); cfg['when_ready'](None); "
            "print(before, gc.get_freeze_count())")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True,
                         env={**os.environ, "DASHBOARD_NO_AUTOAPP": "1"}).stdout.split()
    before, after = int(out[0]), int(out[1])
    assert before == 0
    assert after > 10_000  # the imported app: tens of thousands of objects
