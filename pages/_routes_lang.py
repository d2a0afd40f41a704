"""`/lang/<code>`: remember the interface language in a cookie and go back to the page."""

from __future__ import annotations

from typing import Any

from flask import make_response, redirect, request

from components.i18n import LANGS
from pages._routes_auth import safe_next


def register_routes(server: Any) -> None:
    """Add the language switch route to the Flask server."""

    @server.route("/lang/<code>")
    def set_language(code: str):  # noqa: ANN202
        resp = make_response(redirect(safe_next(request.args.get("next"))))  # never off-site
        if code in LANGS:
            resp.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax")
        return resp
