"""Sign-in, sign-out, the home page by role, and the language switch."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from service.store.api_keys import authenticate
from service.web.deps import USER_SESSION_KEY, DbDep, FormDep, OptionalUserDep
from service.web.i18n import LANGUAGES
from service.web.rendering import LANG_SESSION_KEY, flash, redirect, render, safe_next

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
    """Check the API key; on success keep only its id in the signed session."""
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
    lang = request.session.get(LANG_SESSION_KEY)
    request.session.clear()  # a fresh session (and CSRF token) for the signed-in user
    if lang:
        request.session[LANG_SESSION_KEY] = lang
    request.session[USER_SESSION_KEY] = user.key_id
    return redirect(HOME_BY_ROLE.get(user.role, "/"))


@router.post("/signout")
def sign_out(request: Request, form: FormDep) -> Response:
    lang = request.session.get(LANG_SESSION_KEY)
    request.session.clear()
    if lang:
        request.session[LANG_SESSION_KEY] = lang
    flash(request, "signin.signed_out")
    return redirect("/")


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str = "/") -> Response:
    """Remember the language for this session and go back to the page."""
    if code in LANGUAGES:
        request.session[LANG_SESSION_KEY] = code
    return redirect(safe_next(next))
