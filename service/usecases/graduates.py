"""A school's actions on its graduates: view one, job suggestions, erasure (PIPL); the upload is
:mod:`service.usecases.graduate_upload`.

Graduate ids are scoped per school. A school uploads and sees its own ids (student numbers; two schools may
use the same one) and a path id of a school key is resolved within its school only; admin uses the
service's ``graduate_id`` (what HR sees in candidate lists). No answer to a school depends on whether
another school has a graduate by some id: another school's graduate, a missing one and a malformed id are
all :class:`~service.store.vacancies.UnknownGraduate` (404).
"""

from __future__ import annotations

from dataclasses import dataclass

from models.ids import is_valid_id
from models.results import Match, VacancyFilters
from service.matching import RankedPage, VacancyInfo
from service.store import graduates as store
from service.store.audit_buffer import lock_out_audit_writes
from service.store.programs import get_program
from service.store.tables import Graduate, Program
from service.store.vacancies import UnknownGraduate
from service.usecases.context import SCHOOL_ROLES, Context
from service.usecases.programs import GraduateDetails, graduate_details, shown_id

MAX_UPLOAD_BYTES = 1_000_000  # an upload (graduates, vacancies), API and page alike


class EmptyUpload(ValueError):
    """The uploaded file has no bytes at all."""

    def __init__(self, field: str = "file", lang: str = "en") -> None:
        if lang == "en":
            message = (
                f"'{field}' is empty: upload a graduates file (.xlsx or .csv) with a header row and rows"
            )
        else:
            message = f"“{field}”为空：请上传含表头和数据行的毕业生文件（.xlsx 或 .csv）。"
        # The shape of an upload's problems (line 0: the file as a whole), naming the form field.
        self.details = [{"field": field, "line": 0, "row": 0, "column": "-", "message": message}]
        super().__init__(message)


class UploadTooLarge(ValueError):
    """The uploaded file is larger than :data:`MAX_UPLOAD_BYTES`."""

    def __init__(self, limit: int = MAX_UPLOAD_BYTES, lang: str = "en") -> None:
        self.limit = limit
        self.details = [{"field": "file", "limit_bytes": limit}]
        message = f"the upload is larger than {limit} bytes" if lang == "en" else f"文件超过 {limit} 字节。"
        super().__init__(message)


def find_graduate(ctx: Context, graduate_id: str) -> Graduate:
    """The graduate the caller knows as ``graduate_id``: by the school's own id for a school key, by the
    service's id for admin; :class:`UnknownGraduate` for a missing one, another school's or a malformed id."""
    ctx.require(SCHOOL_ROLES)
    if not is_valid_id(graduate_id):
        raise UnknownGraduate(graduate_id)
    school = ctx.school_scope
    if school is None:
        return store.get_graduate(session=ctx.session, graduate_id=graduate_id)
    return store.school_graduate(session=ctx.session, school_id=school, student_id=graduate_id)


@dataclass(frozen=True)
class GraduateView:
    graduate: GraduateDetails
    program: Program


def view_graduate(ctx: Context, graduate_id: str) -> GraduateView:
    """One graduate of the caller's school with their programme; audited, committed."""
    graduate = find_graduate(ctx, graduate_id)
    program = get_program(session=ctx.session, program_id=graduate.program_id)
    ctx.audit_read("view_graduate", f"graduate:{graduate.graduate_id}")
    ctx.commit()
    return GraduateView(graduate_details(ctx, graduate), program)


@dataclass(frozen=True)
class Suggestion:
    match: Match
    vacancy: VacancyInfo


@dataclass(frozen=True)
class Suggestions:
    """A graduate's open vacancies, best first, split at the recommendation floor."""

    graduate: GraduateDetails
    program: Program
    model_version: str
    recommended: list[Suggestion]
    below: list[Suggestion]  # the ranks asked for that score under the floor
    total: int
    floor: float
    page: RankedPage

    def shown(self, *, include_below: bool = False) -> list[Suggestion]:
        return self.recommended + self.below if include_below else list(self.recommended)


def recommendations(
    ctx: Context,
    graduate_id: str,
    *,
    district: str | None = None,
    limit: int = 10,
    personalised: bool = True,
) -> Suggestions:
    """Open vacancies ranked best first for one graduate of the caller's school (education minimum
    applied), with reasons; audited, committed."""
    graduate = find_graduate(ctx, graduate_id)
    program = get_program(session=ctx.session, program_id=graduate.program_id)
    # Seeking graduates are in the matcher's index; others (placed, withdrawn) are asked about as data.
    query = graduate.graduate_id if graduate.status == "seeking" else store.graduate_record(graduate)
    matching = ctx.matching(personalised=personalised)
    snapshot = matching.latest(session=ctx.session)
    if graduate.status == "seeking" and graduate.graduate_id not in snapshot.graduates:
        # Seeking in the store, not yet in the snapshot: added a moment ago through another worker or replica.
        snapshot = matching.latest(session=ctx.session, fresh=True)
    page = matching.recommended_vacancies(
        snapshot,
        graduate=query,
        limit=limit,
        filters=VacancyFilters(district=district or None),
    )
    vacancies = page.snapshot.vacancies
    # A vacancy missing from the snapshot's details cannot be shown (cannot happen with one snapshot).
    recommended = [
        Suggestion(m, vacancies[m.vacancy_id]) for m in page.recommended if m.vacancy_id in vacancies
    ]
    below = [Suggestion(m, vacancies[m.vacancy_id]) for m in page.below if m.vacancy_id in vacancies]
    ctx.audit_read(
        "list_recommendations",
        f"graduate:{graduate.graduate_id}",
        {
            "count": len(recommended),
            "below_floor": len(below),
            "limit": limit,
            "personalised": personalised,
            "model_version": page.snapshot.model_version,
        },
    )
    ctx.commit()
    return Suggestions(
        graduate=graduate_details(ctx, graduate),
        program=program,
        model_version=page.snapshot.model_version,
        recommended=recommended,
        below=below,
        total=page.total,
        floor=page.floor,
        page=page,
    )


@dataclass(frozen=True)
class Erased:
    graduate_id: str  # as the caller knew them
    program_id: str
    rows: dict[str, int]


def erase_graduate(ctx: Context, graduate_id: str) -> Erased:
    """Erase one graduate of the caller's school with everything recorded about them (PIPL); the audit
    keeps the fact and the programme, never the id. Committed."""
    graduate = find_graduate(ctx, graduate_id)
    known_as, program_id = shown_id(ctx, graduate), graduate.program_id
    lock_out_audit_writes(ctx.session)  # batched audit entries naming them are redacted too
    rows = store.erase_graduate(session=ctx.session, graduate=graduate)
    ctx.audit("erase_graduate", f"program:{program_id}", {"rows": rows})
    ctx.commit()
    return Erased(known_as, program_id, rows)
