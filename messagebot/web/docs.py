"""GET /docs: Swagger UI over /openapi.json, every file of it served by the app itself.

quart-schema's own /docs page loads Swagger UI from a CDN and starts it with an inline script, so
it is blank without a network and needs a loose Content-Security-Policy. This page takes Swagger
UI's files from the swagger-ui-bundle-v2 package (Swagger UI 5, which reads OpenAPI 3.1) and its
start-up code from static/docs.js: nothing inline, nothing from elsewhere.
"""

from __future__ import annotations

from quart import Blueprint, Response, abort, render_template, send_from_directory
from quart_schema import hide
from swagger_ui_bundle import swagger_ui_path

bp = Blueprint("docs", __name__)

# The files of the bundle the page uses; nothing else in its folder is served.
ASSETS = frozenset({"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"})
DOCS_HEADERS = {
    # Swagger UI sets styles through the DOM (allowed), draws its icons from data: URIs, and
    # fetches /openapi.json and, with "Try it out", the API: all on this origin.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
}


@bp.get("/docs")
@hide
async def swagger_ui() -> tuple[str, dict[str, str]]:
    return await render_template("docs.html"), DOCS_HEADERS


@bp.get("/docs/assets/<name>")
@hide
async def asset(name: str) -> Response:
    if name not in ASSETS:
        abort(404)
    return await send_from_directory(str(swagger_ui_path), name)
