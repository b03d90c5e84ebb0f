"""Discriminatory requirements in a vacancy's text, wherever a vacancy enters: posted or edited through the
API or the posting form, imported from a bundle, uploaded in bulk.

The check itself is :func:`models.posting_check.check_posting` (pure); this module applies the operator's
choice ``TALENTMATCH_POSTING_CHECK``: ``warn`` (the default) lets the vacancy in and returns the warnings
with it, ``refuse`` turns the warnings of the text being written into a refusal
(:class:`DiscriminatoryPosting`, 422 ``discriminatory_posting``, one detail per finding).

Every entry point calls :func:`screen` (one vacancy in its own action) or :func:`refusals` (many rows written
all or nothing, e.g. an upload or an import, which refuse the whole file and list the rows) before writing;
the audit entry of the write names the codes found.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from models.posting_check import PostingWarning, check_posting
from service.settings import Settings
from service.store.tables import Vacancy
from service.usecases.context import Context

__all__ = [
    "DiscriminatoryPosting",
    "PostingsRefused",
    "RowWarning",
    "check_rows",
    "rows_audit_detail",
    "screen_rows",
    "Flagged",
    "flagged",
    "flagged_vacancy",
    "PostingWarning",
    "posting_fields",
    "refusals",
    "screen",
    "warning_codes",
    "warnings_of",
]

# The text fields of a vacancy that are checked, in the order warnings are listed.
CHECKED_FIELDS = ("title", "role", "description")
# Characters of context shown on each side of a flagged text (the posting form, the vacancy page).
CONTEXT = 24


class DiscriminatoryPosting(ValueError):
    """A vacancy's text carries requirements the operator refuses (``TALENTMATCH_POSTING_CHECK=refuse``):
    422 ``discriminatory_posting``; ``details`` give each finding's field, code, span and message."""

    def __init__(self, warnings: list[PostingWarning]) -> None:
        self.warnings = warnings
        codes = ", ".join(sorted({w.code for w in warnings}))
        super().__init__(
            f"the posting states requirements that may discriminate ({codes}); edit the text flagged in "
            "details (TALENTMATCH_POSTING_CHECK=refuse)"
        )
        self.details = [warning_detail(w) for w in warnings]


def warning_detail(warning: PostingWarning) -> dict[str, Any]:
    """One finding as the API reports it (in an answer's ``warnings`` and a refusal's ``details``)."""
    return {
        "field": f"body.{warning.field}",
        "code": warning.code,
        "message": warning.message("en"),
        "message_zh": warning.message("zh"),
        "span": {"start": warning.start, "end": warning.end, "text": warning.text},
    }


def posting_fields(*, title: str | None, role: str | None, description: str | None) -> dict[str, str | None]:
    return {"title": title, "role": role, "description": description}


def warnings_of(vacancy: Vacancy) -> list[PostingWarning]:
    """The findings in a stored vacancy's text."""
    return check_posting(
        posting_fields(title=vacancy.title, role=vacancy.role, description=vacancy.description)
    )


def warning_codes(warnings: list[PostingWarning]) -> list[str]:
    """The codes found, each once, in order (what the audit records: no text)."""
    return list(dict.fromkeys(w.code for w in warnings))


def refusals(
    settings: Settings, warnings: list[PostingWarning], *, written: Collection[str] | None = None
) -> list[PostingWarning]:
    """The findings that refuse the write: none under ``warn``; under ``refuse``, those in the fields being
    written (``written``; every field when None), so a vacancy imported with flagged text can still have its
    headcount changed."""
    if settings.posting_check != "refuse":
        return []
    return [w for w in warnings if written is None or w.field in written]


def screen(
    ctx: Context,
    fields: Mapping[str, str | None],
    *,
    resource: str,
    written: Collection[str] | None = None,
) -> list[PostingWarning]:
    """Check one vacancy's text before it is written; the findings, or :class:`DiscriminatoryPosting` when
    the setting refuses them. A refusal is audited (``refuse_vacancy`` with the codes) and committed on its
    own: the caller must not have written anything yet in this transaction."""
    warnings = check_posting(fields)
    refused = refusals(ctx.settings, warnings, written=written)
    if refused:
        ctx.session.rollback()
        ctx.audit("refuse_vacancy", resource, {"posting_warnings": warning_codes(refused)})
        ctx.commit()
        raise DiscriminatoryPosting(refused)
    return warnings


@dataclass(frozen=True)
class Flagged:
    """A finding with a little of the text around it, as a page shows it (the finding marked)."""

    warning: PostingWarning
    before: str
    after: str


def flagged(fields: Mapping[str, str | None]) -> list[Flagged]:
    """The findings in ``fields`` (no setting applied: what HR should look at), each with its context."""
    shown = []
    for warning in check_posting(fields):
        text = fields.get(warning.field) or ""
        before = text[max(0, warning.start - CONTEXT) : warning.start]
        after = text[warning.end : warning.end + CONTEXT]
        shown.append(Flagged(warning, ("…" if warning.start > CONTEXT else "") + before, after))
    return shown


def flagged_vacancy(vacancy: Vacancy) -> list[Flagged]:
    """:func:`flagged` for a stored vacancy."""
    return flagged(posting_fields(title=vacancy.title, role=vacancy.role, description=vacancy.description))


@dataclass(frozen=True)
class RowWarning:
    """A finding in one row of many (a bundle's ``vacancies.csv``, an upload), named by the row's key."""

    row: str  # the vacancy's id in a bundle; the row number in an upload
    warning: PostingWarning

    def line(self, file: str = "vacancies.csv") -> str:
        """``vacancies.csv: V001: description[4:7] "限男性": gender — <message>`` (what an import prints)."""
        w = self.warning
        return f'{file}: {self.row}: {w.field}[{w.start}:{w.end}] "{w.text}": {w.code} — {w.message("en")}'


def check_rows(rows: Iterable[tuple[str, Mapping[str, str | None]]]) -> list[RowWarning]:
    """The findings of many vacancies at once: ``rows`` are (key, text fields) pairs, in file order."""
    return [RowWarning(key, warning) for key, fields in rows for warning in check_posting(fields)]


class PostingsRefused(ValueError):
    """Rows of an import or upload carry requirements the operator refuses: the whole file is refused
    (nothing written); ``found`` lists every finding by row."""

    def __init__(self, found: list[RowWarning]) -> None:
        self.found = found
        rows = len({f.row for f in found})
        super().__init__(
            f"{rows} vacancy row(s) state requirements that may discriminate "
            "(TALENTMATCH_POSTING_CHECK=refuse); nothing was written"
        )
        self.details = [{"row": f.row, **warning_detail(f.warning)} for f in found]


def screen_rows(settings: Settings, found: list[RowWarning]) -> None:
    """Refuse a whole import or upload (:class:`PostingsRefused`) when the setting refuses its findings."""
    if refusals(settings, [f.warning for f in found]):
        raise PostingsRefused(found)


def rows_audit_detail(found: list[RowWarning]) -> dict[str, Any]:
    """What the audit keeps of an import's findings: the rows flagged and the codes per row (no text)."""
    codes: dict[str, list[str]] = {}
    for f in found:
        row_codes = codes.setdefault(f.row, [])
        if f.warning.code not in row_codes:
            row_codes.append(f.warning.code)
    return {"posting_warnings": codes}
