"""Approximate retrieval (``models.ann``): built only when asked and hnswlib is there, re-scored exactly, kept
up to date by incremental index updates, and exact without hnswlib."""

from __future__ import annotations

import copy
import random
import sys
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from models.ann import AnnOptions, GraduateAnn, build_graduate_ann, hnswlib_module
from models.columns import Columns as C
from models.data import MarketData
from models.index import MatchIndex
from models.matcher import Matcher
from models.pairs import RETRIEVAL
from models.results import CandidateFilters
from tests.models.test_index_update import _assert_same_answers, _changes, _pool

FILTERS = (
    CandidateFilters(),
    CandidateFilters(check_education=False, seeking_only=False),
    CandidateFilters(program_kind="order_class"),
)


def _forced(trained: Matcher, *, shortlist: int = 300) -> tuple[Matcher, dict[str, int]]:
    """A copy of ``trained`` with approximate retrieval on for any pool (every band's shortlist as large as
    the band: the approximate pool then equals the exact one), counting the queries it answered."""
    matcher = copy.copy(trained)
    matcher.config = replace(trained.config, ann_min_pool=1, ann_ef=400, ann_shortlist=shortlist)
    used = {"approximate": 0, "exact": 0}
    approximate = matcher._retrieve_approximate

    def counted(*args: object, **kwargs: object) -> np.ndarray | None:
        pool = approximate(*args, **kwargs)  # type: ignore[arg-type]
        used["approximate" if pool is not None else "exact"] += 1
        return pool

    matcher._retrieve_approximate = counted  # type: ignore[method-assign]
    return matcher, used


def test_small_pools_stay_exact(trained: Matcher, market: MarketData) -> None:
    assert trained.config.ann_min_pool == 200_000
    assert trained.index(market).ann is None


def test_forced_approximate_retrieval_answers_as_exact(trained: Matcher, market: MarketData) -> None:
    matcher, used = _forced(trained)
    approximate, exact = matcher.index(market), trained.index(market)
    assert approximate.ann is not None and len(approximate.ann) == len(market.graduates)
    for vacancy in exact.vacancies.ids.ids.tolist():
        for filters in FILTERS:
            a = trained.candidates_for(vacancy, index=exact, limit=20, filters=filters)
            b = matcher.candidates_for(vacancy, index=approximate, limit=20, filters=filters)
            assert [m.graduate_id for m in b.items] == [m.graduate_id for m in a.items] and b.total == a.total
            np.testing.assert_allclose([m.score for m in b.items], [m.score for m in a.items], rtol=1e-12)
    assert used["approximate"] > len(exact.vacancies)  # the shortlist decided, not the exact fallback


def test_a_short_shortlist_is_still_rescored_exactly(trained: Matcher, market: MarketData) -> None:
    """A shortlist of 12 of each band's ~30 graduates: the pool is approximate, its scores exact, and the
    top 20 mostly those of exact retrieval (0.95 here)."""
    matcher, used = _forced(trained, shortlist=12)
    approximate, exact = matcher.index(market), trained.index(market)
    recalls = []
    for vacancy in exact.vacancies.ids.ids.tolist():
        a = {m.graduate_id for m in trained.candidates_for(vacancy, index=exact, limit=20).items}
        b = {m.graduate_id for m in matcher.candidates_for(vacancy, index=approximate, limit=20).items}
        recalls.append(len(a & b) / max(len(a), 1))
    assert used["approximate"] > 0 and np.mean(recalls) >= 0.9


def test_an_incrementally_updated_approximate_index_answers_as_a_fresh_exact_one(
    trained: Matcher, market: MarketData
) -> None:
    matcher, used = _forced(trained)
    rng = random.Random(23)
    graduates, vacancies = market.graduates.copy(), market.vacancies.copy()
    index = matcher.index(_pool(market, graduates, vacancies))
    ann = index.ann
    for step in range(12):
        g, v, removed = _changes(market, graduates, vacancies, rng, step)
        graduates = pd.concat([graduates[~graduates[C.graduate].isin([*g[C.graduate], *removed])], g])
        vacancies = pd.concat([vacancies[~vacancies[C.vacancy].isin(v[C.vacancy])], v])
        index = matcher.update_index(
            index,
            MarketData(graduates=g[g[C.status] == "seeking"], vacancies=v),
            removed_graduates=[*removed, *g.loc[g[C.status] != "seeking", C.graduate]],
        )
        assert index.ann is ann  # updated in place, not rebuilt
    pool = _pool(market, graduates, vacancies)
    assert ann is not None and len(ann) == len(pool.graduates)
    _assert_same_answers(matcher, index, trained.index(pool))
    assert used["approximate"] > 0


def test_ann_updates_add_replace_and_delete() -> None:
    hnswlib = hnswlib_module()
    assert hnswlib is not None, "hnswlib is in the dev extra"
    rng = np.random.default_rng(5)
    reps = rng.standard_normal((300, 6)).astype(np.float32)
    ids = np.asarray([f"g{i:03d}" for i in range(300)], dtype=object)
    options = AnnOptions(min_pool=10, bands=3, shortlist=400, ef=400)
    ann = GraduateAnn(hnswlib, ids, reps, options)
    query = reps[7] * 10
    assert set(ann.candidate_ids(query)) == set(ids.tolist())
    ann.updated(["g007", "new1"], np.stack([-query, query]), removed=["g008"])
    found = ann.candidate_ids(query)
    assert "new1" in found and "g008" not in found and found.count("g007") == 1 and len(ann) == 300
    # Seeded: the same vectors give the same shortlists.
    small = replace(options, shortlist=5, ef=10)
    first, again = GraduateAnn(hnswlib, ids, reps, small), GraduateAnn(hnswlib, ids, reps, small)
    assert [first.candidate_ids(r) for r in reps[:20]] == [again.candidate_ids(r) for r in reps[:20]]


def test_without_hnswlib_retrieval_stays_exact(
    trained: Matcher, market: MarketData, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "hnswlib", None)  # import hnswlib now raises ImportError
    assert hnswlib_module() is None
    matcher, used = _forced(trained)
    index: MatchIndex = matcher.index(market)
    assert index.ann is None
    reps = index.graduates.arrays[RETRIEVAL]
    assert build_graduate_ann(index.graduates.ids.ids, reps, AnnOptions(min_pool=1)) is None
    exact = trained.index(market)
    for vacancy in exact.vacancies.ids.ids.tolist()[:10]:
        a = trained.candidates_for(vacancy, index=exact, limit=20)
        b = matcher.candidates_for(vacancy, index=index, limit=20)
        assert [m.graduate_id for m in b.items] == [m.graduate_id for m in a.items]
    assert used == {"approximate": 0, "exact": 0}  # never asked: no index to ask
