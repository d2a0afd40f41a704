"""Server-side static images of Plotly figures (PNG, SVG, PDF): kaleido 1.x + system Chromium.

kaleido 1.x drives a Chrome/Chromium through `choreographer`; we hand it the browser path
explicitly (`BROWSER_PATH`, as choreographer itself reads, or Debian's `/usr/bin/chromium`).
One warm browser per process serves every request thread: it lives in its own thread with its
own asyncio loop, a batch of figures is rendered concurrently on a few tabs, and the calling
thread only waits on a future (no GIL held), so other users' requests keep being served.
The browser starts on first use (or `warm()`) and closes itself after a quiet period.

This module is infrastructure like the database engine: it imports nothing of ours.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("dashboard.render")

FORMATS = ("png", "svg", "pdf")
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = ("Install the Debian packages `chromium` and `fonts-noto-cjk` "
                "(apt-get install chromium fonts-noto-cjk) or set BROWSER_PATH to a "
                "Chrome/Chromium executable.")
RETRY_AFTER_FAILURE_S = 120.0  # a browser that failed to start is not retried at every click
RELOAD_EVERY = 30  # images a tab renders before it is reloaded afresh


def _FAST_PATH_OK(k: Any) -> bool:  # noqa: N802 - reads like the constant check it is
    """Whether this kaleido has the tab internals `Renderer._one` relies on."""
    try:
        from kaleido import _fig_tools, _kaleido_tab
    except ImportError:
        return False
    return (hasattr(k, "_get_kaleido_tab") and hasattr(k, "tabs_ready")
            and hasattr(_fig_tools, "build_fig_spec")
            and hasattr(_kaleido_tab._KaleidoTab, "_calc_fig")  # noqa: SLF001
            and hasattr(_kaleido_tab._KaleidoTab, "reload"))  # noqa: SLF001


class RendererUnavailable(RuntimeError):
    """Server-side rendering cannot run (no browser, or it failed to start)."""


@dataclass(frozen=True)
class RenderStatus:
    """Can images be rendered here? `message` says what is missing when not."""

    ok: bool
    path: str | None
    message: str = ""  # what is missing and how to fix it (for admins, /export/status)
    warning: str = ""
    reason: str = ""  # the same in a few words (for the page)


@dataclass(frozen=True)
class RenderJob:
    """One image to make: a figure (plotly JSON dict), format, layout size and scale."""

    figure: Mapping[str, Any]
    format: str
    width: int
    height: int
    scale: float = 1.0


def default_browser_path() -> str | None:
    """BROWSER_PATH if set (choreographer's own variable), else a Chromium/Chrome on PATH."""
    env = os.environ.get("BROWSER_PATH", "").strip()
    if env:
        return env
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def check_browser(path: str | None) -> RenderStatus:
    """Whether `path` is an executable browser (no process is started)."""
    if not path:
        return RenderStatus(False, None, "No Chromium browser was found on this server, so "
                            "chart images (PNG, SVG, PDF) cannot be made here. " + INSTALL_HINT,
                            reason="No Chromium browser is installed on the server.")
    p = Path(path)
    if not p.is_file() or not os.access(p, os.X_OK):
        return RenderStatus(False, path, f"Chromium was not found at {path}, so chart images "
                            "(PNG, SVG, PDF) cannot be made on this server. " + INSTALL_HINT,
                            reason=f"Chromium was not found at {path}.")
    return RenderStatus(True, path, warning=_font_warning())


_font_state: dict[str, str] = {}


def _font_warning() -> str:
    """A warning when no Japanese font is installed (checked once per process)."""
    if "w" not in _font_state:
        warning = ""
        try:
            out = subprocess.run(["fc-list", ":lang=ja", "family"], capture_output=True,
                                 text=True, timeout=10).stdout
            if not out.strip():
                warning = ("No Japanese font is installed (Debian package fonts-noto-cjk): "
                           "Japanese text in images would show as empty boxes.")
        except (OSError, subprocess.SubprocessError):
            warning = ""  # fontconfig absent: nothing we can check
        _font_state["w"] = warning
        if warning:
            log.warning(warning)
    return _font_state["w"]


class Renderer:
    """A warm kaleido/Chromium shared by all threads of the process."""

    def __init__(self, path: str | None, *, tabs: int = 2, timeout: float = 60.0,
                 idle_seconds: float = 900.0) -> None:
        self.path = path
        self.tabs = max(1, tabs)
        self.timeout = timeout
        self.idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido: Any = None
        self._open_lock: asyncio.Lock | None = None
        self._watch: concurrent.futures.Future[None] | None = None
        self._busy = 0
        self._last_used = time.monotonic()
        self._failure: tuple[float, str] | None = None
        self.starts = 0  # how many times a browser was launched (for tests and benchmarks)
        self._atexit = False
        self._tab_uses: dict[int, int] = {}

    # ---- status -------------------------------------------------------------------------
    def status(self) -> RenderStatus:
        """Browser present, and not failing to start just now."""
        st = check_browser(self.path)
        if not st.ok:
            return st
        if self._failure and time.monotonic() - self._failure[0] < RETRY_AFTER_FAILURE_S:
            return RenderStatus(False, self.path, self._failure[1], st.warning,
                                reason=f"Chromium at {self.path} could not be started.")
        return st

    @property
    def is_warm(self) -> bool:
        """True while a browser is open and ready."""
        return self._kaleido is not None

    # ---- the loop thread ------------------------------------------------------------------
    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._thread is None or not self._thread.is_alive():
                loop = asyncio.new_event_loop()
                th = threading.Thread(target=_run_politely, args=(loop,),
                                      name="kaleido-renderer", daemon=True)
                th.start()
                self._loop, self._thread = loop, th
                self._watch = asyncio.run_coroutine_threadsafe(self._idle_watch(), loop)
            return self._loop

    def _submit(self, coro: Any, timeout: float) -> Any:
        loop = self._ensure_loop()
        fut = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return fut.result(timeout=timeout)
        except concurrent.futures.TimeoutError as exc:
            fut.cancel()
            asyncio.run_coroutine_threadsafe(self._close_browser(), loop)
            raise RendererUnavailable(f"Rendering took longer than {timeout:.0f} s; the "
                                      "browser was restarted. Please try again.") from exc

    async def _ensure_open(self) -> Any:
        if self._open_lock is None:
            self._open_lock = asyncio.Lock()
        async with self._open_lock:
            if self._kaleido is None:
                import kaleido  # late: importing kaleido warns about plotly versions etc.

                _quiet_loggers()
                t0 = time.perf_counter()
                k = kaleido.Kaleido(path=self.path, n=self.tabs, timeout=int(self.timeout),
                                    mathjax=False)  # no MathJax: it would come from a CDN
                await k.open()
                self._kaleido = k
                self.starts += 1
                if not self._atexit:
                    # registered now, after choreographer's temp-dir finalizers, so it runs
                    # before them at exit: the browser is gone before its profile is removed
                    atexit.register(self.close)
                    self._atexit = True
                log.info("Chromium renderer ready in %.1f s (%s, %d tabs)",
                         time.perf_counter() - t0, self.path, self.tabs)
            return self._kaleido

    async def _close_browser(self) -> None:
        k, self._kaleido = self._kaleido, None
        self._tab_uses.clear()
        if k is not None:
            try:
                await asyncio.wait_for(k.close(), 15)
            except Exception as exc:  # noqa: BLE001 - a dying browser may fail to close cleanly
                log.warning("Closing the renderer browser: %s", exc)

    async def _shutdown(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.sleep(0)  # let the cancellation land before the loop stops
        await self._close_browser()

    async def _idle_watch(self) -> None:
        while True:
            await asyncio.sleep(min(30.0, max(1.0, self.idle_seconds / 4)))
            idle = time.monotonic() - self._last_used
            if self._kaleido is not None and self._busy == 0 and idle > self.idle_seconds:
                log.info("Closing the idle renderer browser")
                await self._close_browser()

    async def _one(self, k: Any, job: RenderJob) -> bytes:
        """One image on the next free tab.

        kaleido's public `calc_fig` reloads the tab (and its 4 MB plotly.js) after every
        image, which is about 40% of the time of a pack; plotly's `toImage` purges its own
        graph, so we reuse a tab as it is and reload it only every RELOAD_EVERY images. This
        uses kaleido 1.1's tab internals (pinned in requirements.txt); if they change, we fall
        back to `calc_fig`.
        """
        opts = {"format": job.format, "width": job.width, "height": job.height,
                "scale": job.scale}
        if not _FAST_PATH_OK(k):
            return await k.calc_fig(dict(job.figure), opts=opts)
        from kaleido._fig_tools import build_fig_spec

        spec, path = build_fig_spec(dict(job.figure), None, opts)
        tab = await k._get_kaleido_tab()  # noqa: SLF001
        img, _ = await asyncio.wait_for(tab._calc_fig(spec, path), self.timeout)  # noqa: SLF001
        # only a tab that rendered cleanly goes back (after an error the browser is closed)
        uses = self._tab_uses.get(id(tab), 0) + 1
        if uses >= RELOAD_EVERY:
            await tab.reload()
            uses = 0
        self._tab_uses[id(tab)] = uses
        await k.tabs_ready.put(tab)
        return img

    async def _render(self, jobs: Sequence[RenderJob]) -> list[bytes]:
        self._busy += 1
        try:
            k = await self._ensure_open()
            return list(await asyncio.gather(*(self._one(k, j) for j in jobs)))
        except BaseException:
            # kaleido does not give a tab back after a failed render: start afresh next time
            await self._close_browser()
            raise
        finally:
            self._busy -= 1
            self._last_used = time.monotonic()

    # ---- public API -----------------------------------------------------------------------
    def warm(self, *, wait: bool = True) -> None:
        """Start the browser now (blocking unless wait=False) so the next render is fast."""
        st = self.status()
        if not st.ok:
            raise RendererUnavailable(st.message)
        loop = self._ensure_loop()
        fut = asyncio.run_coroutine_threadsafe(self._start(), loop)
        if wait:
            fut.result(timeout=self.timeout)

    async def _start(self) -> None:
        try:
            await self._ensure_open()
            self._failure = None
        except Exception as exc:
            self._failure = (time.monotonic(), f"Chromium at {self.path} could not be started "
                             f"({type(exc).__name__}: {exc}). " + INSTALL_HINT)
            raise RendererUnavailable(self._failure[1]) from exc
        finally:
            self._last_used = time.monotonic()

    def render(self, jobs: Sequence[RenderJob]) -> list[bytes]:
        """Render a batch of images concurrently; bytes in the order of `jobs`."""
        for j in jobs:
            if j.format not in FORMATS:
                raise ValueError(f"unsupported image format {j.format!r}")
        if not jobs:
            return []
        st = self.status()
        if not st.ok:
            raise RendererUnavailable(st.message)
        self._submit(self._start(), self.timeout)
        try:
            return self._submit(self._render(list(jobs)), self.timeout * 2)
        except RendererUnavailable:
            raise
        except Exception as exc:
            raise RendererUnavailable(f"The chart images could not be rendered "
                                      f"({type(exc).__name__}: {exc}).") from exc

    def close(self) -> None:
        """Close the browser and stop the loop thread."""
        loop, th = self._loop, self._thread
        if loop is None or th is None or not th.is_alive():
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=20)
        except Exception as exc:  # noqa: BLE001 - best effort at shutdown
            log.warning("Renderer shutdown: %s", exc)
        loop.call_soon_threadsafe(loop.stop)
        th.join(timeout=5)
        with self._lock:
            self._loop = self._thread = None
            self._open_lock = None


def _quiet_loggers() -> None:
    """kaleido/choreographer log every step at INFO; keep only their warnings."""
    for name in ("kaleido", "choreographer", "browser_proc", "logistro"):
        logging.getLogger(name).setLevel(logging.WARNING)


_renderers: dict[str | None, Renderer] = {}
_renderers_lock = threading.Lock()


RENDER_NICENESS = 10  # below the web workers: interactive requests come first


def _run_politely(loop: asyncio.AbstractEventLoop) -> None:
    """Run the renderer's loop at a lower CPU priority. On Linux the niceness belongs to the
    thread and is inherited by what it starts, so the headless Chromium (started when a chart
    page is opened, to have "Chart pack" ready) no longer takes the two cores from the pages'
    own requests and drawing: its start-up made a page's first filter changes 2-3x slower."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), RENDER_NICENESS)
    except (AttributeError, OSError):  # not Linux, or not allowed: run as is
        pass
    loop.run_forever()


def get_renderer(path: str | None = None) -> Renderer:
    """The process-wide renderer for a browser path (default: `default_browser_path()`)."""
    path = path or default_browser_path()
    with _renderers_lock:
        r = _renderers.get(path)
        if r is None:
            r = _renderers[path] = Renderer(path)
        return r
