"""HR's spreadsheets: vacancies uploaded in bulk (:mod:`service.usecases.vacancy_upload`), its template, and a
vacancy's shortlist as .xlsx (:func:`service.usecases.exports.shortlist`).

The upload lives at ``/imports/vacancies``: under ``/vacancies`` its path would also name a vacancy (``GET
/vacancies/import`` would be vacancy "import"), and ``Allow`` would list that route's methods too."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, Query, Response, UploadFile

from models.ids import ID_PATTERN, ID_RULE
from service.api.deps import HrContext
from service.api.routes.common import (
    API_PREFIX,
    AUTH_ERRORS,
    BODY_ERRORS,
    MODEL_NOT_READY,
    NOT_FOUND,
    XLSX,
    XLSX_RESPONSE,
    Language,
    Preview,
    responses,
)
from service.api.schemas import UploadRowPublic, VacancyImportPublic
from service.usecases import exports, vacancy_upload
from service.usecases.graduate_upload import UploadRow
from service.usecases.graduates import MAX_UPLOAD_BYTES
from service.usecases.posting_check import warning_detail

router = APIRouter(prefix=API_PREFIX, tags=["vacancies"], responses=AUTH_ERRORS)

VacancyId = Annotated[str, Path(pattern=ID_PATTERN, description=f"A vacancy id ({ID_RULE}).")]


def xlsx(filename: str, content: bytes) -> Response:
    return Response(
        content, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def row_public(row: UploadRow) -> UploadRowPublic:
    return UploadRowPublic(row=row.row, key=row.key, action=row.action, values=dict(row.values))  # type: ignore[arg-type]


@router.get("/imports/vacancies/template", response_class=Response, responses=responses(XLSX_RESPONSE))
def vacancies_template(ctx: HrContext) -> Response:
    """The vacancies upload's .xlsx template: columns, an example row, drop-down lists, notes, skills."""
    return xlsx("vacancies.xlsx", vacancy_upload.vacancies_template(ctx))


@router.post(
    "/imports/vacancies", response_model=VacancyImportPublic, responses=responses(NOT_FOUND, BODY_ERRORS)
)
def import_vacancies(
    ctx: HrContext,
    lang: Language,
    file: Annotated[
        UploadFile,
        File(
            description="Vacancies as an .xlsx (first sheet) or a CSV in UTF-8, UTF-8 with BOM or GB18030, "
            "not empty, at most 1 MB. An empty `vacancy_id` posts a new vacancy; one of your open "
            "vacancies' ids replaces its fields. Values by id or Chinese/English name, lists separated "
            "by ; ； 、 or ，, dates as 2026-07-01, 2026/7/1 or 2026年7月1日.",
            json_schema_extra={"minLength": 1},
        ),
    ],
    preview: Preview = False,
    enterprise_id: Annotated[
        str | None,
        Query(
            pattern=ID_PATTERN,
            description="Admin keys name the enterprise; hr keys leave it out (or send their own).",
        ),
    ] = None,
) -> VacancyImportPublic:
    """Post and update vacancies from an .xlsx or CSV; all rows or none (422 lists every problem by row and
    column, in the Accept-Language's language)."""
    result = vacancy_upload.upload_vacancies(
        ctx, file.file.read(MAX_UPLOAD_BYTES + 1), enterprise_id=enterprise_id, lang=lang, preview=preview
    )
    return VacancyImportPublic(
        added=result.added,
        updated=result.updated,
        unchanged=result.unchanged,
        preview=result.preview,
        vacancy_ids=list(result.vacancy_ids),
        warnings=[{"row": int(f.row), **warning_detail(f.warning)} for f in result.posting_warnings],
        rows=[row_public(r) for r in result.rows] if result.preview else [],
    )


@router.get(
    "/vacancies/{vacancy_id}/candidates/export",
    response_class=Response,
    responses=responses(XLSX_RESPONSE, NOT_FOUND, MODEL_NOT_READY),
)
def export_shortlist(vacancy_id: VacancyId, ctx: HrContext, lang: Language) -> Response:
    """The vacancy's shortlist as an .xlsx: its best 100 candidates with scores, skills and outcomes
    (audited)."""
    download = exports.shortlist(ctx, vacancy_id, lang=lang)
    return xlsx(download.filename, download.content)
