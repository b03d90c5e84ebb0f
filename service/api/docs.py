"""The interactive API docs (``/docs``) from Swagger UI's files installed with the ``swagger-ui-py`` package
(Apache-2.0; its licence is served beside them), never from a CDN: the docs work offline, and the page runs
under a content security policy allowing only same-origin scripts and styles (no inline script).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

DOCS_PATH = "/docs"
ASSETS_PATH = f"{DOCS_PATH}/assets"
INIT_PATH = f"{DOCS_PATH}/init.js"
SWAGGER_UI_DIR = Path(str(files("swagger_ui") / "static"))

DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
DOCS_HEADERS = {
    "content-security-policy": DOCS_CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


def docs_html(title: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} - API docs</title>
<link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
<link rel="icon" type="image/png" href="{ASSETS_PATH}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="{INIT_PATH}"></script>
</body>
</html>
"""


def init_script(openapi_url: str) -> str:
    # A file of its own, not an inline <script>: the CSP allows scripts from this origin only.
    return f"""window.ui = SwaggerUIBundle({{
  url: "{openapi_url}",
  dom_id: "#swagger-ui",
  deepLinking: true,
  layout: "BaseLayout",
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  showExtensions: true,
  showCommonExtensions: true
}});
"""


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs`` and its assets from the installed package (create the app with ``docs_url=None``)."""
    openapi_url = app.openapi_url or "/openapi.json"
    page = docs_html(app.title)
    script = init_script(openapi_url)

    @app.get(DOCS_PATH, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(page, headers=DOCS_HEADERS)

    @app.get(INIT_PATH, include_in_schema=False)
    def swagger_ui_init() -> Response:
        return Response(script, media_type="text/javascript", headers=DOCS_HEADERS)

    app.mount(ASSETS_PATH, StaticFiles(directory=SWAGGER_UI_DIR), name="docs-assets")
