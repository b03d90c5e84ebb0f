"""The one place that turns external ids into matrix rows and back (like RecTools' ``IdMap``).

Models never index arrays with database ids: they ask an :class:`IdMap` for rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd


class IdMap:
    """An ordered, duplicate-free list of external ids and their row numbers.

    Parameters
    ----------
    ids
        External ids in row order; duplicates are dropped (first wins).
    """

    def __init__(self, ids: Iterable[object]) -> None:
        unique = pd.unique(pd.Series(list(ids), dtype=object))
        self.ids: np.ndarray = np.asarray(unique, dtype=object)
        self._index = pd.Index(self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, external_id: object) -> bool:
        return external_id in self._index

    def row(self, external_id: object) -> int:
        """Row of one id; ``KeyError`` when unknown."""
        row = self._index.get_indexer([external_id])[0]
        if row < 0:
            raise KeyError(external_id)
        return int(row)

    def rows(
        self, external_ids: Sequence[object] | np.ndarray | pd.Series, *, missing: int = -1
    ) -> np.ndarray:
        """Rows of many ids (vectorised); unknown ids get ``missing``."""
        if len(external_ids) == 0:
            return np.zeros(0, dtype=np.int64)
        rows = self._index.get_indexer(pd.Index(np.asarray(external_ids, dtype=object)))
        rows = rows.astype(np.int64)
        if missing != -1:
            rows[rows < 0] = missing
        return rows

    def external(self, rows: np.ndarray | Sequence[int]) -> list[str]:
        """External ids of rows."""
        return [str(x) for x in self.ids[np.asarray(rows, dtype=np.int64)]]

    def extended(self, ids: Iterable[object]) -> IdMap:
        """A new map with ``ids`` appended (existing rows keep their numbers)."""
        return IdMap([*self.ids.tolist(), *ids])

    def __getstate__(self) -> dict[str, object]:
        return {"ids": self.ids}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.ids = np.asarray(state["ids"], dtype=object)
        self._index = pd.Index(self.ids)
