"""The hard filters of a ranking as boolean masks over an index's rows (the same for every matcher)."""

from __future__ import annotations

import numpy as np

from models.index import GraduateBlock, MatchIndex, VacancyBlock, time_ns
from models.results import CandidateFilters, VacancyFilters

__all__ = ["candidate_rows", "graduate_mask", "vacancy_mask"]


def graduate_mask(
    index: MatchIndex, vacancies: VacancyBlock, row: int, filters: CandidateFilters
) -> np.ndarray:
    """Graduates of ``index`` that pass ``filters`` as candidates of vacancy ``row`` of ``vacancies``."""
    g = index.graduates
    mask = g.live.copy()
    if filters.seeking_only:
        mask &= g.seeking
    min_edu = int(vacancies.min_education[row])
    if filters.check_education and min_edu >= 0:
        mask &= g.education >= min_edu
    if filters.district:
        code = index.vocab.districts.rows([filters.district])[0]
        if code < 0:
            return np.zeros(len(g), dtype=bool)
        prefers = np.asarray(g.districts[:, code].toarray()).ravel() > 0
        mask &= prefers | (g.school_district == code)
    if filters.program_kind:
        mask &= g.kind == index.vocab.kinds.rows([filters.program_kind])[0]
    if filters.program_id:
        code = index.vocab.programs.rows([filters.program_id])[0]
        mask &= (g.program == code) & (code >= 0)
    if filters.exclude_graduates:
        excluded = g.ids.rows(list(filters.exclude_graduates))
        mask[excluded[excluded >= 0]] = False
    return mask


def candidate_rows(
    index: MatchIndex, vacancies: VacancyBlock, row: int, filters: CandidateFilters
) -> np.ndarray:
    """The rows of :func:`graduate_mask` in id order (:meth:`~models.index.GraduateBlock.in_order`).

    Without a district, programme kind or programme filter the rows come from the block's own list for
    the seeking and education filters (:meth:`~models.index.GraduateBlock.passing_rows`), the graduates
    excluded taken out by position: no pass over the block.
    """
    g = index.graduates
    if filters.district or filters.program_kind or filters.program_id:
        return g.in_order(graduate_mask(index, vacancies, row, filters))
    min_edu = int(vacancies.min_education[row]) if filters.check_education else -1
    rows = g.passing_rows(seeking_only=filters.seeking_only, min_education=max(min_edu, -1))
    if not filters.exclude_graduates:
        return rows
    at = g.positions(rows, g.ids.rows(list(filters.exclude_graduates)))
    return np.delete(rows, at) if len(at) else rows


def vacancy_mask(
    index: MatchIndex, graduates: GraduateBlock, row: int, filters: VacancyFilters
) -> np.ndarray:
    """Vacancies of ``index`` that pass ``filters`` for graduate ``row`` of ``graduates``."""
    v = index.vacancies
    mask = np.ones(len(v), dtype=bool)
    if filters.open_only:
        mask &= v.open & (v.closes_at > time_ns(filters.as_of))
    if filters.check_education:
        mask &= v.min_education <= graduates.education[row]
    if filters.district:
        code = index.vocab.districts.rows([filters.district])[0]
        mask &= (v.district == code) & (code >= 0)
    if filters.enterprise_id:
        code = index.vocab.enterprises.rows([filters.enterprise_id])[0]
        mask &= (v.enterprise == code) & (code >= 0)
    if filters.exclude_vacancies:
        excluded = v.ids.rows(list(filters.exclude_vacancies))
        mask[excluded[excluded >= 0]] = False
    return mask
