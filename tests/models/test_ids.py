import numpy as np
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
