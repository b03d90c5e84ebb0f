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


class Splice:
    """How the rows of one id-keyed block become the rows of its successor: some old rows dropped, some new
    rows inserted, everything else kept in order. Cost O(pieces) to plan and one copy per array to apply.

    Parameters
    ----------
    n_old
        Rows of the old block.
    drop
        Old rows that go (sorted, unique); an old row being replaced is dropped and its new row inserted.
    insert_at
        For each new row (in order), the old row it goes before (``n_old``: at the end); non-decreasing.
    """

    def __init__(self, n_old: int, drop: np.ndarray, insert_at: np.ndarray) -> None:
        self.n_old = int(n_old)
        self.n_new = len(insert_at)
        dropped = set(np.asarray(drop, dtype=np.int64).tolist())
        # (from_new, start, stop): runs of old rows kept, and runs of new rows, in the successor's order.
        pieces: list[tuple[bool, int, int]] = []
        insert_at = np.asarray(insert_at, dtype=np.int64)
        old_start = j = 0
        for cut in sorted(dropped | set(insert_at.tolist())):
            if cut > old_start:
                pieces.append((False, old_start, cut))
                old_start = cut
            k = j + int(np.searchsorted(insert_at[j:], cut, side="right"))
            if k > j:
                pieces.append((True, j, k))
                j = k
            if cut in dropped:
                old_start = cut + 1
        if old_start < self.n_old:
            pieces.append((False, old_start, self.n_old))
        self.pieces = tuple(pieces)
        self.n_result = sum(stop - start for _, start, stop in pieces)

    @property
    def changes_nothing(self) -> bool:
        return self.n_new == 0 and self.n_result == self.n_old

    def take(self, old: np.ndarray, new: np.ndarray | None) -> np.ndarray:
        """The successor's rows (axis 0) from the old rows and the new ones (``None`` when there are none)."""
        parts = []
        for from_new, start, stop in self.pieces:
            source = new if from_new else old
            assert source is not None, "a splice with new rows needs them"
            parts.append(source[start:stop])
        return np.concatenate(parts, axis=0) if parts else old[:0]

    def old_rows(self) -> np.ndarray:
        """Each old row's row in the successor (``-1``: dropped)."""
        out = np.full(self.n_old, -1, dtype=np.int64)
        at = 0
        for from_new, start, stop in self.pieces:
            if not from_new:
                out[start:stop] = np.arange(at, at + stop - start)
            at += stop - start
        return out

    def new_rows(self) -> np.ndarray:
        """Each new row's row in the successor."""
        out = np.zeros(self.n_new, dtype=np.int64)
        at = 0
        for from_new, start, stop in self.pieces:
            if from_new:
                out[start:stop] = np.arange(at, at + stop - start)
            at += stop - start
        return out


# Up to this many ids, :meth:`IdMap.rows` looks each up in the hash table (building a pandas Index of the ids
# asked costs ~50 us, one lookup ~1 us).
FEW_IDS = 16


class IdMap:
    """An ordered, duplicate-free list of external ids and their row numbers.

    Parameters
    ----------
    ids
        External ids in row order; duplicates are dropped (first wins).
    """

    # A spliced map (:meth:`spliced`) keeps its predecessor's hash index and remembers where those ids
    # went, plus the ids that are new since; rehashing 170k ids on every change would cost ~30 ms. It is
    # rebuilt once the new ids pass this share of the map.
    REHASH_SHARE = 64
    REHASH_MIN = 1024

    def __init__(self, ids: Iterable[object]) -> None:
        unique = pd.unique(pd.Series(list(ids), dtype=object))
        self.ids: np.ndarray = np.asarray(unique, dtype=object)
        self._reset()

    def _reset(self) -> None:
        self._index = pd.Index(self.ids)
        self._moved: np.ndarray | None = None  # row here of each id of ``_index`` (-1: gone); None: same
        self._added: dict[object, int] = {}  # ids not in ``_index`` -> row here

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, external_id: object) -> bool:
        return self._row_of(external_id) >= 0

    def row(self, external_id: object) -> int:
        """Row of one id; ``KeyError`` when unknown."""
        row = self._row_of(external_id)
        if row < 0:
            raise KeyError(external_id)
        return row

    def _row_of(self, external_id: object) -> int:
        """``rows([external_id])[0]`` by one hash lookup (every request asks for one id; building an
        index of the one id to ask ``get_indexer`` costs ~50x more)."""
        try:
            found = self._index.get_loc(external_id)
        except (KeyError, TypeError):
            found = -1
        if not isinstance(found, int | np.integer):  # not a plain hit (cannot happen: ids are unique)
            return int(self._indexed(np.asarray([external_id], dtype=object))[0])
        row = int(found)
        if row >= 0 and self._moved is not None:
            row = int(self._moved[row])
        if row < 0 and self._added:
            row = self._added.get(external_id, -1)
        return row

    def rows(
        self, external_ids: Sequence[object] | np.ndarray | pd.Series, *, missing: int = -1
    ) -> np.ndarray:
        """Rows of many ids (vectorised); unknown ids get ``missing``."""
        if len(external_ids) == 0:
            return np.zeros(0, dtype=np.int64)
        wanted = np.asarray(external_ids, dtype=object)
        if len(wanted) <= FEW_IDS:  # a written row's codes: hash lookups, no index of the ids asked
            rows = np.fromiter((self._row_of(w) for w in wanted.tolist()), dtype=np.int64, count=len(wanted))
        else:
            rows = self._indexed(wanted)
        if missing != -1:
            rows[rows < 0] = missing
        return rows

    def _indexed(self, wanted: np.ndarray) -> np.ndarray:
        """Rows of ``wanted`` through one pandas indexer (``-1``: unknown)."""
        rows = self._index.get_indexer(pd.Index(wanted)).astype(np.int64)
        if self._moved is not None:
            hit = rows >= 0
            rows[hit] = self._moved[rows[hit]]
        if self._added:
            for i in np.flatnonzero(rows < 0).tolist():
                rows[i] = self._added.get(wanted[i], -1)
        return rows

    def rows_with(self, keyed: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """The rows whose id ``keyed`` (values indexed by id) holds a value for, and those values.

        Looked up from the smaller side: a written row's map of one id looks that id up in the series,
        rather than the series' ids (a history rate per graduate: 100k+) in the map, which cost ~10 ms of
        every graduate written at the large scale.
        """
        values = keyed.to_numpy()
        if 8 * len(self) < len(keyed) and keyed.index.is_unique:
            at = keyed.index.get_indexer(pd.Index(self.ids))  # the same dtype inferred (an object one: ~200x)
            rows = np.flatnonzero(at >= 0)
            if self._moved is not None or self._added:  # some rows are no longer named by their id
                rows = rows[self.rows(self.ids[rows]) == rows]
            return rows, values[at[rows]]
        rows = self.rows(keyed.index.to_numpy())
        keep = rows >= 0
        return rows[keep], values[keep]

    def external(self, rows: np.ndarray | Sequence[int]) -> list[str]:
        """External ids of rows."""
        return [str(x) for x in self.ids[np.asarray(rows, dtype=np.int64)]]

    def extended(self, ids: Iterable[object]) -> IdMap:
        """A new map with ``ids`` appended (existing rows keep their numbers)."""
        return IdMap([*self.ids.tolist(), *ids])

    def spliced(self, splice: Splice, new_ids: Sequence[object]) -> IdMap:
        """The map of a block spliced by ``splice`` whose new rows hold ``new_ids`` (none of them among the
        ids ``splice`` keeps). O(len) integer work; no rehash of the kept ids."""
        new = np.asarray(new_ids, dtype=object)
        out = IdMap.__new__(IdMap)
        out.ids = splice.take(self.ids, new)
        if len(self._added) + len(new) > max(self.REHASH_MIN, len(out.ids) // self.REHASH_SHARE):
            out._reset()
            return out
        old_rows = splice.old_rows()
        if self._moved is None:
            moved = old_rows.copy()
        else:
            moved = np.full(len(self._moved), -1, dtype=np.int64)
            kept = self._moved >= 0
            moved[kept] = old_rows[self._moved[kept]]
        added = {key: int(old_rows[row]) for key, row in self._added.items() if old_rows[row] >= 0}
        new_rows = splice.new_rows()
        known = self._index.get_indexer(pd.Index(new)) if len(new) else np.zeros(0, dtype=np.int64)
        for key, at, row in zip(new.tolist(), known.tolist(), new_rows.tolist(), strict=True):
            if at >= 0:
                moved[at] = row
            else:
                added[key] = row
        out._index, out._moved, out._added = self._index, moved, added
        return out

    def appended(self, ids: np.ndarray, new_ids: Sequence[object]) -> IdMap:
        """The map of a block grown at the end: ``ids`` is this map's :attr:`ids` followed by ``new_ids``
        (none of them found here: an id being replaced was taken out with :meth:`without` first). O(new
        ids), plus a rehash of the ids found once the new ones pass :attr:`REHASH_SHARE` of the map."""
        out = IdMap.__new__(IdMap)
        out.ids = ids
        out._index, out._moved = self._index, self._moved
        start = len(self.ids)
        out._added = {**self._added, **{key: start + i for i, key in enumerate(new_ids)}}
        if len(out._added) > max(self.REHASH_MIN, len(ids) // self.REHASH_SHARE):
            return out._rehashed()
        return out

    def _rehashed(self) -> IdMap:
        """This map with one hash index of the ids it finds (a row left by :meth:`without` stays unnamed)."""
        found = self.rows(self.ids)
        own = found == np.arange(len(self.ids))  # rows their id leads to
        out = IdMap.__new__(IdMap)
        out.ids = self.ids
        if own.all():
            out._reset()
            return out
        out._index = pd.Index(self.ids[own])
        out._moved, out._added = np.flatnonzero(own).astype(np.int64), {}
        return out

    def without(self, gone: Sequence[object]) -> IdMap:
        """This map with the ids ``gone`` no longer found; every other id keeps its row (the rows of the
        ones gone are left in :attr:`ids`, unnamed by any lookup). O(len) integers; ``ids`` is shared."""
        out = IdMap.__new__(IdMap)
        out.ids = self.ids
        moved = np.arange(len(self._index), dtype=np.int64) if self._moved is None else self._moved.copy()
        at = self._index.get_indexer(pd.Index(np.asarray(gone, dtype=object))) if len(gone) else []
        moved[[a for a in at if a >= 0]] = -1
        removed = set(gone)
        out._index, out._moved = self._index, moved
        out._added = {key: row for key, row in self._added.items() if key not in removed}
        return out

    def __getstate__(self) -> dict[str, object]:
        if self._moved is None and not self._added:
            return {"ids": self.ids}
        return {"ids": self.ids, "found": self.rows(self.ids) == np.arange(len(self.ids))}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.ids = np.asarray(state["ids"], dtype=object)
        found = state.get("found")
        if found is None:
            self._reset()
            return
        own = np.asarray(found, dtype=bool)
        self._index = pd.Index(self.ids[own])
        self._moved, self._added = np.flatnonzero(own).astype(np.int64), {}
