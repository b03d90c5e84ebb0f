"""Template rendering: one Jinja2 environment, the language of the session, flash messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from service.web import charts
from service.web.i18n import DEFAULT_LANGUAGE, Translator, normalise_language
from service.web.security import CSRF_FIELD, csrf_token

TEMPLATE_DIR = Path(__file__).with_name("templates")
STATIC_DIR = Path(__file__).with_name("static")
LANG_SESSION_KEY = "lang"
FLASH_SESSION_KEY = "flash"

templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
templates.env.globals.update(
    score_bar=charts.score_bar,
    percent=charts.percent,
    CSRF_FIELD=CSRF_FIELD,
)


def language(request: Request) -> str:
    """The session's language; a ``?lang=`` query overrides it for one page."""
    override = request.query_params.get("lang")
    if override:
        return normalise_language(override)
    value = request.session.get(LANG_SESSION_KEY) if "session" in request.scope else None
    return normalise_language(value) if value else DEFAULT_LANGUAGE


def translator(request: Request) -> Translator:
    return Translator(language(request))


def flash(request: Request, key: str, kind: str = "info", **values: Any) -> None:
    """Queue a message for the next page (stored as a key so it shows in that page's language)."""
    queue = list(request.session.get(FLASH_SESSION_KEY, []))
    queue.append({"key": key, "kind": kind, "values": {k: str(v) for k, v in values.items()}})
    request.session[FLASH_SESSION_KEY] = queue[-5:]


def _pop_flashes(request: Request, t: Translator) -> list[dict[str, str]]:
    if "session" not in request.scope:
        return []
    queue = request.session.pop(FLASH_SESSION_KEY, [])
    return [
        {"kind": item.get("kind", "info"), "text": t(item["key"], **item.get("values", {}))} for item in queue
    ]


def safe_next(target: str | None, default: str = "/") -> str:
    """A same-site path to go back to; anything else (``//evil``, ``https://``) becomes ``default``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    user: Any = None,
) -> HTMLResponse:
    t = translator(request)
    has_session = "session" in request.scope
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    base: dict[str, Any] = {
        "t": t,
        "lang": t.lang,
        "html_lang": t.html_lang,
        "user": user if user is not None else getattr(request.state, "web_user", None),
        "csrf_token": csrf_token(request) if has_session else "",
        "flashes": _pop_flashes(request, t),
        "path": request.url.path,
        "other_lang": "en" if t.lang == "zh" else "zh",
        "here_quoted": quote(here, safe=""),
    }
    base.update(context or {})
    return templates.TemplateResponse(request, name, base, status_code=status_code)


def redirect(path: str) -> RedirectResponse:
    """After a successful POST: see the result with GET (303)."""
    return RedirectResponse(path, status_code=303)
