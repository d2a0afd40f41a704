"""How long a chart pack takes, and whether other users' pages keep responding meanwhile.

Starts the app (threaded werkzeug, as in the tests) on a temporary SQLite file with the demo
data, then prints:

- cold: the first pack of the process (includes starting Chromium), and the browser start
  alone;
- warm: packs with the renderer warm, each for filters not seen before (queries run) and
  once more for the same filters (queries cached), per chart page, with the share of the
  time spent rendering images;
- two packs requested at the same time;
- the latency of a normal page callback (a page's main "URL -> all charts" callback, for
  filters not seen before) on its own and while a pack is being built.

Run: `.venv/bin/python benchmarks/pack_benchmark.py [page ...]` (default: every chart page).
Budget (issue 5): a pack of a ~6-chart page in <= 10 s once the renderer is warm.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("DASHBOARD_NO_AUTOAPP", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402

from data_access import render as rendering  # noqa: E402

SECTORS = ("", "ict", "agrifood", "health", "manufacturing", "energy", "mobility")


def free_port() -> int:
    """A free local TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_searches() -> itertools.cycle:
    """Filter states, each new to the caches (year range x sector)."""
    combos = [(y0, y1, s) for s in SECTORS for y0 in range(2014, 2024)
              for y1 in range(y0 + 2, 2026, 3)]
    out = []
    for y0, y1, s in combos:
        q = f"?from={y0}&to={y1}" + (f"&sector={s}" if s else "")
        out.append(q)
    return iter(out)


def main(pages: list[str]) -> None:
    """Run the measurements and print them."""
    from werkzeug.serving import make_server

    from app import create_app
    from pages._charts import REGISTRY

    tmp = Path(tempfile.mkdtemp(prefix="pack-bench-"))
    t0 = time.perf_counter()
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite'}",
                      "READ_ACCESS": "public", "SECRET_KEY": secrets.token_hex(32)})
    print(f"app with demo data ready in {time.perf_counter() - t0:.1f} s")
    port = free_port()
    srv = make_server("127.0.0.1", port, app.server, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    requests.get(base + "/", timeout=60)  # Dash sets itself up on the first request
    deps = requests.get(base + "/_dash-dependencies", timeout=60).json()
    searches = fresh_searches()
    pages = pages or sorted(REGISTRY, key=lambda p: -len(REGISTRY[p]))
    print(f"CPU cores: {os.cpu_count()}; chart pages: "
          + ", ".join(f"{p} ({len(REGISTRY[p])} charts)" for p in pages))

    # time spent inside the renderer, per pack
    render_time: list[float] = []
    orig = rendering.Renderer.render

    def timed(self, jobs):  # noqa: ANN001, ANN202
        t = time.perf_counter()
        try:
            return orig(self, jobs)
        finally:
            render_time.append(time.perf_counter() - t)

    rendering.Renderer.render = timed  # type: ignore[method-assign]

    def pack(page: str, search: str) -> tuple[float, int]:
        t = time.perf_counter()
        r = requests.get(f"{base}/export/{page}/pack.zip{search}", timeout=300)
        r.raise_for_status()
        return time.perf_counter() - t, len(r.content)

    print("\n== chart pack (ZIP of PNG 2x + SVG + PDF + CSV + XLSX per chart, manifest)")
    first = pages[0]
    dt, size = pack(first, next(searches))
    print(f"cold   {first:14s} {dt:6.2f} s  (first pack: starts Chromium; {size / 1e6:.1f} MB)")
    renderer = rendering.get_renderer()
    renderer.close()
    t = time.perf_counter()
    renderer.warm()
    print(f"Chromium start alone: {time.perf_counter() - t:.2f} s (a chart page starts it in the "
          "background when it loads, so the first click usually finds it warm)")
    for page in pages:
        n = len(REGISTRY[page])
        runs, renders = [], []
        for _ in range(3):
            render_time.clear()
            s = next(searches)
            runs.append(pack(page, s)[0])
            renders.append(render_time[-1])
        render_time.clear()
        cached, _ = pack(page, s)
        print(f"warm   {page:14s} {n} charts: new filters median {statistics.median(runs):5.2f} s"
              f" (max {max(runs):.2f}; rendering {statistics.median(renders):.2f} s of it), "
              f"same filters again {cached:5.2f} s")

    two: list[float] = []

    def one(page: str, s: str) -> None:
        two.append(pack(page, s)[0])

    ths = [threading.Thread(target=one, args=(first, next(searches))) for _ in range(2)]
    t = time.perf_counter()
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    print(f"two packs of {first} at once: both done in {time.perf_counter() - t:.2f} s "
          f"(each {', '.join(f'{x:.2f}' for x in two)} s)")

    # ---- latency of a normal page callback ----------------------------------------------
    page = first
    keys = [s.key for s in REGISTRY[page]]
    dep = next(d for d in deps if f'"page":"{page}","type":"chart"}}.figure' in d["output"])

    def callback(search: str) -> float:
        body = {
            "output": dep["output"],
            "outputs": [
                [{"id": {"key": k, "page": page, "type": "chart"}, "property": "figure"}
                 for k in keys],
                {"id": {"page": page, "type": "chips"}, "property": "children"},
                {"id": {"page": page, "type": "asof"}, "property": "children"},
            ],
            "inputs": [{"id": "url", "property": "search", "value": search}],
            "changedPropIds": ["url.search"],
            "state": [[{"id": {"key": k, "page": page, "type": "chart"}, "property": "id",
                        "value": {"key": k, "page": page, "type": "chart"}} for k in keys]],
        }
        t = time.perf_counter()
        r = requests.post(base + "/_dash-update-component", data=json.dumps(body),
                          headers={"Content-Type": "application/json"}, timeout=60)
        r.raise_for_status()
        assert "figure" in r.text
        return time.perf_counter() - t

    print(f"\n== page callback latency ({page}: URL -> {len(keys)} figures + tables, "
          "filters new to the cache)")
    alone = [callback(next(searches)) for _ in range(8)]
    print(f"alone                 median {statistics.median(alone) * 1000:6.0f} ms, "
          f"max {max(alone) * 1000:6.0f} ms  (n={len(alone)})")

    during: list[float] = []
    done = threading.Event()
    pack_time: list[float] = []

    def background_pack() -> None:
        pack_time.append(pack(page, next(searches))[0])
        done.set()

    threading.Thread(target=background_pack).start()
    time.sleep(0.05)
    while not done.is_set():
        during.append(callback(next(searches)))
    print(f"while a pack is built median {statistics.median(during) * 1000:6.0f} ms, "
          f"max {max(during) * 1000:6.0f} ms  (n={len(during)}; the pack took "
          f"{pack_time[0]:.2f} s)")
    srv.shutdown()


if __name__ == "__main__":
    main(sys.argv[1:])
