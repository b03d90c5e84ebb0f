"""Approximate retrieval (``models.ann``): built only when asked and hnswlib is there, re-scored exactly, kept
up to date by incremental index updates, and exact without hnswlib."""

from __future__ import annotations

import copy
import random
import sys
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from models import matcher as matcher_module
from models import skill_bits
from models.ann import AnnOptions, GraduateAnn, build_graduate_ann, hnswlib_module
from models.columns import Columns as C
from models.data import MarketData
from models.index import MatchIndex
from models.matcher import ANN_MIN_SHARE, Matcher
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


@pytest.mark.parametrize("ties_scored", [4096, 0])
def test_forced_approximate_retrieval_answers_as_exact(
    trained: Matcher, market: MarketData, ties_scored: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 0: every group tied at the skill cut-off is tie-broken from the shortlist's scores (which here hold
    # every graduate), not scored again.
    monkeypatch.setattr(matcher_module, "_TIES_SCORED", ties_scored)
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


def _vectors(n: int, dims: int, seed: int) -> tuple[Any, np.ndarray, np.ndarray]:
    """hnswlib, ``n`` graduate ids ``g000``... and seeded random vectors of ``dims``."""
    hnswlib = hnswlib_module()
    assert hnswlib is not None, "hnswlib is in the dev extra"
    reps = np.random.default_rng(seed).standard_normal((n, dims)).astype(np.float32)
    return hnswlib, np.asarray([f"g{i:03d}" for i in range(n)], dtype=object), reps


def test_ann_updates_add_replace_and_delete() -> None:
    hnswlib, ids, reps = _vectors(300, 6, seed=5)
    options = AnnOptions(min_pool=10, bands=3, shortlist=400, ef=400)
    ann = GraduateAnn(hnswlib, ids, reps, options)
    query = reps[7] * 10
    assert set(ann.candidate_ids(query).tolist()) == set(ids.tolist())
    ann.updated(["g007", "new1"], np.stack([-query, query]), removed=["g008"])
    found = ann.candidate_ids(query).tolist()
    assert "new1" in found and "g008" not in found and found.count("g007") == 1 and len(ann) == 300
    # Seeded: the same vectors give the same shortlists.
    small = replace(options, shortlist=5, ef=10)
    first, again = GraduateAnn(hnswlib, ids, reps, small), GraduateAnn(hnswlib, ids, reps, small)
    shortlists = [(first.candidate_ids(r).tolist(), again.candidate_ids(r).tolist()) for r in reps[:20]]
    assert all(a == b for a, b in shortlists)


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


def test_the_shortlist_deepens_as_fewer_graduates_pass_the_filters() -> None:
    hnswlib, ids, reps = _vectors(200, 5, seed=3)
    ann = GraduateAnn(hnswlib, ids, reps, AnnOptions(min_pool=10, bands=2, shortlist=10, ef=16))
    assert [ann.depth(1.0), ann.depth(0.5), ann.depth(0.3)] == [10, 20, 34]
    # Deeper than ``ef``: the beam widens with it (hnswlib refuses k > ef otherwise) and stays so.
    assert len(ann.candidate_ids(reps[0], depth=60)) == 120
    assert len(ann.candidate_ids(reps[0])) == 20


def test_ids_added_past_the_spare_room_are_found() -> None:
    hnswlib = hnswlib_module()
    assert hnswlib is not None
    rng = np.random.default_rng(4)
    reps = rng.standard_normal((100, 4)).astype(np.float32)
    ann = GraduateAnn(
        hnswlib,
        np.asarray([f"g{i:03d}" for i in range(100)], dtype=object),
        reps,
        AnnOptions(min_pool=10, bands=1, shortlist=400, ef=400),
    )
    new = rng.standard_normal((300, 4)).astype(np.float32)
    for start in range(0, 300, 100):  # three updates, the id array grown twice
        ann.updated([f"n{i:03d}" for i in range(start, start + 100)], new[start : start + 100])
    found = ann.candidate_ids(new[250]).tolist()
    everyone = [f"g{i:03d}" for i in range(100)] + [f"n{i:03d}" for i in range(300)]
    assert len(ann) == 400 and sorted(found) == sorted(everyone)


def test_a_narrow_filter_is_searched_no_deeper_than_allowed(trained: Matcher, market: MarketData) -> None:
    """One programme's graduates are a small share of the pool: their shortlist would be deeper than
    1 / ``ANN_MIN_SHARE`` shortlists, so they are retrieved exactly, and answer as exact retrieval does."""
    exact_matcher = copy.copy(trained)
    exact_matcher.config = replace(trained.config, retrieval_pool=20)  # narrower than the filtered rows
    matcher, used = _forced(exact_matcher, shortlist=2)
    approximate, exact = matcher.index(market), exact_matcher.index(market)
    # The largest programme below a quarter of the pool and above the retrieval pool.
    codes, counts = np.unique(approximate.graduates.program, return_counts=True)
    wanted = (counts > 20) & (counts < ANN_MIN_SHARE * len(approximate.graduates)) & (codes >= 0)
    program = str(approximate.vocab.programs.ids[codes[wanted][np.argmax(counts[wanted])]])
    narrow = CandidateFilters(program_id=program, check_education=False, seeking_only=False)
    for vacancy in exact.vacancies.ids.ids.tolist()[:15]:
        a = exact_matcher.candidates_for(vacancy, index=exact, limit=20, filters=narrow)
        b = matcher.candidates_for(vacancy, index=approximate, limit=20, filters=narrow)
        assert [m.graduate_id for m in b.items] == [m.graduate_id for m in a.items]
    assert used["approximate"] == 0 and used["exact"] > 0


def test_only_the_education_levels_a_vacancy_admits_are_searched() -> None:
    hnswlib, ids, reps = _vectors(400, 5, seed=6)
    levels = np.repeat([0, 1, 2, 3], [40, 160, 120, 80])
    ann = GraduateAnn(
        hnswlib, ids, reps, AnnOptions(min_pool=10, bands=4, shortlist=400, ef=400), levels=levels
    )
    assert [ann.size(floor) for floor in (-1, 0, 2, 3, 4)] == [400, 400, 200, 80, 0]
    level_of = dict(zip(ids.tolist(), levels.tolist(), strict=True))
    assert {level_of[g] for g in ann.candidate_ids(reps[0], floor=2).tolist()} == {2, 3}
    assert len(ann.candidate_ids(reps[0], floor=2)) == 200  # every one of them: the shortlist is deep
    # An update moves a graduate between levels and brings a level never seen before.
    ann.updated(["g000", "new"], reps[:2], levels=np.array([3, 5]))
    level_of.update(g000=3, new=5)
    assert [ann.size(3), ann.size(5)] == [82, 1]
    found = ann.candidate_ids(reps[0], floor=3).tolist()
    assert sorted(found) == sorted(g for g, level in level_of.items() if level >= 3)
    # Bands by each level's share (1, 2, 1, 1 of 4): fewer searched, each asked deeper, so the shortlist
    # is about as long (4 x 10) whatever the floor.
    options = AnnOptions(min_pool=10, bands=4, shortlist=10, ef=16)
    small = GraduateAnn(hnswlib, ids, reps, options, levels=levels)
    assert [small.depth(1.0), small.depth(1.0, floor=3), small.depth(0.5, floor=3)] == [8, 40, 80]


@pytest.mark.parametrize("ties_scored", [4096, 0])
def test_the_skill_half_from_bits_answers_as_the_dense_scores(
    trained: Matcher, market: MarketData, ties_scored: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A short shortlist (the pool is approximate), on a fresh index and on one with appended, edited and
    gone graduates: the skill half from bits per skill and from a score per graduate answer alike."""
    monkeypatch.setattr(matcher_module, "_TIES_SCORED", ties_scored)
    matcher, used = _forced(trained, shortlist=12)
    rng = random.Random(5)
    graduates, vacancies = market.graduates.copy(), market.vacancies.copy()
    fresh = matcher.index(_pool(market, graduates, vacancies))

    def same_answers(index: MatchIndex) -> None:
        answers = {}
        for bits in (True, False):
            monkeypatch.setattr(skill_bits, "MAX_SKILLS", 6 if bits else 0)
            answers[bits] = [
                [m.graduate_id for m in matcher.candidates_for(v, index=index, limit=20, filters=f).items]
                for v in index.vacancies.ids.ids.tolist()
                for f in FILTERS
            ]
        assert answers[True] == answers[False]

    same_answers(fresh)  # the bits built here, then carried over by the updates
    updated = _graduates_written(matcher, fresh, market, graduates, vacancies, rng, steps=6)
    bits = updated.graduates.skill_bits
    assert updated.graduates.order is not None and bits is not None
    assert bits.covered == len(fresh.graduates) < len(updated.graduates)  # appended rows scored densely
    same_answers(updated)
    assert used["approximate"] > 0


@pytest.mark.parametrize("few_rows", [4, 0, 10**6])
def test_exact_retrieval_reads_the_skill_half_from_bits_as_the_dense_scores(
    trained: Matcher, market: MarketData, few_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exact retrieval (no hnswlib index) takes its skill half from bits too: the same answers and scores as
    from a score per graduate, on a fresh index and on one with appended, edited and gone graduates, with
    the LightFM product over every row (10**6), over the filtered rows only (0) or as the size decides."""
    monkeypatch.setattr(matcher_module, "FEW_ROWS", few_rows)
    matcher = copy.copy(trained)
    matcher.config = replace(trained.config, retrieval_pool=20)
    calls = {"bits": 0}
    real_top = skill_bits.SkillLevels.top

    def counted(self: skill_bits.SkillLevels, *args: Any, **kwargs: Any) -> np.ndarray:
        calls["bits"] += 1
        return real_top(self, *args, **kwargs)

    monkeypatch.setattr(skill_bits.SkillLevels, "top", counted)
    rng = random.Random(11)
    graduates, vacancies = market.graduates.copy(), market.vacancies.copy()
    fresh = matcher.index(_pool(market, graduates, vacancies))
    assert fresh.ann is None and "skill_bits" in vars(fresh.graduates)  # built with the index

    def same_answers(index: MatchIndex) -> None:
        answers = {}
        for bits in (True, False):
            monkeypatch.setattr(skill_bits, "MAX_SKILLS", 6 if bits else 0)
            before = calls["bits"]
            answers[bits] = [
                [(m.graduate_id, m.score) for m in matcher.candidates_for(v, index=index, filters=f).items]
                for v in index.vacancies.ids.ids.tolist()
                for f in FILTERS
            ]
            assert (calls["bits"] > before) == bits
        assert answers[True] == answers[False]

    same_answers(fresh)
    updated = _graduates_written(matcher, fresh, market, graduates, vacancies, rng, steps=6)
    assert updated.graduates.order is not None  # rows no longer in id order
    same_answers(updated)


def _graduates_written(
    matcher: Matcher,
    index: MatchIndex,
    market: MarketData,
    graduates: pd.DataFrame,
    vacancies: pd.DataFrame,
    rng: random.Random,
    *,
    steps: int,
) -> MatchIndex:
    """``index`` updated by ``steps`` random rounds of graduates added, edited, placed and gone."""
    for step in range(steps):
        g, _, removed = _changes(market, graduates, vacancies, rng, step)
        graduates = pd.concat([graduates[~graduates[C.graduate].isin([*g[C.graduate], *removed])], g])
        index = matcher.update_index(
            index,
            MarketData(graduates=g[g[C.status] == "seeking"]),
            removed_graduates=[*removed, *g.loc[g[C.status] != "seeking", C.graduate]],
        )
    return index
