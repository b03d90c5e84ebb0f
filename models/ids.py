"""Ids: the one documented pattern every id must match, and the one place that turns external ids into
matrix rows and back (like RecTools' ``IdMap``).

Models never index arrays with database ids: they ask an :class:`IdMap` for rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

# Graduate, programme, vacancy, enterprise, school and skill ids: an ASCII letter or digit, then at most 63
# letters, digits, '.', '_' or '-'. No '/', no space, no control or bidi characters: an id is always one
# safe URL path segment, a file name part and a log-safe token (checked at every entry: bundle, upload, API).
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
ID_MAX_LENGTH = 64
ID_RULE = "1-64 characters: ASCII letters, digits, '.', '_' or '-', starting with a letter or a digit"
_ID = re.compile(ID_PATTERN)


class InvalidId(ValueError):
    """An id that does not match :data:`ID_PATTERN`; the message names its kind, never repeats the value."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(f"{kind} must be {ID_RULE}")


def is_valid_id(value: object) -> bool:
    """Whether ``value`` is a string matching :data:`ID_PATTERN`."""
    # fullmatch: '$' alone would accept one trailing newline.
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def check_id(kind: str, value: object) -> str:
    """``value`` when it matches :data:`ID_PATTERN`, else :class:`InvalidId` naming ``kind``
    (e.g. ``"graduate_id"``)."""
    if not is_valid_id(value):
        raise InvalidId(kind)
    return str(value)


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
