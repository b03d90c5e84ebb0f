"""Sign-in, sign-out, the home page by role, and the language switch."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from service.store import web_sessions
from service.store.api_keys import authenticate
from service.web.deps import SESSION_TOKEN_KEY, DbDep, FormDep, OptionalUserDep
from service.web.i18n import LANGUAGES
from service.web.rendering import LANG_SESSION_KEY, flash, redirect, render, safe_next
from service.web.security import web_clock

router = APIRouter(include_in_schema=False)

HOME_BY_ROLE = {"hr": "/vacancies", "school": "/programs", "admin": "/admin"}


@router.get("/")
def home(request: Request, user: OptionalUserDep) -> Response:
    """The sign-in page, or the signed-in user's home page."""
    if user is not None:
        return redirect(HOME_BY_ROLE.get(user.role, "/"))
    return render(request, "signin.html", {"errors": {}})


@router.post("/signin")
def sign_in(request: Request, db: DbDep, form: FormDep) -> Response:
    """Check the API key; on success start a server-side session and keep only its random token in the
    cookie."""
    key = str(form.get("api_key") or "").strip()
    errors: dict[str, str] = {}
    user = None
    if not key:
        errors["api_key"] = "signin.empty"
    else:
        user = authenticate(session=db, token=key)
        if user is None:
            errors["api_key"] = "signin.wrong"
    if user is None:
        # The key itself is never echoed back into the page.
        return render(request, "signin.html", {"errors": errors}, status_code=401)
    settings = request.app.state.settings
    web_sessions.end(session=db, token=request.session.get(SESSION_TOKEN_KEY))  # a session being replaced
    token = web_sessions.start(
        session=db,
        key_id=user.key_id,
        now=web_clock(request),
        lifetime=timedelta(hours=settings.session_lifetime_hours),
    )
    db.commit()
    _fresh_cookie(request)  # a fresh cookie (and CSRF token) for the signed-in user
    request.session[SESSION_TOKEN_KEY] = token
    return redirect(HOME_BY_ROLE.get(user.role, "/"))


@router.post("/signout")
def sign_out(request: Request, db: DbDep, form: FormDep) -> Response:
    """End the server-side session: a copy of the cookie no longer signs anyone in."""
    web_sessions.end(session=db, token=request.session.get(SESSION_TOKEN_KEY))
    db.commit()
    _fresh_cookie(request)
    flash(request, "signin.signed_out")
    return redirect("/")


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str = "/") -> Response:
    """Remember the language for this session and go back to the page."""
    if code in LANGUAGES:
        request.session[LANG_SESSION_KEY] = code
    return redirect(safe_next(next))


def _fresh_cookie(request: Request) -> None:
    """Empty the cookie's session but keep the chosen language."""
    lang = request.session.get(LANG_SESSION_KEY)
    request.session.clear()
    if lang:
        request.session[LANG_SESSION_KEY] = lang
