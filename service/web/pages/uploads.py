"""Spreadsheet pages: uploads previewed then confirmed (a programme's graduates, HR's vacancies), their
templates, and the .xlsx downloads of a placement plan and a vacancy's shortlist.

An upload is two steps. The file is read and checked (:mod:`service.usecases.graduate_upload`,
:mod:`service.usecases.vacancy_upload` with ``preview=True``) and the page shows what would be added and
updated, or every problem at the top of the page in the page's language; the confirm button writes exactly the
rows previewed, all or nothing, carried in the form (:mod:`service.web.carry`).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from service.store.graduates import ProgramFull
from service.store.vacancies import EnterpriseNotFound, EnterpriseRequired
from service.usecases import exports, graduate_upload, programs, vacancy_upload
from service.usecases.context import Context
from service.usecases.graduate_upload import Upload
from service.usecases.graduates import MAX_UPLOAD_BYTES, EmptyUpload, UploadTooLarge
from service.usecases.upload_text import UploadInvalid
from service.usecases.vacancy_upload import UploadPostingsRefused, VacancyUpload
from service.web import carry
from service.web.deps import FormDep, PageContext
from service.web.i18n import translate
from service.web.lookups import Names, enterprise_names, skill_names
from service.web.pages.school import graduates_page, min_score_of
from service.web.rendering import flash, language, redirect, render
from service.web.security import csrf_token

router = APIRouter(include_in_schema=False)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHOWN_ROWS = 500  # rows listed on a preview page (the counts cover them all)


def _xlsx(filename: str, content: bytes) -> Response:
    return Response(
        content, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def _file(form: FormData) -> bytes:
    upload = form.get("file")
    return upload.file.read(MAX_UPLOAD_BYTES + 1) if isinstance(upload, UploadFile) else b""


def _problems(request: Request, error: Exception) -> list[str]:
    """An upload refused, as the lines shown at the top of the page, in the page's language."""
    lang = language(request)
    if isinstance(error, UploadInvalid | UploadPostingsRefused):
        lines = UploadInvalid(error.problems, lang).texts(50)
        if len(error.problems) > 50:
            lines.append(translate("upload.more", lang, n=len(error.problems) - 50))
        return lines
    if isinstance(error, EmptyUpload):
        return [translate("upload.empty", lang)]
    if isinstance(error, UploadTooLarge):
        return [translate("valid.file_too_big", lang, n=MAX_UPLOAD_BYTES // 1_000_000)]
    if isinstance(error, ProgramFull):
        return [translate("school.import.full", lang, **error.details[0])]
    if isinstance(error, EnterpriseRequired):
        return [translate("upload.enterprise_required", lang)]
    if isinstance(error, EnterpriseNotFound):
        return [translate("upload.enterprise_unknown", lang)]
    raise error


REFUSED = (
    UploadInvalid,
    UploadPostingsRefused,
    EmptyUpload,
    UploadTooLarge,
    ProgramFull,
    EnterpriseRequired,
    EnterpriseNotFound,
)


def _carried(request: Request, ctx: Context, form: FormData) -> bytes | None:
    return carry.unpack(
        form.get("payload"),
        form.get("signature"),
        secret=ctx.settings.session_secret,
        bound_to=csrf_token(request),
    )


def _preview_page(
    request: Request, ctx: Context, *, result: Upload | VacancyUpload, content: bytes, back: str, action: str
) -> Response:
    payload, signature = carry.pack(content, secret=ctx.settings.session_secret, bound_to=csrf_token(request))
    return render(
        request,
        "upload_preview.html",
        {
            "result": result,
            "rows": result.rows[:SHOWN_ROWS],
            "more_rows": max(0, len(result.rows) - SHOWN_ROWS),
            "payload": payload,
            "signature": signature,
            "action": action,
            "back": back,
            "kind": "graduates" if isinstance(result, Upload) else "vacancies",
            "posting_warnings": [
                (int(f.row), f.warning.text, f.warning.message(language(request)))
                for f in getattr(result, "posting_warnings", ())
            ],
            "skill": Names(skill_names(ctx.session, language(request))),
        },
    )


# ------------------------------------------------------------------------------------------ school
@router.get("/programs/{program_id}/graduates/template")
def graduates_template(ctx: PageContext, program_id: str) -> Response:
    """The graduates upload's Excel template (columns, an example row, drop-down lists)."""
    return _xlsx(f"graduates-{program_id}.xlsx", graduate_upload.graduates_template(ctx, program_id))


@router.post("/programs/{program_id}/graduates/import")
def program_import(request: Request, ctx: PageContext, form: FormDep, program_id: str) -> Response:
    """Read an uploaded .xlsx or CSV of graduates and show what it would add and update (nothing written),
    or every problem at the top of the page."""
    content = _file(form)
    try:
        result = graduate_upload.upload_graduates(
            ctx, program_id, content, lang=language(request), preview=True
        )
    except REFUSED as error:
        return graduates_page(request, ctx, program_id, "", 1, _problems(request, error))
    return _preview_page(
        request,
        ctx,
        result=result,
        content=graduate_upload.canonical_file(result),
        back=f"/programs/{result.program_id}",
        action=f"/programs/{result.program_id}/graduates/import/confirm",
    )


@router.post("/programs/{program_id}/graduates/import/confirm")
def program_import_confirm(request: Request, ctx: PageContext, form: FormDep, program_id: str) -> Response:
    """Write the rows previewed, all or nothing."""
    content = _carried(request, ctx, form)
    if content is None:
        programs.find_program(ctx, program_id)  # 404 for another school's, as the upload would be
        problems = [translate("upload.expired", language(request))]
        return graduates_page(request, ctx, program_id, "", 1, problems)
    try:
        result = graduate_upload.upload_graduates(ctx, program_id, content, lang=language(request))
    except REFUSED as error:
        return graduates_page(request, ctx, program_id, "", 1, _problems(request, error))
    flash(request, "school.import.done", added=result.added, updated=result.updated)
    return redirect(f"/programs/{result.program_id}")


@router.get("/programs/{program_id}/placement/export")
def placement_export(
    request: Request, ctx: PageContext, program_id: str, min_score: str = "", scope: str = ""
) -> Response:
    """The placement plan shown on the page, whole, as an Excel workbook."""
    threshold, _ = min_score_of(min_score)
    download = exports.placement_plan(
        ctx,
        program_id,
        min_score=threshold,
        scope="school" if scope == "school" else "program",
        lang=language(request),
    )
    return _xlsx(download.filename, download.content)


# ------------------------------------------------------------------------------------------ HR
def _vacancies_page(request: Request, ctx: Context, problems: list[str], enterprise_id: str = "") -> Response:
    return render(
        request,
        "hr/vacancy_upload.html",
        {
            "upload_errors": problems,
            "enterprise_id": enterprise_id,
            "enterprises": Names(enterprise_names(ctx.session)),
        },
        status_code=422 if problems else 200,
    )


@router.get("/vacancies/import")
def vacancies_import_form(request: Request, ctx: PageContext) -> Response:
    """The page to upload vacancies in bulk (.xlsx or CSV), with the template's link."""
    vacancy_upload.may_upload(ctx)
    return _vacancies_page(request, ctx, [])


@router.get("/vacancies/import/template")
def vacancies_template(ctx: PageContext) -> Response:
    """The vacancies upload's Excel template."""
    return _xlsx("vacancies.xlsx", vacancy_upload.vacancies_template(ctx))


def _enterprise_field(form: FormData) -> str | None:
    value = form.get("enterprise_id")
    return value.strip() or None if isinstance(value, str) else None


@router.post("/vacancies/import")
def vacancies_import(request: Request, ctx: PageContext, form: FormDep) -> Response:
    """Read an uploaded file of vacancies and show what it would add and update (nothing written), or every
    problem at the top of the page."""
    enterprise_id = _enterprise_field(form)
    try:
        result = vacancy_upload.upload_vacancies(
            ctx, _file(form), enterprise_id=enterprise_id, lang=language(request), preview=True
        )
    except REFUSED as error:
        return _vacancies_page(request, ctx, _problems(request, error), enterprise_id or "")
    return _preview_page(
        request,
        ctx,
        result=result,
        content=vacancy_upload.canonical_file(result),
        back="/vacancies/import",
        action="/vacancies/import/confirm"
        + (f"?enterprise_id={result.enterprise_id}" if enterprise_id else ""),
    )


@router.post("/vacancies/import/confirm")
def vacancies_import_confirm(
    request: Request, ctx: PageContext, form: FormDep, enterprise_id: str = ""
) -> Response:
    """Write the vacancies previewed, all or nothing."""
    content = _carried(request, ctx, form)
    if content is None:
        vacancy_upload.may_upload(ctx)
        return _vacancies_page(request, ctx, [translate("upload.expired", language(request))], enterprise_id)
    try:
        result = vacancy_upload.upload_vacancies(
            ctx, content, enterprise_id=enterprise_id or None, lang=language(request)
        )
    except REFUSED as error:
        return _vacancies_page(request, ctx, _problems(request, error), enterprise_id)
    flash(request, "hr.import.done", added=result.added, updated=result.updated)
    return redirect("/vacancies")


@router.get("/vacancies/{vacancy_id}/candidates/export")
def shortlist_export(request: Request, ctx: PageContext, vacancy_id: str) -> Response:
    """The vacancy's shortlist (its best candidates) as an Excel workbook."""
    download = exports.shortlist(ctx, vacancy_id, lang=language(request))
    return _xlsx(download.filename, download.content)
