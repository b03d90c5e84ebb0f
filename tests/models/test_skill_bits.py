"""The skill half from bits per skill (models.skill_bits) picks what the dense scores pick."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import models.skill_bits as skill_bits
from models.matcher import _top_tie_broken
from models.skill_bits import (
    MAX_SKILLS,
    MAX_SKILLS_WIDE,
    SkillBits,
    SkillLevels,
    level_values,
    max_skills,
    split_rows,
    top_by_skill,
)


def _market(seed: int, n: int, covered: int, skills: int) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    held = rng.random((n, skills)) < rng.uniform(0.05, 0.7, size=skills)
    return sp.csr_matrix(held.astype(np.float32))


@pytest.mark.parametrize("count_from", [1, skill_bits.COUNT_FROM, MAX_SKILLS_WIDE + 1])
@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(1, 700),
    appended=st.integers(0, 90),
    k=st.integers(1, 400),
    n_required=st.integers(1, 4),
    n_preferred=st.integers(0, 4),
    share=st.floats(0.05, 1.0),
    ordered=st.booleans(),
)
def test_bits_pick_the_rows_the_dense_scores_pick(
    count_from: int,
    seed: int,
    n: int,
    appended: int,
    k: int,
    n_required: int,
    n_preferred: int,
    share: float,
    ordered: bool,
) -> None:
    rng = np.random.default_rng(seed)
    total, skills = n + appended, 9
    matrix = _market(seed, total, n, skills)
    # The vacancy's weights as Matcher's retrieval has them: 1/n required, 0.5/m preferred.
    picked = rng.choice(skills, size=n_required + n_preferred, replace=False)
    wanted = np.zeros((skills, 1))
    wanted[picked[:n_required], 0] = 1.0 / n_required
    wanted[picked[n_required:], 0] = 0.5 / n_preferred if n_preferred else 0.0
    columns = np.flatnonzero(wanted[:, 0])
    assert len(columns) <= MAX_SKILLS_WIDE
    # Dense, as GraduateBlock.skill_scores: covered rows by column, appended ones by row.
    by_skill = sp.csc_matrix(matrix[:n])
    dense = np.vstack(
        [
            np.asarray(by_skill[:, columns] @ wanted[columns]),
            np.asarray(matrix[n:][:, columns] @ wanted[columns]),
        ]
    )[:, 0]
    # Passing rows in id order; ids in row order, or shuffled (rows appended by updates).
    rank = rng.permutation(total) if ordered else np.arange(total)
    passing = np.flatnonzero(rng.random(total) < share)
    rows = passing[np.argsort(rank[passing], kind="stable")]
    # Tie-break values with many exact ties (graduates with the same features).
    lightfm = rng.integers(0, 4, size=total).astype(np.float64)

    expected = _top_tie_broken(rows, dense[rows], lambda at: lightfm[rows[at]], k)
    # Levels read by ANDing each subset of the skills, or off counts of the skills held (``count_from``).
    with pytest.MonkeyPatch.context() as patch_counts:
        patch_counts.setattr(skill_bits, "COUNT_FROM", count_from)
        bits = SkillBits.of(by_skill, n)
        assert bits is not None
        head, tail = split_rows(rows, total, n)
        assert tail.tolist() == sorted(r for r in rows.tolist() if r >= n)
        got = top_by_skill(
            bits,
            head,
            columns,
            wanted[columns, 0],
            tail,
            dense[tail],
            k,
            lambda r: lightfm[r],
            lambda r: rank[r],
        )
        assert sorted(got.tolist()) == sorted(expected.tolist())
        # Each level's value is what the dense product gives its rows.
        values = level_values(wanted[columns, 0])
        old = rows[rows < n]
        codes = bits.held(old, columns) @ (1 << np.arange(len(columns)))
        assert np.array_equal(values[codes], dense[old])
        # The same through SkillLevels, as the matcher uses it (appended rows scored from the matrix by row);
        # a block this small reads by levels up to MAX_SKILLS skills, a wide one up to MAX_SKILLS_WIDE.
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(skill_bits, "WIDE_FROM", 0)
            levels = SkillLevels.of(bits, matrix, lambda: (head, tail), wanted)
        assert levels is not None
        assert (SkillLevels.of(bits, matrix, lambda: (head, tail), wanted) is None) is (
            len(columns) > MAX_SKILLS
        )
        assert np.array_equal(levels.scores(rows), dense[rows])
        assert sorted(levels.top(k, lambda r: lightfm[r], lambda r: rank[r]).tolist()) == sorted(
            expected.tolist()
        )


def test_a_matrix_that_is_not_0_1_has_no_bits() -> None:
    twice = sp.csc_matrix(np.array([[2.0, 0.0], [1.0, 1.0]], dtype=np.float32))
    assert SkillBits.of(twice, 2) is None
    empty = SkillBits.of(sp.csc_matrix((3, 2), dtype=np.float32), 3)
    assert empty is not None
    # Too many skills asked, or none: the dense path.
    matrix = sp.csr_matrix((3, 8), dtype=np.float32)
    assert (
        SkillLevels.of(empty.widened(8), matrix, lambda: (np.zeros(1), np.zeros(0)), np.zeros((8, 1))) is None
    )
    assert (
        SkillLevels.of(empty.widened(8), matrix, lambda: (np.zeros(1), np.zeros(0)), np.ones((8, 1))) is None
    )


@pytest.mark.parametrize("covered", [1, 63, 64, 65, 200])
def test_rows_split_at_the_covered_rows(covered: int) -> None:
    rows = np.array([0, 5, 62, 63, 64, 65, 127, 128, 199, 250, 255])
    head, tail = split_rows(rows, 256, covered)
    assert len(head) == -(-covered // 64)
    flags = np.unpackbits(head.view(np.uint8), bitorder="little")
    assert np.flatnonzero(flags).tolist() == [r for r in rows.tolist() if r < covered]
    assert tail.tolist() == [r for r in rows.tolist() if r >= covered]


def test_float32_weights_summed_in_float64_match_the_levels_whatever_the_skills_held() -> None:
    """The index stores a vacancy's weights as float32 (1/4, 1/3 ...). Summed in float64 (as retrieval's
    weights are cast), every subset's sum is exact, so the dense product equals each level's value and
    equal coverage ties; summed in float32, 1/4 + 3 x 1/3 depends on which 1/4 was held."""
    weights = np.array([0.25, 1 / 3, 1 / 3, 0.25, 1 / 3], dtype=np.float32)  # in skill-id order
    patterns = np.arange(1 << len(weights))
    held = sp.csc_matrix(((patterns[:, None] >> np.arange(len(weights))) & 1).astype(np.float32))
    values = level_values(weights)
    exact = np.asarray(held @ weights.astype(np.float64)[:, None])[:, 0]
    np.testing.assert_array_equal(exact, values)
    in_float32 = np.asarray(held @ weights[:, None])[:, 0]
    # Skills 0, 1, 2, 4 and skills 1, 2, 3, 4 both hold one 1/4 and three 1/3: one level, two float32 sums
    # (the 1/4 added first or third).
    assert values[0b10111] == values[0b11110] and in_float32[0b10111] != in_float32[0b11110]


def test_a_wide_block_reads_more_skills_by_levels(monkeypatch: pytest.MonkeyPatch) -> None:
    assert max_skills(skill_bits.WIDE_FROM - 1) == MAX_SKILLS
    assert max_skills(skill_bits.WIDE_FROM) == MAX_SKILLS_WIDE > MAX_SKILLS
    monkeypatch.setattr(skill_bits, "WIDE_FROM", 100)
    assert max_skills(99) == MAX_SKILLS and max_skills(100) == MAX_SKILLS_WIDE
