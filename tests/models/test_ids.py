import numpy as np
import pandas as pd
import pytest

from models.ids import IdMap


def test_rows_and_back() -> None:
    ids = IdMap(["b", "a", "b", "c"])
    assert len(ids) == 3
    assert ids.rows(["c", "x", "b"]).tolist() == [2, -1, 0]
    assert ids.external(np.array([1, 2])) == ["a", "c"]
    assert ids.row("a") == 1 and "a" in ids and "x" not in ids
    with pytest.raises(KeyError):
        ids.row("x")


def test_extended_keeps_rows() -> None:
    ids = IdMap(["a", "b"]).extended(["c", "a"])
    assert ids.rows(["a", "b", "c"]).tolist() == [0, 1, 2]


def _naive_rows_with(ids: IdMap, keyed: pd.Series) -> dict[int, float]:
    """Each row that an id of ``keyed`` leads to, and its value (the definition)."""
    return {
        int(row): float(value)
        for key, value in keyed.items()
        if (row := ids.rows(np.asarray([key], dtype=object))[0]) >= 0
    }


@pytest.mark.parametrize("n_keyed", [3, 40, 400])
def test_rows_with_finds_the_same_rows_from_either_side(n_keyed: int) -> None:
    """A map of a few ids looks them up in a long series, a long map the series' ids in it; either way
    the rows an id names and their values, the rows no id names any more (after ``without``) left out."""
    rng = np.random.default_rng(n_keyed)
    universe = [f"G{i:04d}" for i in range(500)]
    keyed = pd.Series(rng.random(n_keyed), index=rng.choice(universe, n_keyed, replace=False))
    fresh = IdMap(universe[:30])
    gone = fresh.without(universe[:5])  # rows 0-4 stay in ``ids``, named by no lookup
    grown = gone.appended(np.asarray([*gone.ids, "G0003", "G0450"], dtype=object), ["G0003", "G0450"])
    for ids in (fresh, gone, grown, IdMap(universe)):
        rows, values = ids.rows_with(keyed)
        assert dict(zip(rows.tolist(), values.tolist(), strict=True)) == _naive_rows_with(ids, keyed)
