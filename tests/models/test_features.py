import itertools

import numpy as np
import pytest

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


def test_salary_bands_are_those_of_the_row_mean_of_the_ends_given() -> None:
    import pandas as pd

    from models.features import SALARY_EDGES, salary_band

    low = pd.Series(
        [None, 3000, "4500", np.nan, 12000.5, "x", 8000, 0, 30000], dtype=object, index=range(5, 14)
    )
    high = pd.Series(
        [5000, None, 5000, np.nan, 3000, 2000, "y", 1e9, 29999], dtype=object, index=range(5, 14)
    )
    mid = pd.concat([pd.to_numeric(low, errors="coerce"), pd.to_numeric(high, errors="coerce")], axis=1).mean(
        axis=1, skipna=True
    )
    expected = ["na" if np.isnan(m) else f"b{np.searchsorted(SALARY_EDGES, m, side='right')}" for m in mid]
    bands = salary_band(low, high)
    assert bands.tolist() == expected and bands.index.tolist() == list(range(5, 14))


def test_a_few_graduates_make_the_frame_many_do(monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    import models.features as features

    market = tiny_market()
    graduates = market.graduates.copy()
    graduates.loc[graduates.index[:4], "program_id"] = [
        "nope",
        None,
        f" {graduates['program_id'].iat[5]} ",
        np.nan,
    ]
    graduates.loc[graduates.index[4], "skills"] = None
    graduates.loc[graduates.index[5], "preferred_districts"] = np.nan
    graduates.loc[graduates.index[6], "major"] = None
    for rows in ([0], [1], [2, 3], [4, 5, 6], list(range(len(graduates)))):
        few = features.graduate_frame(graduates.iloc[rows], market.programs, market.schools)
        monkeypatch.setattr(features, "FEW_ROWS", -1)  # through pandas, as a full build
        many = features.graduate_frame(graduates.iloc[rows], market.programs, market.schools)
        monkeypatch.undo()
        pd.testing.assert_frame_equal(few, many)


def test_a_few_vacancies_make_the_frame_many_do(monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    import models.features as features

    market = tiny_market()
    vacancies = market.vacancies.copy()
    vacancies.loc[vacancies.index[:3], "enterprise_id"] = [
        "nope",
        None,
        f" {vacancies['enterprise_id'].iat[4]} ",
    ]
    vacancies.loc[vacancies.index[3], "required_skills"] = None
    vacancies.loc[vacancies.index[4], "preferred_skills"] = np.nan
    vacancies.loc[vacancies.index[5], "role"] = None
    vacancies.loc[vacancies.index[0], "closes_at"] = None
    vacancies.loc[vacancies.index[1], "salary_min"] = None
    in_ns = vacancies.astype({"posted_at": "datetime64[ns]", "closes_at": "datetime64[ns]"})  # store: [us]
    for frame, rows in itertools.product(
        (vacancies, in_ns), ([0], [1], [2, 3], [4, 5], list(range(len(vacancies))))
    ):
        few = features.vacancy_frame(frame.iloc[rows], market.enterprises)
        monkeypatch.setattr(features, "FEW_ROWS", -1)  # through pandas, as a full build
        many = features.vacancy_frame(frame.iloc[rows], market.enterprises)
        monkeypatch.undo()
        pd.testing.assert_frame_equal(few, many)


def test_a_few_rows_token_matrix_is_the_many_rows_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """A written row's tokens (plain Python) give the same normalised matrix as a full build's (pandas),
    entry for entry: repeated values once, unknown and empty values left out, every row summing to 1."""
    import models.features as features

    graduates, vacancies = market_frames(tiny_market())
    space = FeatureSpace().fit(graduates, vacancies)
    graduates.at[0, "skills"] = ["lithography", "lithography", "", "never_seen_skill"]
    graduates.at[1, "major"] = None
    vacancies.at[0, "required_skills"] = ["never_seen_skill"]
    vacancies.at[1, "salary_min"] = vacancies.at[1, "salary_max"] = None
    for transform, frame in ((space.transform_graduates, graduates), (space.transform_vacancies, vacancies)):
        for rows in ([0], [1], [0, 1, 2], list(range(len(frame)))):
            part = frame.iloc[rows].reset_index(drop=True)
            few = transform(part)
            monkeypatch.setattr(features, "FEW_ROWS", -1)
            many = transform(part)
            monkeypatch.undo()
            assert few.has_canonical_format and many.has_canonical_format
            for name in ("indptr", "indices", "data"):
                assert np.array_equal(getattr(few, name), getattr(many, name)), name
            sums = np.asarray(few.sum(axis=1)).ravel()
            assert np.allclose(sums[sums > 0], 1.0, atol=1e-6)
    lithography = space.graduate_vocab_.row("skill:lithography")
    row = space.transform_graduates(graduates.iloc[[0]]).toarray()[0]
    skills = [t for t in space.graduate_vocab_.ids if t.startswith("skill:")]
    assert row[lithography] > 0 and sum(row[space.graduate_vocab_.row(t)] > 0 for t in skills) == 1
