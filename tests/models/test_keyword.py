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
