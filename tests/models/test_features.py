import numpy as np

from models.features import FeatureSpace, market_frames
from tests.bundles import tiny_market


def test_rows_sum_to_one_and_no_identity_features() -> None:
    graduates, vacancies = market_frames(tiny_market())
    space = FeatureSpace().fit(graduates, vacancies)
    x_g = space.transform_graduates(graduates)
    x_v = space.transform_vacancies(vacancies)
    assert np.allclose(np.asarray(x_g.sum(axis=1)).ravel(), 1.0)
    assert np.allclose(np.asarray(x_v.sum(axis=1)).ravel(), 1.0)
    tokens = set(space.graduate_vocab_.ids) | set(space.vacancy_vocab_.ids)
    assert not any(t.split(":", 1)[1] in set(graduates["graduate_id"]) for t in tokens)
    assert "sponsor:E1" in tokens and "req:lithography" in tokens and "segment:foundry" in tokens


def test_unknown_tokens_are_dropped() -> None:
    graduates, vacancies = market_frames(tiny_market())
    space = FeatureSpace().fit(graduates, vacancies)
    new = vacancies.head(1).copy()
    new["required_skills"] = [["never_seen_skill", "lithography"]]
    x = space.transform_vacancies(new)
    assert x.shape == (1, len(space.vacancy_vocab_))
    assert np.isclose(x.sum(), 1.0)
