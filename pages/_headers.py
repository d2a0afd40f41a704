"""Security headers on every response, and nothing that advertises versions.

Flask-Talisman sets the Content-Security-Policy, `X-Frame-Options: DENY` (and CSP
`frame-ancestors 'none'`), `X-Content-Type-Options: nosniff`, `Referrer-Policy`, a
Permissions-Policy, and HSTS on requests that arrived over HTTPS.

What the policy allows, and why:

- `script-src 'self'` plus the hashes of Dash's inline scripts (`app.csp_hashes()`: the
  renderer start-up line): no other inline script, no `eval`.
- `style-src 'self' 'unsafe-inline'`: plotly.js writes `<style>` elements and inline style
  attributes as it draws (fonts, modebar, hover labels), and Dash components set inline
  styles; without it charts render unstyled. Styles cannot run code.
- `img-src 'self' data: blob:`: plotly.js draws modebar icons and legend/image layers as
  data URIs, and its camera button saves a PNG through a blob/data URL.
- `connect-src 'self'`, `font-src 'self' data:`, `object-src 'none'`, `base-uri 'self'`,
  `form-action 'self'` (and the identity provider, where single sign-on posts back).

Versions: Dash puts the Python, Dash and plotly versions into the page's `_dash-config` and
the package versions into script file names; `DashboardDash` (app.py) leaves them out and
replaces the versions in file names with an opaque tag. The `Server` header says
"dashboard" (gunicorn.conf.py; `python app.py` uses `QuietHandler`).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask_talisman import Talisman
from werkzeug.serving import WSGIRequestHandler

from data_access.settings import Settings

SERVER_NAME = "dashboard"
VERSION_KEYS = ("dash_version", "python_version", "dash_version_url", "ddk_version",
                "plotly_version")
_FINGERPRINT = re.compile(r"\.(v[\w-]+m[0-9a-fA-F]+)\.")
_VERSION_QUERY = re.compile(r"\?v=([\w.-]+)")


def csp(script_hashes: list[str], settings: Settings) -> dict[str, Any]:
    """The Content-Security-Policy (see the module docstring for each relaxation)."""
    form_action = ["'self'"]
    if settings.oidc_enabled:
        issuer = urlsplit(settings.OIDC_ISSUER)
        form_action.append(f"{issuer.scheme}://{issuer.netloc}")
    return {
        "default-src": "'self'",
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": form_action,
        "frame-ancestors": "'none'",
    }


def install(server: Flask, script_hashes: list[str], settings: Settings) -> None:
    """Security headers on every response of `server`."""
    Talisman(
        server,
        force_https=False,  # TLS ends at the reverse proxy; PROXY_FIX makes HSTS apply
        frame_options="DENY",
        content_security_policy=csp(script_hashes, settings),
        strict_transport_security=True,  # sent only on requests that came over HTTPS
        strict_transport_security_max_age=31536000,
        referrer_policy="strict-origin-when-cross-origin",
        permissions_policy={"camera": "()", "microphone": "()", "geolocation": "()",
                            "payment": "()", "usb": "()"},
        session_cookie_secure=settings.https,
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        x_content_type_options=True,
    )


def opaque_fingerprints(html: str) -> str:
    """Script and stylesheet names without package versions: `react.v3_2_0m123.min.js`
    becomes `react.v<tag>m123.min.js` (Dash reads any tag; the tag is a hash of the version,
    so a new version still gets a new address and caches stay correct)."""
    def repl(m: re.Match[str]) -> str:
        seg = m.group(1)
        cut = seg.rindex("m")
        tag = hashlib.sha256(seg[1:cut].encode()).hexdigest()[:10]
        return f".v{tag}{seg[cut:]}."

    def tag(m: re.Match[str]) -> str:
        return "?v=" + hashlib.sha256(m.group(1).encode()).hexdigest()[:10]

    return _VERSION_QUERY.sub(tag, _FINGERPRINT.sub(repl, html))


class QuietHandler(WSGIRequestHandler):
    """The development server's request handler without its version banner."""

    server_version = SERVER_NAME
    sys_version = ""
