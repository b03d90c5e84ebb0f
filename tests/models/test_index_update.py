"""Updating an index in place of rebuilding it: ``IdMap.spliced``, ``models.index_update`` and the protocol's
``update_index`` answer exactly as a fresh index of the changed market, for every matcher."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import index as index_module
from models import index_update
from models.baselines import PopularityMatcher, RandomMatcher
from models.columns import Columns as C
from models.data import MarketData
from models.filters import candidate_rows, graduate_mask
from models.history import HistoryStats
from models.ids import IdMap, Splice
from models.index import GraduateBlock, MatchIndex
from models.keyword import KeywordMatcher
from models.matcher import Matcher as TrainedMatcher
from models.pairs import history_tables
from models.protocol import Matcher
from models.results import CandidateFilters, UnknownGraduate, VacancyFilters

EVERY_VACANCY = VacancyFilters(open_only=False)


@given(
    start=st.lists(st.integers(0, 60), unique=True, max_size=25),
    steps=st.lists(
        st.tuples(st.lists(st.integers(0, 60), max_size=4), st.lists(st.integers(0, 60), max_size=4)),
        max_size=8,
    ),
)
@settings(max_examples=300, derandomize=True, deadline=None)
def test_a_spliced_map_finds_every_id_where_a_fresh_one_would(
    start: list[int], steps: list[tuple[list[int], list[int]]]
) -> None:
    IdMap.REHASH_MIN = 4  # rehash now and then within an example too
    try:
        ids = sorted(f"i{n:03d}" for n in start)
        mapping = IdMap(ids)
        for dropped, added in steps:
            gone = {f"i{n:03d}" for n in dropped}
            new = sorted({f"i{n:03d}" for n in added})
            rows = mapping.rows(sorted(gone | set(new)))
            at = np.searchsorted(np.asarray(ids, dtype=object), np.asarray(new, dtype=object))
            mapping = mapping.spliced(Splice(len(ids), np.unique(rows[rows >= 0]), at), new)
            ids = sorted((set(ids) - gone) | set(new))
            assert mapping.ids.tolist() == ids
            probe = [*ids, *sorted(gone - set(new)), "absent"]
            assert mapping.rows(probe).tolist() == IdMap(ids).rows(probe).tolist()
            assert [int(mapping.rows([p])[0]) for p in probe] == IdMap(ids).rows(probe).tolist()  # one by one
            assert all(i in mapping for i in ids) and "absent" not in mapping
    finally:
        IdMap.REHASH_MIN = 1024


def _pool(data: MarketData, graduates: pd.DataFrame, vacancies: pd.DataFrame) -> MarketData:
    """The market as the store loads a candidate pool: seeking graduates and vacancies in id order."""
    return MarketData(
        skills=data.skills,
        enterprises=data.enterprises,
        schools=data.schools,
        programs=data.programs,
        graduates=graduates[graduates[C.status] == "seeking"]
        .sort_values(C.graduate, kind="mergesort")
        .reset_index(drop=True),
        vacancies=vacancies.sort_values(C.vacancy, kind="mergesort").reset_index(drop=True),
    )


def _changes(
    market: MarketData, graduates: pd.DataFrame, vacancies: pd.DataFrame, rng: random.Random, step: int
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """One random write: graduates and vacancies upserted, graduate ids removed."""
    skills = market.skills[C.skill].tolist()
    g = graduates.sample(n=rng.randint(1, 3), random_state=rng.randrange(10**6)).copy()
    v = vacancies.sample(n=rng.randint(1, 3), random_state=rng.randrange(10**6)).copy()
    kind = ["new", "edit", "leave", "remove"][(step + rng.randrange(2)) % 4]
    removed: list[str] = []
    if kind == "new":  # new ids, some with values no index has seen (a district, a role, a skill list)
        g[C.graduate] = [f"N{step:02d}{i}{rng.choice('AZaz')}" for i in range(len(g))]
        v[C.vacancy] = [f"M{step:02d}{i}{rng.choice('AZaz')}" for i in range(len(v))]
        v[C.district] = [f"新区{step}", *(rng.choice([d, "越城区"]) for d in v[C.district].iloc[1:])]
        v[C.role] = [f"role{step}", *(rng.choice([r, ""]) for r in v[C.role].iloc[1:])]
        g[C.preferred_districts] = [[rng.choice(["越城区", f"新区{step}"])] for _ in range(len(g))]
    elif kind == "edit":
        g[C.skills] = [rng.sample(skills, rng.randint(0, 5)) for _ in range(len(g))]
        v[C.required_skills] = [rng.sample(skills, rng.randint(1, 4)) for _ in range(len(v))]
        v[C.status] = [rng.choice(["open", "closed", "filled"]) for _ in range(len(v))]
    elif kind == "leave":  # no longer seeking: out of the pool
        g[C.status] = rng.choice(["placed", "withdrawn"])
        v = v.iloc[:0]
    else:
        removed = g[C.graduate].tolist()
        g, v = g.iloc[:0], v.iloc[:0]
    return g, v, removed


def _assert_same_answers(matcher: Matcher, updated: MatchIndex, fresh: MatchIndex) -> None:
    # Rows of graduates gone stay, dead, until a splice drops them; appended rows are at the end.
    in_order = updated.graduates.in_order(updated.graduates.live)
    assert updated.graduates.ids.ids[in_order].tolist() == fresh.graduates.ids.ids.tolist()
    assert fresh.graduates.live.all() and fresh.graduates.order is None
    assert updated.vacancies.ids.ids.tolist() == fresh.vacancies.ids.ids.tolist()
    for vacancy in fresh.vacancies.ids.ids.tolist():
        for filters in (CandidateFilters(), CandidateFilters(check_education=False, seeking_only=False)):
            a = matcher.candidates_for(vacancy, index=fresh, limit=15, filters=filters)
            b = matcher.candidates_for(vacancy, index=updated, limit=15, filters=filters)
            assert [m.graduate_id for m in b.items] == [m.graduate_id for m in a.items] and b.total == a.total
            np.testing.assert_allclose([m.score for m in b.items], [m.score for m in a.items], rtol=1e-12)
            assert [m.reasons for m in b.items] == [m.reasons for m in a.items]
    for graduate in fresh.graduates.ids.ids.tolist()[::3]:
        a = matcher.vacancies_for(graduate, index=fresh, limit=15, filters=EVERY_VACANCY)
        b = matcher.vacancies_for(graduate, index=updated, limit=15, filters=EVERY_VACANCY)
        assert [m.vacancy_id for m in b.items] == [m.vacancy_id for m in a.items] and b.total == a.total
        np.testing.assert_allclose([m.score for m in b.items], [m.score for m in a.items], rtol=1e-12)


@pytest.mark.parametrize("reorder", ["append", "splice", "both"])
@pytest.mark.parametrize("name", ["trained", "keyword", "random", "popularity"])
def test_an_updated_index_answers_as_a_fresh_one(
    name: str, reorder: str, trained: TrainedMatcher, market: MarketData, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Graduates written are appended (rows out of id order), spliced in (id order), or appended until
    # a few pile up, then spliced.
    limit = {"append": 10**9, "splice": 0, "both": 5}[reorder]
    monkeypatch.setattr(index_update, "REORDER_MIN", limit)
    monkeypatch.setattr(index_update, "REORDER_SHARE", 10**9)
    matcher: Matcher = {
        "trained": trained,
        "keyword": KeywordMatcher().fit(),
        "random": RandomMatcher(seed=3).fit(market),
        "popularity": PopularityMatcher().fit(market),
    }[name]
    rng = random.Random(17)
    graduates, vacancies = market.graduates.copy(), market.vacancies.copy()
    index = matcher.index(_pool(market, graduates, vacancies))
    grew = False
    for step in range(12):
        g, v, removed = _changes(market, graduates, vacancies, rng, step)
        graduates = pd.concat([graduates[~graduates[C.graduate].isin([*g[C.graduate], *removed])], g])
        vacancies = pd.concat([vacancies[~vacancies[C.vacancy].isin(v[C.vacancy])], v])
        before = index
        index = matcher.update_index(
            index,
            MarketData(graduates=g[g[C.status] == "seeking"], vacancies=v),
            removed_graduates=[*removed, *g.loc[g[C.status] != "seeking", C.graduate]],
        )
        grew |= index.vocab is not before.vocab
        assert len(before.graduates.ids) == len(before.graduates)  # the old index is left as it was
        _assert_sponsored_rows(index.graduates)  # made here, then carried over by the next updates
        _assert_positions(index.graduates, np.random.default_rng(step))
    assert grew, "no write brought a value new to the vocabularies"
    _assert_same_answers(matcher, index, matcher.index(_pool(market, graduates, vacancies)))


def _assert_sponsored_rows(block: GraduateBlock) -> None:
    """Each sponsor's rows from the block's index by sponsor (carried over, rows appended since read from
    the column) are those a comparison of the whole column finds."""
    for code in [-1, *np.unique(block.sponsor).tolist(), int(block.sponsor.max(initial=0)) + 1]:
        np.testing.assert_array_equal(block.sponsored_rows(code), np.flatnonzero(block.sponsor == code))


def _assert_positions(block: GraduateBlock, rng: np.random.Generator) -> None:
    """``positions`` of rows (repeated, dead, unknown, of every kind of block) in a kept passing array, by
    its map, and in another array in id order, by binary searches: those a plain lookup finds."""
    kept = block.passing_rows(seeking_only=True, min_education=-1)
    other = kept[::2].copy()  # not one that ``passing_rows`` gives: searched
    wanted = np.concatenate([rng.integers(-1, len(block), size=50), kept[:3], kept[:3]])
    for rows in (kept, other, other[:0]):
        where = {int(r): i for i, r in enumerate(rows.tolist())}
        expected = sorted({where[w] for w in wanted.tolist() if w in where})
        for _ in range(2):  # the map made, then read
            np.testing.assert_array_equal(block.positions(rows, wanted), np.array(expected, dtype=np.int64))


def test_a_block_nothing_touched_is_shared(trained: TrainedMatcher, market: MarketData) -> None:
    index = trained.index(_pool(market, market.graduates, market.vacancies))
    vacancy = market.vacancies.iloc[[0]].assign(**{C.title: "改了"})
    updated = trained.update_index(index, MarketData(vacancies=vacancy))
    assert updated.graduates is index.graduates and updated.tables is index.tables
    assert updated.vacancies is not index.vacancies
    assert (
        trained.update_index(index, MarketData(), removed_graduates=["nobody"]).graduates is index.graduates
    )


def test_a_grown_vocabulary_recomputes_only_the_tables_it_codes(
    trained: TrainedMatcher, market: MarketData
) -> None:
    """A vacancy with a role no one had: the roles and families grow, so the history tables coded by them
    are computed again (as a fresh computation gives them) and every other table is the old one."""
    index = trained.index(_pool(market, market.graduates, market.vacancies))
    vacancy = market.vacancies.iloc[[0]].assign(**{C.vacancy: "V_NEW", C.role: "全新的岗位"})
    updated = trained.update_index(index, MarketData(vacancies=vacancy))
    assert updated.vocab.roles is not index.vocab.roles and updated.vocab.families is not index.vocab.families
    assert updated.vocab.enterprises is index.vocab.enterprises
    fresh = history_tables(trained.stats_, updated)
    assert set(updated.tables) == set(fresh) == set(index.tables)
    for name, table in fresh.items():
        np.testing.assert_array_equal(updated.tables[name], table, err_msg=name)
    recomputed = {name for name in fresh if updated.tables[name] is not index.tables[name]}
    assert recomputed == {"program_role", "program_family", "program_family_rate"}


def test_a_vocabulary_grown_by_values_with_history_is_computed_for_those_values_only(
    trained: TrainedMatcher, market: MarketData, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A role the pool lacks but the history knows (its vacancies closed, one posted again): the tables
    coded by roles gain a column computed from the statistics that name the role, the old values' block
    kept, and equal a full computation's, the role's history included."""
    stats = trained.stats_
    role = str(stats.pair_counts["program_role"].groupby(level=1).size().idxmax())  # the most history
    index = trained.index(_pool(market, market.graduates, market.vacancies[market.vacancies[C.role] != role]))
    assert role not in index.vocab.roles
    asked: list[tuple[str, int]] = []
    lift_matrix = HistoryStats.lift_matrix

    def spied(self: HistoryStats, name: str, *args: Any, **kwargs: Any) -> np.ndarray:
        only = kwargs.get("only")
        asked.append((name, -1 if only is None else len(only)))
        return lift_matrix(self, name, *args, **kwargs)

    monkeypatch.setattr(HistoryStats, "lift_matrix", spied)
    posted = market.vacancies[market.vacancies[C.role] == role].iloc[[0]]
    updated = trained.update_index(index, MarketData(vacancies=posted))
    monkeypatch.undo()
    fresh = history_tables(stats, updated)
    for name, table in fresh.items():
        np.testing.assert_array_equal(updated.tables[name], table, err_msg=name)
    column = updated.vocab.roles.row(role)
    assert (fresh["program_role"][:-1, column] != fresh["program_role"][:-1, -1]).any()  # seen, not unseen
    # Only the role's entries were read for its table (not a full computation).
    assert dict(asked)["program_role"] == int(
        (stats.pair_counts["program_role"].index.get_level_values(1) == role).sum()
    )


def test_a_skill_new_to_the_pool_gets_its_employer_shares_from_its_own_statistics(
    trained: TrainedMatcher, market: MarketData, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A skill the history knows but the pool (catalogue, graduates, vacancies) lacks, brought by an
    uploaded graduate: the employer x skill table gains its column from the skill's own entries, the
    other columns kept, and equals a full computation's."""
    stats = trained.stats_
    skill = str(stats.advanced_skills.groupby(level=1).size().idxmax())

    def without(values: object) -> list[str]:
        return [v for v in (values or []) if v != skill]  # type: ignore[attr-defined]

    frames = _pool(market, market.graduates, market.vacancies).frames()
    frames["skills"] = frames["skills"][frames["skills"][C.skill] != skill]
    frames["graduates"] = frames["graduates"].assign(**{C.skills: frames["graduates"][C.skills].map(without)})
    for column in (C.required_skills, C.preferred_skills):
        frames["vacancies"] = frames["vacancies"].assign(**{column: frames["vacancies"][column].map(without)})
    index = trained.index(MarketData(**frames))
    assert skill not in index.vocab.skills
    uploaded = (
        frames["graduates"]
        .iloc[[0]]
        .assign(**{C.graduate: "G_NEW", C.skills: [[*frames["graduates"][C.skills].iat[0], skill]]})
    )
    asked: list[int] = []
    advanced_skill_matrix = HistoryStats.advanced_skill_matrix

    def spied(self: HistoryStats, *args: Any, only: pd.Series | None = None) -> np.ndarray:
        asked.append(-1 if only is None else len(only))
        return advanced_skill_matrix(self, *args, only=only)

    monkeypatch.setattr(HistoryStats, "advanced_skill_matrix", spied)
    updated = trained.update_index(index, MarketData(graduates=uploaded))
    monkeypatch.undo()
    assert skill in updated.vocab.skills
    # Only the skill's entries were read for its column.
    assert asked == [int((stats.advanced_skills.index.get_level_values(1) == skill).sum())]
    fresh = history_tables(stats, updated)
    for name, table in fresh.items():
        np.testing.assert_array_equal(updated.tables[name], table, err_msg=name)
    column = updated.tables["advanced_skills"][:-1, updated.vocab.skills.row(skill)]
    assert (column != updated.tables["advanced_skills"][-1, updated.vocab.skills.row(skill)]).any()


def test_a_graduate_gone_is_found_and_ranked_nowhere(trained: TrainedMatcher, market: MarketData) -> None:
    index = trained.index(_pool(market, market.graduates, market.vacancies))
    vacancy = str(index.vacancies.ids.ids[0])
    everyone = CandidateFilters(seeking_only=False, check_education=False)
    gone = trained.candidates_for(vacancy, index=index, limit=5, filters=everyone).items[0].graduate_id
    updated = trained.update_index(index, MarketData(), removed_graduates=[gone])
    # No array copied: the row stays, dead.
    assert updated.graduates.skills is index.graduates.skills and len(updated.graduates) == len(
        index.graduates
    )
    assert gone not in updated.graduates.ids and gone in index.graduates.ids
    ranked = trained.candidates_for(vacancy, index=updated, limit=1000, filters=everyone)
    assert gone not in {m.graduate_id for m in ranked.items} and ranked.total == len(index.graduates) - 1
    with pytest.raises(UnknownGraduate):
        trained.vacancies_for(gone, index=updated)
    with pytest.raises(UnknownGraduate):
        trained.score_pairs([gone], [vacancy], index=updated)
    # Back again: a new row at the end (the dead one stays), in id order where its id sorts.
    row = market.graduates[market.graduates[C.graduate] == gone]
    back = trained.update_index(updated, MarketData(graduates=row)).graduates
    assert len(back) == len(index.graduates) + 1 and back.ids.row(gone) == len(index.graduates)
    assert back.ids.ids[back.in_order(back.live)].tolist() == index.graduates.ids.ids.tolist()
    # Once appended and dead rows pile up, a splice drops the dead row and puts the rows back in id order.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(index_update, "REORDER_MIN", 0)
        patch.setattr(index_update, "REORDER_SHARE", 10**9)
        spliced = trained.update_index(updated, MarketData(graduates=row)).graduates
    assert spliced.live.all() and spliced.order is None
    assert spliced.ids.ids.tolist() == index.graduates.ids.ids.tolist()


def test_appended_graduates_are_written_past_the_rows_an_older_index_sees(
    trained: TrainedMatcher, market: MarketData
) -> None:
    index = trained.index(_pool(market, market.graduates, market.vacancies))
    n = len(index.graduates)
    template = market.graduates[market.graduates[C.status] == "seeking"].iloc[[0, 1]]
    first = trained.update_index(index, MarketData(graduates=template.assign(**{C.graduate: ["A1", "Z1"]})))
    # Written into the spare rows behind the older index's arrays: nothing of the block copied.
    for name, array in index.graduates.arrays.items():
        assert np.shares_memory(first.graduates.arrays[name], array), name
    assert np.shares_memory(first.graduates.skills.indices, index.graduates.skills.indices)
    assert len(index.graduates) == n and "A1" not in index.graduates.ids  # the older index as it was
    assert first.graduates.ids.rows(["A1", "Z1"]).tolist() == [n, n + 1]
    in_order = first.graduates.ids.ids[first.graduates.order].tolist()
    assert in_order == sorted(in_order) and first.graduates.order[0] == n  # "A1" sorts first
    # A second write from the same older index cannot use those rows: it copies, and both stay right.
    second = trained.update_index(
        index, MarketData(graduates=template.iloc[[0]].assign(**{C.graduate: "B1"}))
    )
    assert not np.shares_memory(second.graduates.skills.indices, first.graduates.skills.indices)
    assert "A1" in first.graduates.ids and "A1" not in second.graduates.ids and "B1" in second.graduates.ids
    vacancy = str(index.vacancies.ids.ids[0])
    everyone = CandidateFilters(seeking_only=False, check_education=False)
    for updated, ids in ((first, ["A1", "Z1"]), (second, ["B1"])):
        pool = market.graduates[market.graduates[C.status] == "seeking"]
        added = pd.concat([pool, template.iloc[: len(ids)].assign(**{C.graduate: ids})])
        fresh = trained.index(_pool(market, added, market.vacancies))
        a = trained.candidates_for(vacancy, index=fresh, limit=50, filters=everyone)
        b = trained.candidates_for(vacancy, index=updated, limit=50, filters=everyone)
        assert [m.graduate_id for m in b.items] == [m.graduate_id for m in a.items] and a.total == b.total


@pytest.mark.parametrize(
    "lists",
    [
        [["b", "a", "a"]],
        [[]],
        [None],
        [np.nan],
        ["c"],
        [("d", "unknown")],
        [["a"], [], ["d", "b"], None],
        [np.array(["c", "a"])],
    ],
)
def test_a_written_row_s_lists_make_the_matrix_a_full_build_makes(
    lists: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    vocab = IdMap(["a", "b", "c", "d"])
    values = pd.Series(lists, dtype=object)
    few = index_module.list_matrix(values, vocab)  # a few rows: read in Python
    monkeypatch.setattr(index_module, "SMALL_FRAME", -1)
    many = index_module.list_matrix(values, vocab)  # through pandas, as a full build
    assert few.shape == many.shape and few.dtype == many.dtype and few.indices.dtype == many.indices.dtype
    assert few.indices.tolist() == many.indices.tolist() and few.indptr.tolist() == many.indptr.tolist()
    assert few.data.tolist() == many.data.tolist()


def test_the_rows_kept_per_block_are_those_the_filters_pass(
    trained: TrainedMatcher, market: MarketData
) -> None:
    # ``candidate_rows`` keeps the seeking/education rows per block; a block an update makes starts afresh.
    index = trained.index(_pool(market, market.graduates, market.vacancies))
    vacancies = index.vacancies
    rows_of = {str(v): r for r, v in enumerate(vacancies.ids.ids.tolist())}
    some = index.graduates.ids.ids[::7].tolist()

    def check(at: MatchIndex) -> None:
        g = at.graduates
        for vacancy, row in list(rows_of.items())[::5]:
            for filters in (
                CandidateFilters(),
                CandidateFilters(check_education=False),
                CandidateFilters(seeking_only=False, exclude_graduates=(*some[:5], "nobody")),
                CandidateFilters(exclude_graduates=tuple(some)),
                CandidateFilters(district="越城区", exclude_graduates=tuple(some[:3])),
            ):
                expected = g.in_order(graduate_mask(at, at.vacancies, row, filters))
                got = candidate_rows(at, at.vacancies, row, filters)
                assert got.tolist() == expected.tolist(), (vacancy, filters)
        passing = g.passing_rows(seeking_only=True, min_education=-1)
        assert not passing.flags.writeable
        # Their id-order keys, kept with them (ascending: the rows are in id order).
        keys = g.rows_keys(passing)
        assert keys.tolist() == g.order_key(passing).tolist() and (np.diff(keys) > 0).all()
        assert g.rows_keys(passing) is keys or g.order is None

    check(index)
    # Graduates appended (rows out of id order), one edited (its old row dead), one gone, one placed.
    edited = market.graduates.iloc[[3]].assign(**{C.skills: [["封装"]]})
    new = market.graduates.iloc[[5, 8]].assign(**{C.graduate: ["A000new", "Z999new"]})
    updated = trained.update_index(
        index, MarketData(graduates=pd.concat([edited, new])), removed_graduates=[some[1], some[2]]
    )
    assert updated.graduates.order is not None and not updated.graduates.live.all()
    check(updated)
    check(index)  # the older block's rows unchanged
