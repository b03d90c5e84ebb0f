from models.keyword import KeywordMatcher
from tests.bundles import tiny_market


def test_ranks_by_required_share() -> None:
    data = tiny_market()
    matcher = KeywordMatcher().fit(data)
    index = matcher.index(data)
    result = matcher.candidates_for("V1", index=index, limit=20)
    scores = [m.score for m in result.items]
    assert scores == sorted(scores, reverse=True)
    assert result.items[0].matched_skills
    assert all(0 <= s <= 1 for s in scores)
    assert matcher.learned_arrays() == {}


def test_one_query_against_many_counts_as_pair_by_pair() -> None:
    """One vacancy against many graduates (or one graduate against many vacancies) is one matrix-vector
    product; it gives what pairing the rows one by one gives."""
    import numpy as np

    from models.keyword import skill_coverage
    from tests.models.conftest import small_market

    data = small_market()
    index = KeywordMatcher().fit(data).index(data)
    graduates, vacancies = index.graduates, index.vacancies
    rng = np.random.default_rng(0)
    few = rng.integers(0, len(graduates), 7)
    for g_rows, v_rows in (
        (np.arange(len(graduates)), np.full(len(graduates), 3)),  # the whole pool
        (few, np.full(len(few), 5)),  # a few rows of it
        (np.full(len(vacancies), 11), np.arange(len(vacancies))),
    ):
        together = skill_coverage(graduates, g_rows, vacancies, v_rows)
        # Two different rows on both sides: the general, pair-by-pair product.
        one_by_one = [
            skill_coverage(
                graduates,
                np.array([g, (g + 1) % len(graduates)]),
                vacancies,
                np.array([v, (v + 1) % len(vacancies)]),
            )
            for g, v in zip(g_rows, v_rows, strict=True)
        ]
        for got, want in zip(together, zip(*one_by_one, strict=True), strict=True):
            assert np.array_equal(got, [w[0] for w in want])
