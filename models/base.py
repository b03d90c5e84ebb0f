"""What every matcher shares: resolving a query, hard filters, retrieval, paging and explanations.

:class:`BaseMatcher` implements the public :class:`models.protocol.Matcher` protocol once. A concrete
matcher supplies the hooks: ``_encoder`` (per-entity arrays it needs), ``_tables`` (per-index lookups),
``_pair_scores`` (rank key and probability of aligned pairs) and optionally ``_retrieve`` (a cheap first
stage that narrows the pool before ``_pair_scores``), ``_vacancy_pools`` (the same for a whole cohort at
once), ``_reasons`` and ``_matches``. The hooks are called only from here: everything outside a matcher
goes through the protocol's methods, whose scores are clamped into [0, 1] in one place (``_scored``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from models.ann import AnnOptions, GraduateAnn, build_graduate_ann
from models.columns import Columns as C
from models.data import ENTITY_COLUMNS, MarketData
from models.explain import skill_overlap
from models.features import graduate_frame, mapping_frame, vacancy_frame
from models.filters import candidate_rows, vacancy_mask
from models.index import (
    Encoder,
    GraduateBlock,
    MatchIndex,
    VacancyBlock,
    build_graduate_block,
    build_vacancy_block,
)
from models.index_update import updated_index
from models.pairs import RETRIEVAL
from models.protocol import GraduateQuery, PairScores, Ranking, VacancyPoolGroup, VacancyQuery
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


class BaseMatcher:
    """Query logic shared by the trained matcher and the baselines (see the module docstring)."""

    # ------------------------------------------------------------------ hooks
    def _encoder(self) -> Encoder | None:
        return None

    def _tables(self, index: MatchIndex, previous: MatchIndex | None = None) -> dict[str, np.ndarray]:
        """Model-specific lookups in ``index``'s codes; ``previous``: the index ``index`` was updated from,
        whose tables may be reused where their vocabularies did not change."""
        return {}

    def _ann_options(self) -> AnnOptions | None:
        """When to build an approximate index of the graduates' retrieval vectors (``None``: never)."""
        return None

    def _pair_scores(
        self,
        index: MatchIndex,
        graduates: GraduateBlock,
        g_rows: np.ndarray,
        vacancies: VacancyBlock,
        v_rows: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(rank key, probability, feature matrix or None) of aligned pairs; one score per pair, whichever
        side asks."""
        raise NotImplementedError

    def _retrieve(
        self,
        index: MatchIndex,
        query: GraduateBlock | VacancyBlock,
        query_row: int,
        others: GraduateBlock | VacancyBlock,
        rows: np.ndarray,
        k: int,
        *,
        floor: int = -1,
    ) -> np.ndarray:
        """Rows of ``others`` worth ranking among ``rows`` (those that passed the filters); at least ``k``.
        ``floor``: the education level every row of ``rows`` is at or above (-1: any)."""
        return rows

    def _vacancy_pools(
        self, index: MatchIndex, g_rows: np.ndarray, groups: Sequence[VacancyPoolGroup], need: int
    ) -> list[np.ndarray]:
        """:meth:`vacancy_pools`; by default ``_retrieve`` once per graduate (a matcher with a cheaper
        batched retrieval overrides this)."""
        pools: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * len(g_rows)
        for members, rows in groups:
            for i in members:
                pools[i] = self._retrieve(index, index.graduates, int(g_rows[i]), index.vacancies, rows, need)
        return pools

    def _reasons(self, features: np.ndarray | None, n: int, probabilities: np.ndarray) -> list[list[Reason]]:
        return [[] for _ in range(n)]

    def _scored(
        self,
        index: MatchIndex,
        graduates: GraduateBlock,
        g_rows: np.ndarray,
        vacancies: VacancyBlock,
        v_rows: np.ndarray,
    ) -> PairScores:
        """``_pair_scores`` with the probability clamped into [0, 1]: the one place a score is clamped."""
        key, prob, features = self._pair_scores(index, graduates, g_rows, vacancies, v_rows)
        return PairScores(
            key=np.asarray(key, dtype=np.float64),
            score=np.clip(np.asarray(prob, dtype=np.float64), 0.0, 1.0),
            features=features,
        )

    # ------------------------------------------------------------------ index
    def index(self, data: MarketData) -> MatchIndex:
        """Precompute the arrays of every graduate and vacancy in ``data``."""
        index = MatchIndex.build(data, self._encoder(), owner=type(self).__name__)
        index.tables = self._tables(index)
        index.ann = graduate_ann(index.graduates, self._ann_options())
        # Retrieval's skill half reads bits per skill: built here, beside the index, not by the first
        # query (~0.2 s at 1M); updates carry them over.
        index.graduates.skill_bits  # noqa: B018
        return index

    def update_index(
        self,
        index: MatchIndex,
        data: MarketData,
        *,
        removed_graduates: Sequence[str] = (),
        removed_vacancies: Sequence[str] = (),
    ) -> MatchIndex:
        """``index`` with the graduates and vacancies of ``data`` added or replaced and the ``removed_*`` ids
        gone, in O(changed rows) (see :mod:`models.index_update`); ``index`` is unchanged."""
        updated = updated_index(
            index,
            data,
            removed_graduates=removed_graduates,
            removed_vacancies=removed_vacancies,
            encoder=self._encoder(),
        )
        if updated.vocab is not index.vocab:
            updated.tables = self._tables(updated, previous=index)
        if index.ann is not None and (len(data.graduates) or len(removed_graduates)):
            # New and edited graduates' vectors go in (an old one is marked deleted); leavers marked deleted.
            block = updated.graduates
            changed = [str(g) for g in data.graduates[C.graduate].tolist()]
            rows = block.ids.rows(changed)
            kept = [g for g, row in zip(changed, rows.tolist(), strict=True) if row >= 0]
            rows = rows[rows >= 0]
            updated.ann = index.ann.updated(
                kept, block.arrays[RETRIEVAL][rows], removed=removed_graduates, levels=block.education[rows]
            )
        return updated

    # ------------------------------------------------------------------ queries
    def _vacancy_query(self, vacancy: VacancyQuery, index: MatchIndex) -> tuple[VacancyBlock, int]:
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

    def _graduate_query(self, graduate: GraduateQuery, index: MatchIndex) -> tuple[GraduateBlock, int]:
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

    def _ranked_graduates(
        self, vacancy: VacancyQuery, index: MatchIndex, need: int, filters: CandidateFilters | None
    ) -> tuple[VacancyBlock, int, np.ndarray, PairScores, int]:
        """(query block, query row, graduate rows best first, their scores, total)."""
        filters = filters or CandidateFilters()
        vblock, vrow = self._vacancy_query(vacancy, index)
        # In id order, ties to the first id: the same ranking as a full build however updates placed rows.
        rows = candidate_rows(index, vblock, vrow, filters)
        total = len(rows)
        if total == 0 or need <= 0:
            return vblock, vrow, rows[:0], _no_scores(), total
        floor = int(vblock.min_education[vrow]) if filters.check_education else -1
        pool = self._retrieve(index, vblock, vrow, index.graduates, rows, need, floor=floor)
        v_rows = np.full(len(pool), vrow, dtype=np.int64)
        scored = self._scored(index, index.graduates, pool, vblock, v_rows)
        order = best_first(scored.key, lambda at: index.graduates.order_key(pool[at]), need)
        return vblock, vrow, pool[order], _take(scored, order), total

    def _ranked_vacancies(
        self, graduate: GraduateQuery, index: MatchIndex, need: int, filters: VacancyFilters | None
    ) -> tuple[GraduateBlock, int, np.ndarray, PairScores, int]:
        """Like :meth:`_ranked_graduates`, for vacancies of one graduate."""
        filters = filters or VacancyFilters()
        gblock, grow = self._graduate_query(graduate, index)
        rows = np.flatnonzero(vacancy_mask(index, gblock, grow, filters))
        total = len(rows)
        if total == 0 or need <= 0:
            return gblock, grow, rows[:0], _no_scores(), total
        pool = self._retrieve(index, gblock, grow, index.vacancies, rows, need)
        g_rows = np.full(len(pool), grow, dtype=np.int64)
        scored = self._scored(index, gblock, g_rows, index.vacancies, pool)
        order = best_first(scored.key, lambda at: pool[at], need)
        return gblock, grow, pool[order], _take(scored, order), total

    def rank_graduates(
        self, vacancy: VacancyQuery, *, index: MatchIndex, need: int, filters: CandidateFilters | None = None
    ) -> Ranking:
        """The first ``need`` (at least) of :meth:`candidates_for`'s ranking, without explanations."""
        _, _, rows, scored, total = self._ranked_graduates(vacancy, index, need, filters)
        return Ranking(rows=rows, scores=scored.score, total=total)

    def rank_vacancies(
        self, graduate: GraduateQuery, *, index: MatchIndex, need: int, filters: VacancyFilters | None = None
    ) -> Ranking:
        """The first ``need`` (at least) of :meth:`vacancies_for`'s ranking, without explanations."""
        _, _, rows, scored, total = self._ranked_vacancies(graduate, index, need, filters)
        return Ranking(rows=rows, scores=scored.score, total=total)

    def candidates_for(
        self,
        vacancy: VacancyQuery,
        *,
        index: MatchIndex,
        limit: int = 20,
        offset: int = 0,
        filters: CandidateFilters | None = None,
    ) -> MatchResult:
        """Graduates ranked for one vacancy (an id in ``index`` or a new vacancy given as data)."""
        offset, limit = max(offset, 0), max(limit, 0)
        vblock, vrow, rows, scored, total = self._ranked_graduates(vacancy, index, offset + limit, filters)
        page = slice(offset, offset + limit)
        g_rows = rows[page]
        v_rows = np.full(len(g_rows), vrow, dtype=np.int64)
        features = None if scored.features is None else scored.features[page]
        items = self._matches(index.graduates, g_rows, vblock, v_rows, scored.score[page], features)
        return MatchResult(items=items, total=total)

    def vacancies_for(
        self,
        graduate: GraduateQuery,
        *,
        index: MatchIndex,
        limit: int = 10,
        offset: int = 0,
        filters: VacancyFilters | None = None,
    ) -> MatchResult:
        """Vacancies ranked for one graduate (an id in ``index`` or a new graduate given as data)."""
        offset, limit = max(offset, 0), max(limit, 0)
        gblock, grow, rows, scored, total = self._ranked_vacancies(graduate, index, offset + limit, filters)
        page = slice(offset, offset + limit)
        v_rows = rows[page]
        g_rows = np.full(len(v_rows), grow, dtype=np.int64)
        features = None if scored.features is None else scored.features[page]
        items = self._matches(gblock, g_rows, index.vacancies, v_rows, scored.score[page], features)
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
        return self.pair_scores(g_rows, v_rows, index=index).score

    def pair_scores(self, g_rows: np.ndarray, v_rows: np.ndarray, *, index: MatchIndex) -> PairScores:
        """Ranking keys, scores in [0, 1] and features of aligned pairs of index rows (no filters)."""
        g_rows = np.asarray(g_rows, dtype=np.int64)
        v_rows = np.asarray(v_rows, dtype=np.int64)
        if len(g_rows) == 0:
            return _no_scores()
        return self._scored(index, index.graduates, g_rows, index.vacancies, v_rows)

    def vacancy_pools(
        self, g_rows: np.ndarray, groups: Sequence[VacancyPoolGroup], *, index: MatchIndex, need: int
    ) -> list[np.ndarray]:
        """Per graduate of ``g_rows``, the vacancy rows :meth:`vacancies_for` would score for it alone;
        ``groups`` are (positions in ``g_rows``, vacancy rows those graduates passed the filters for)."""
        g_rows = np.asarray(g_rows, dtype=np.int64)
        if need <= 0:
            return [np.zeros(0, dtype=np.int64)] * len(g_rows)
        return self._vacancy_pools(index, g_rows, groups, need)

    def explain(
        self,
        g_rows: np.ndarray,
        v_rows: np.ndarray,
        scores: np.ndarray,
        features: np.ndarray | None,
        *,
        index: MatchIndex,
    ) -> list[Match]:
        """Aligned pairs of index rows, with their scores and features from :meth:`pair_scores`, as
        explained matches."""
        return self._matches(
            index.graduates,
            np.asarray(g_rows, dtype=np.int64),
            index.vacancies,
            np.asarray(v_rows, dtype=np.int64),
            np.asarray(scores, dtype=np.float64),
            features,
        )

    def _matches(
        self,
        graduates: GraduateBlock,
        g_rows: np.ndarray,
        vacancies: VacancyBlock,
        v_rows: np.ndarray,
        scores: np.ndarray,
        features: np.ndarray | None,
    ) -> list[Match]:
        """Matches of aligned pairs; ``scores`` are already clamped (``_scored``)."""
        reasons = self._reasons(features, len(g_rows), scores)
        items = []
        for i, (g, v) in enumerate(zip(g_rows, v_rows, strict=True)):
            matched, missing, matched_pref = skill_overlap(
                graduates.skill_lists[g], vacancies.required_lists[v], vacancies.preferred_lists[v]
            )
            items.append(
                Match(
                    graduate_id=str(graduates.ids.ids[g]),
                    vacancy_id=str(vacancies.ids.ids[v]),
                    score=float(scores[i]),
                    matched_skills=matched,
                    missing_skills=missing,
                    matched_preferred_skills=matched_pref,
                    reasons=reasons[i],
                )
            )
        return items


def graduate_ann(
    graduates: GraduateBlock, options: AnnOptions | None, *, reps: np.ndarray | None = None
) -> GraduateAnn | None:
    """The approximate index of a block's retrieval vectors (``reps`` instead, for a benchmark's synthetic
    ones) by education level, when ``options`` ask for one at this size. Over the candidate pool only
    (seeking graduates): the rest never come back from retrieval, and an index update adds whoever is
    written, so a graduate seeking again goes back in."""
    return build_graduate_ann(
        graduates.ids.ids,
        graduates.arrays.get(RETRIEVAL) if reps is None else reps,
        options,
        live=graduates.live & graduates.seeking,
        levels=graduates.education,
    )


def best_first(key: np.ndarray, tie: Callable[[np.ndarray], np.ndarray], need: int) -> np.ndarray:
    """Positions of ``key``, highest first, ties by ``tie(positions)`` ascending: at least the first
    ``need`` of that order (every position tied with the ``need``-th, so the result is a prefix of the
    full order). Sorting only the best few matters where the pool is a whole market (the keyword
    matcher: 170k graduates per query)."""
    everyone = np.arange(len(key))
    if len(key) > 4 * max(need, 1) and not np.isnan(key).any():
        cut = -np.partition(-key, need - 1)[need - 1] if need > 0 else np.inf
        everyone = np.flatnonzero(key >= cut)
    return everyone[np.lexsort((tie(everyone), -key[everyone]))]


def _no_scores() -> PairScores:
    return PairScores(key=np.zeros(0), score=np.zeros(0), features=None)


def _take(scored: PairScores, order: np.ndarray) -> PairScores:
    features = None if scored.features is None else scored.features[order]
    return PairScores(key=scored.key[order], score=scored.score[order], features=features)
