"""What every matcher shares: resolving a query, hard filters, retrieval, paging and explanations.

A concrete matcher supplies ``_encoder`` (per-entity arrays it needs), ``_tables`` (per-index lookups),
``_pair_scores`` (rank key and probability of aligned pairs) and optionally ``_retrieve`` (a cheap first
stage that narrows the pool before ``_pair_scores``) and ``_reasons``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from models.columns import Columns as C
from models.data import ENTITY_COLUMNS, MarketData
from models.explain import skill_overlap
from models.features import graduate_frame, mapping_frame, vacancy_frame
from models.index import (
    Encoder,
    GraduateBlock,
    MatchIndex,
    VacancyBlock,
    build_graduate_block,
    build_vacancy_block,
    time_ns,
)
from models.results import (
    CandidateFilters,
    InvalidQuery,
    Match,
    MatchResult,
    Reason,
    UnknownGraduate,
    UnknownVacancy,
    VacancyFilters,
)

NEW_ID = "new"
# What a ranking is for (each may have its own ranker): graduates for one vacancy, vacancies for one graduate.
FOR_VACANCY = "vacancy"
FOR_GRADUATE = "graduate"


class BaseMatcher:
    """Query logic shared by the trained matcher and the baselines."""

    # ------------------------------------------------------------------ hooks
    def _encoder(self) -> Encoder | None:
        return None

    def _tables(self, index: MatchIndex) -> dict[str, np.ndarray]:
        return {}

    def _pair_scores(
        self,
        index: MatchIndex,
        graduates: GraduateBlock,
        g_rows: np.ndarray,
        vacancies: VacancyBlock,
        v_rows: np.ndarray,
        direction: str = FOR_GRADUATE,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(rank key, probability in [0,1], feature matrix or None) of aligned pairs.

        ``direction`` says which ranking the pairs are for (``FOR_VACANCY``: graduates for one vacancy;
        ``FOR_GRADUATE``: vacancies for one graduate, also the default for pair scores).
        """
        raise NotImplementedError

    def _retrieve(
        self,
        index: MatchIndex,
        query: GraduateBlock | VacancyBlock,
        query_row: int,
        others: GraduateBlock | VacancyBlock,
        rows: np.ndarray,
        k: int,
    ) -> np.ndarray:
        """Rows of ``others`` worth ranking among ``rows`` (those that passed the filters); at least ``k``."""
        return rows

    def _reasons(
        self, features: np.ndarray | None, n: int, probabilities: np.ndarray, direction: str = FOR_GRADUATE
    ) -> list[list[Reason]]:
        return [[] for _ in range(n)]

    # ------------------------------------------------------------------ index
    def index(self, data: MarketData) -> MatchIndex:
        """Precompute the arrays of every graduate and vacancy in ``data``."""
        index = MatchIndex.build(data, self._encoder(), owner=type(self).__name__)
        index.tables = self._tables(index)
        return index

    # ------------------------------------------------------------------ queries
    def _vacancy_query(self, vacancy: str | Mapping[str, Any], index: MatchIndex) -> tuple[VacancyBlock, int]:
        if isinstance(vacancy, Mapping):
            record = dict(vacancy)
            record.setdefault(C.vacancy, NEW_ID)
            record.setdefault(C.status, "open")
            try:
                frame = vacancy_frame(mapping_frame(record, ENTITY_COLUMNS["vacancies"]), index.enterprises)
                return build_vacancy_block(frame, index.vocab, self._encoder()), 0
            except (TypeError, ValueError) as exc:
                raise InvalidQuery(f"bad vacancy: {exc}") from exc
        if str(vacancy) not in index.vacancies.ids:
            raise UnknownVacancy(str(vacancy))
        return index.vacancies, index.vacancies.ids.row(str(vacancy))

    def _graduate_query(
        self, graduate: str | Mapping[str, Any], index: MatchIndex
    ) -> tuple[GraduateBlock, int]:
        if isinstance(graduate, Mapping):
            record = dict(graduate)
            record.setdefault(C.graduate, NEW_ID)
            record.setdefault(C.status, "seeking")
            try:
                frame = graduate_frame(
                    mapping_frame(record, ENTITY_COLUMNS["graduates"]), index.programs, index.schools
                )
                return build_graduate_block(frame, index.vocab, self._encoder()), 0
            except (TypeError, ValueError) as exc:
                raise InvalidQuery(f"bad graduate: {exc}") from exc
        if str(graduate) not in index.graduates.ids:
            raise UnknownGraduate(str(graduate))
        return index.graduates, index.graduates.ids.row(str(graduate))

    @staticmethod
    def _graduate_mask(
        index: MatchIndex, vacancies: VacancyBlock, row: int, filters: CandidateFilters
    ) -> np.ndarray:
        g = index.graduates
        mask = np.ones(len(g), dtype=bool)
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

    @staticmethod
    def _vacancy_mask(
        index: MatchIndex, graduates: GraduateBlock, row: int, filters: VacancyFilters
    ) -> np.ndarray:
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

    def ranked_graduates(
        self,
        vacancy: str | Mapping[str, Any],
        *,
        index: MatchIndex,
        need: int,
        filters: CandidateFilters | None = None,
    ) -> tuple[VacancyBlock, int, np.ndarray, np.ndarray, np.ndarray | None, int]:
        """(query block, query row, graduate rows best first, probabilities, features, total) — at least
        the first ``need`` of the ranking; no explanations (used by evaluation)."""
        filters = filters or CandidateFilters()
        vblock, vrow = self._vacancy_query(vacancy, index)
        rows = np.flatnonzero(self._graduate_mask(index, vblock, vrow, filters))
        total = len(rows)
        if total == 0 or need <= 0:
            return vblock, vrow, rows[:0], np.zeros(0), None, total
        pool = self._retrieve(index, vblock, vrow, index.graduates, rows, need)
        v_rows = np.full(len(pool), vrow, dtype=np.int64)
        key, prob, features = self._pair_scores(
            index, index.graduates, pool, vblock, v_rows, direction=FOR_VACANCY
        )
        order = np.lexsort((pool, -key))
        return vblock, vrow, pool[order], prob[order], _take(features, order), total

    def ranked_vacancies(
        self,
        graduate: str | Mapping[str, Any],
        *,
        index: MatchIndex,
        need: int,
        filters: VacancyFilters | None = None,
    ) -> tuple[GraduateBlock, int, np.ndarray, np.ndarray, np.ndarray | None, int]:
        """Like :meth:`ranked_graduates`, for vacancies of one graduate."""
        filters = filters or VacancyFilters()
        gblock, grow = self._graduate_query(graduate, index)
        rows = np.flatnonzero(self._vacancy_mask(index, gblock, grow, filters))
        total = len(rows)
        if total == 0 or need <= 0:
            return gblock, grow, rows[:0], np.zeros(0), None, total
        pool = self._retrieve(index, gblock, grow, index.vacancies, rows, need)
        g_rows = np.full(len(pool), grow, dtype=np.int64)
        key, prob, features = self._pair_scores(
            index, gblock, g_rows, index.vacancies, pool, direction=FOR_GRADUATE
        )
        order = np.lexsort((pool, -key))
        return gblock, grow, pool[order], prob[order], _take(features, order), total

    def candidates_for(
        self,
        vacancy: str | Mapping[str, Any],
        *,
        index: MatchIndex,
        limit: int = 20,
        offset: int = 0,
        filters: CandidateFilters | None = None,
    ) -> MatchResult:
        """Graduates ranked for one vacancy (an id in ``index`` or a new vacancy given as data)."""
        offset, limit = max(offset, 0), max(limit, 0)
        vblock, vrow, rows, prob, features, total = self.ranked_graduates(
            vacancy, index=index, need=offset + limit, filters=filters
        )
        page = slice(offset, offset + limit)
        g_rows = rows[page]
        v_rows = np.full(len(g_rows), vrow, dtype=np.int64)
        items = self._matches(
            index.graduates, g_rows, vblock, v_rows, prob[page], _cut(features, page), direction=FOR_VACANCY
        )
        return MatchResult(items=items, total=total)

    def vacancies_for(
        self,
        graduate: str | Mapping[str, Any],
        *,
        index: MatchIndex,
        limit: int = 10,
        offset: int = 0,
        filters: VacancyFilters | None = None,
    ) -> MatchResult:
        """Vacancies ranked for one graduate (an id in ``index`` or a new graduate given as data)."""
        offset, limit = max(offset, 0), max(limit, 0)
        gblock, grow, rows, prob, features, total = self.ranked_vacancies(
            graduate, index=index, need=offset + limit, filters=filters
        )
        page = slice(offset, offset + limit)
        v_rows = rows[page]
        g_rows = np.full(len(v_rows), grow, dtype=np.int64)
        items = self._matches(
            gblock, g_rows, index.vacancies, v_rows, prob[page], _cut(features, page), direction=FOR_GRADUATE
        )
        return MatchResult(items=items, total=total)

    def score_pairs(
        self, graduate_ids: Sequence[str], vacancy_ids: Sequence[str], *, index: MatchIndex
    ) -> np.ndarray:
        """Match probabilities of aligned ``(graduate_ids[i], vacancy_ids[i])`` pairs (no filters)."""
        g_rows = index.graduates.ids.rows(list(graduate_ids))
        v_rows = index.vacancies.ids.rows(list(vacancy_ids))
        if (g_rows < 0).any():
            raise UnknownGraduate(str(np.asarray(graduate_ids, dtype=object)[g_rows < 0][0]))
        if (v_rows < 0).any():
            raise UnknownVacancy(str(np.asarray(vacancy_ids, dtype=object)[v_rows < 0][0]))
        _, prob, _ = self._pair_scores(index, index.graduates, g_rows, index.vacancies, v_rows)
        return np.asarray(prob, dtype=np.float64)

    def rank_keys(
        self,
        graduates: GraduateBlock,
        g_rows: np.ndarray,
        vacancies: VacancyBlock,
        v_rows: np.ndarray,
        *,
        index: MatchIndex,
        direction: str = FOR_GRADUATE,
    ) -> np.ndarray:
        """Raw ranking keys of aligned pairs (for evaluation over explicit pools)."""
        key, _, _ = self._pair_scores(index, graduates, g_rows, vacancies, v_rows, direction=direction)
        return np.asarray(key, dtype=np.float64)

    def _matches(
        self,
        graduates: GraduateBlock,
        g_rows: np.ndarray,
        vacancies: VacancyBlock,
        v_rows: np.ndarray,
        prob: np.ndarray,
        features: np.ndarray | None,
        direction: str = FOR_GRADUATE,
    ) -> list[Match]:
        reasons = self._reasons(features, len(g_rows), prob, direction)
        items = []
        for i, (g, v) in enumerate(zip(g_rows, v_rows, strict=True)):
            matched, missing, matched_pref = skill_overlap(
                graduates.skill_lists[g], vacancies.required_lists[v], vacancies.preferred_lists[v]
            )
            items.append(
                Match(
                    graduate_id=str(graduates.ids.ids[g]),
                    vacancy_id=str(vacancies.ids.ids[v]),
                    score=float(np.clip(prob[i], 0.0, 1.0)),
                    matched_skills=matched,
                    missing_skills=missing,
                    matched_preferred_skills=matched_pref,
                    reasons=reasons[i],
                )
            )
        return items


def _take(features: np.ndarray | None, order: np.ndarray) -> np.ndarray | None:
    return None if features is None else features[order]


def _cut(features: np.ndarray | None, page: slice) -> np.ndarray | None:
    return None if features is None else features[page]
