"""Approximate retrieval of graduates for a vacancy: hnswlib over norm bands, used when the pool is large.

The LightFM half of retrieval (:meth:`models.matcher.Matcher._retrieve`) is a maximum inner product search:
the graduate's retrieval vector already carries the biases and the per-query offset as extra dimensions
(``models.hybrid``), so the exact score is a plain dot product. At a million graduates that product is
~40 ms; :class:`GraduateAnn` answers a shortlist in a few ms, which the matcher then re-scores exactly
(the same dot products) before taking its top rows, so the approximation only decides *who* is looked at.

hnswlib (the ``ann`` extra, ``pip install -e '.[ann]'``) is optional: without it, or for a pool smaller
than :attr:`AnnOptions.min_pool`, nothing is built and retrieval stays exact. Building is seeded
(hnswlib's ``random_seed``) and single-threaded, so the same vectors give the same index.

The index is keyed by graduate id, not by row: rows move when an update splices the block, ids do not.
A query's labels become ids, then rows of the asking index (an id that index does not hold is dropped).
Incremental updates (:meth:`GraduateAnn.updated`) add a graduate's new vector and mark the old one
deleted; they change the shared hnswlib structure in place under a lock, so an older snapshot sharing it
may see a graduate added since (dropped: not among its ids) or miss one edited since (only its recall).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any

import numpy as np

__all__ = ["AnnOptions", "GraduateAnn", "NormBandedIndex", "hnswlib_module", "mips_to_l2"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnnOptions:
    """When and how an approximate graduate index is built.

    Attributes
    ----------
    min_pool
        Build one only for more graduates than this (smaller pools are exact and fast enough).
    bands
        Norm bands (:class:`NormBandedIndex`).
    m, ef_construction
        hnswlib's graph degree and build beam.
    ef
        hnswlib's search beam (at least the shortlist).
    shortlist
        Labels asked of each band; their union is re-scored exactly.
    seed
        hnswlib's ``random_seed``.
    """

    min_pool: int = 200_000
    bands: int = 8
    m: int = 16
    ef_construction: int = 100
    ef: int = 192
    shortlist: int = 120
    seed: int = 7


def hnswlib_module() -> ModuleType | None:
    """hnswlib when it is installed, else ``None`` (retrieval then stays exact)."""
    try:
        import hnswlib
    except ImportError:
        return None
    return hnswlib


def mips_to_l2(reps: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximum inner product as nearest neighbour (Bachrach et al. 2014): items get one more coordinate
    ``sqrt(M^2 - |x|^2)`` (all then have norm M), queries a 0; the L2-nearest item has the largest dot."""
    norms = np.linalg.norm(reps, axis=1)
    top = float(norms.max()) if len(norms) else 0.0
    extra = np.sqrt(np.maximum(top**2 - norms**2, 0.0)).astype(np.float32)
    items = np.hstack([reps, extra[:, None]]).astype(np.float32)
    return items, np.hstack([queries, np.zeros((len(queries), 1), dtype=np.float32)])


class NormBandedIndex:
    """Maximum inner product search with hnswlib over norm bands (norm-ranging MIPS).

    Items are split into ``bands`` by norm; in each band the inner product becomes an L2 nearest-neighbour
    search through one extra coordinate ``sqrt(M_b^2 - |x|^2)`` with ``M_b`` the band's own largest norm
    (:func:`mips_to_l2`), so the extra coordinate stays small where one global ``M`` (set by the tail of a
    million norms) would swamp the rest. A query asks every band for its nearest ``k``; the caller
    re-scores their union exactly. Items added later go to the band of their norm (a norm above the last
    band's ``M_b`` gets an extra coordinate of 0: still found, a little less reliably).
    """

    def __init__(
        self,
        hnswlib: ModuleType,
        reps: np.ndarray,
        labels: np.ndarray,
        *,
        bands: int,
        m: int,
        ef_construction: int,
        seed: int = 7,
        num_threads: int = 1,
        headroom: float = 0.1,
    ) -> None:
        reps = np.ascontiguousarray(reps, dtype=np.float32)
        norms = np.linalg.norm(reps, axis=1)
        bands = max(1, min(bands, len(reps)))
        self.edges = np.quantile(norms, np.linspace(0, 1, bands + 1)[1:-1]) if len(reps) else np.zeros(0)
        band_of = np.searchsorted(self.edges, norms)
        self.tops = np.zeros(bands, dtype=np.float64)
        self.live = np.zeros(bands, dtype=np.int64)
        self.indexes: list[Any] = []
        self.headroom = headroom
        for b in range(bands):
            members = np.flatnonzero(band_of == b)
            self.tops[b] = float(norms[members].max()) if len(members) else 0.0
            index = hnswlib.Index(space="l2", dim=reps.shape[1] + 1)
            index.init_index(
                max_elements=self._capacity(len(members)),
                M=m,
                ef_construction=ef_construction,
                random_seed=seed,
                allow_replace_deleted=True,
            )
            if len(members):
                index.add_items(self._items(reps[members], b), labels[members], num_threads=num_threads)
            index.set_num_threads(1)
            self.indexes.append(index)
            self.live[b] = len(members)

    def _capacity(self, n: int) -> int:
        return int(n * (1.0 + self.headroom)) + 64

    def _items(self, reps: np.ndarray, band: int) -> np.ndarray:
        norms = np.linalg.norm(reps, axis=1)
        extra = np.sqrt(np.maximum(self.tops[band] ** 2 - norms**2, 0.0)).astype(np.float32)
        return np.hstack([reps, extra[:, None]]).astype(np.float32)

    def band_of(self, reps: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.edges, np.linalg.norm(reps, axis=1))

    def set_ef(self, ef: int) -> None:
        for index in self.indexes:
            index.set_ef(ef)

    def add(self, reps: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Add items (new labels); returns the band of each. Grows a band that is full."""
        reps = np.ascontiguousarray(reps, dtype=np.float32)
        bands = self.band_of(reps)
        for b in np.unique(bands):
            members = np.flatnonzero(bands == b)
            index = self.indexes[b]
            free = index.get_max_elements() - index.get_current_count()
            if free < len(members):
                index.resize_index(self._capacity(index.get_current_count() + len(members)))
            index.add_items(self._items(reps[members], int(b)), labels[members], replace_deleted=True)
            self.live[b] += len(members)
        return bands

    def remove(self, labels: np.ndarray, bands: np.ndarray) -> None:
        for label, band in zip(labels.tolist(), bands.tolist(), strict=True):
            self.indexes[band].mark_deleted(label)
            self.live[band] -= 1

    def query(self, query: np.ndarray, k: int) -> np.ndarray:
        """Labels of up to ``k`` nearest items of each band (their union, unordered)."""
        padded = np.append(np.asarray(query, dtype=np.float32), np.float32(0.0))[None, :]
        found = [
            index.knn_query(padded, k=int(min(k, live)))[0][0]
            for index, live in zip(self.indexes, self.live.tolist(), strict=True)
            if live > 0
        ]
        return np.concatenate(found).astype(np.int64) if found else np.zeros(0, dtype=np.int64)


class GraduateAnn:
    """The approximate index of one pool's graduate retrieval vectors, keyed by graduate id, with one
    :class:`NormBandedIndex` per education level.

    Every candidates query filters by the vacancy's minimum education, and LightFM's best graduates for
    a vacancy can be mostly below it; searching only the levels at or above the floor keeps the shortlist
    passing that filter. A level gets bands in proportion to its share of the graduates (at least one).

    Parameters
    ----------
    hnswlib
        The hnswlib module (:func:`hnswlib_module`).
    ids, reps
        Graduate ids and their retrieval vectors (rows alike); rows of ``dead`` are left out.
    options
        :class:`AnnOptions`.
    levels
        Each row's education level (``GraduateBlock.education``); ``None``: all one level.
    """

    def __init__(
        self,
        hnswlib: ModuleType,
        ids: np.ndarray,
        reps: np.ndarray,
        options: AnnOptions,
        *,
        live: np.ndarray | None = None,
        levels: np.ndarray | None = None,
    ) -> None:
        keep = np.ones(len(ids), dtype=bool) if live is None else np.asarray(live, dtype=bool)
        self.options = options
        self._hnswlib = hnswlib
        kept = [str(i) for i in np.asarray(ids)[keep].tolist()]
        reps = np.ascontiguousarray(np.asarray(reps)[keep], dtype=np.float32)
        level_of = np.zeros(len(kept), dtype=np.int64) if levels is None else np.asarray(levels)[keep]
        self._label_of: dict[str, int] = {g: i for i, g in enumerate(kept)}
        self._labels = len(kept)  # labels given so far (a changed graduate gets a new one)
        labels = np.arange(len(kept), dtype=np.int64)
        # Per label: its education level and its band within that level's index.
        self._level = level_of.astype(np.int16).tolist()
        self._band = [0] * len(kept)
        self._ef = max(options.ef, options.shortlist)
        self._parts: dict[int, NormBandedIndex] = {}
        self._place(reps, labels, level_of, build=True)
        # The ids by label as an array (a query's labels become ids in one take), with spare room behind
        # for the graduates added later (grown by half when full).
        self._id_array = np.empty(len(kept) + len(kept) // 8 + 64, dtype=object)
        self._id_array[: len(kept)] = kept
        self._lock = threading.Lock()

    def _place(self, reps: np.ndarray, labels: np.ndarray, levels: np.ndarray, *, build: bool) -> None:
        """Put labelled vectors into their level's index and note each label's band. A level first seen
        gets its own index: with bands by its share of the graduates when the whole pool is ``build``,
        one band when an update brings it."""
        for level in np.unique(levels).tolist():
            members = np.flatnonzero(levels == level)
            if level in self._parts:
                bands = self._parts[level].add(reps[members], labels[members])
            else:
                options = self.options
                part = NormBandedIndex(
                    self._hnswlib,
                    reps[members],
                    labels[members],
                    bands=max(1, round(options.bands * len(members) / len(levels))) if build else 1,
                    m=options.m,
                    ef_construction=options.ef_construction,
                    seed=options.seed,
                )
                part.set_ef(self._ef)
                self._parts[level] = part
                bands = part.band_of(reps[members])
            for label, band in zip(labels[members].tolist(), bands.tolist(), strict=True):
                self._band[label] = band

    def __len__(self) -> int:
        return len(self._label_of)

    def configure(self, *, ef: int, shortlist: int) -> None:
        """New search settings (recall against time), without a rebuild."""
        with self._lock:
            self.options = replace(self.options, ef=ef, shortlist=shortlist)
            self._set_ef(max(ef, shortlist))

    def _set_ef(self, ef: int) -> None:
        if ef != self._ef:
            for part in self._parts.values():
                part.set_ef(ef)
            self._ef = ef

    def _searched(self, floor: int) -> list[NormBandedIndex]:
        return [part for level, part in self._parts.items() if level >= floor]

    def size(self, floor: int = -1) -> int:
        """Graduates indexed at education level ``floor`` or above."""
        return int(sum(part.live.sum() for part in self._searched(floor)))

    def depth(self, share: float, floor: int = -1) -> int:
        """Labels to ask of each band searched for a floor of ``floor`` when a share ``share`` of the
        graduates at or above it pass the query's filters: as many in all as ``shortlist`` in each of
        ``bands`` bands, more as fewer pass, so that about as many of the shortlist pass whatever the
        filters keep."""
        bands = sum(len(part.indexes) for part in self._searched(floor)) or 1
        return int(np.ceil(self.options.shortlist * self.options.bands / bands / max(share, 1e-9)))

    def candidate_ids(self, query: np.ndarray, depth: int | None = None, *, floor: int = -1) -> np.ndarray:
        """Ids (an object array) of the shortlist for one query vector: the nearest ``depth`` (default
        :meth:`depth` of everyone) of every band at education level ``floor`` or above, searched with a
        beam of at least ``ef``."""
        depth = self.depth(1.0, floor) if depth is None else depth
        with self._lock:
            self._set_ef(max(self.options.ef, depth))
            found = [part.query(query, depth) for part in self._searched(floor)]
            labels = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
            return self._id_array[labels]

    def updated(
        self,
        ids: Iterable[str],
        reps: np.ndarray,
        *,
        removed: Iterable[str] = (),
        levels: np.ndarray | None = None,
    ) -> GraduateAnn:
        """Graduates ``ids`` added or given new vectors ``reps`` (rows alike, education ``levels``), the
        ``removed`` ids gone; in place (returns ``self``). A changed graduate's old vector is marked
        deleted and the new one added."""
        ids = [str(i) for i in ids]
        reps = np.ascontiguousarray(reps, dtype=np.float32)
        level_of = (
            np.zeros(len(ids), dtype=np.int64) if levels is None else np.asarray(levels, dtype=np.int64)
        )
        with self._lock:
            gone = [g for g in [*map(str, removed), *ids] if g in self._label_of]
            for label in [self._label_of.pop(g) for g in gone]:
                self._parts[self._level[label]].remove(
                    np.array([label], dtype=np.int64), np.array([self._band[label]])
                )
            if ids:
                start = self._labels
                labels = np.arange(start, start + len(ids), dtype=np.int64)
                self._labels += len(ids)
                self._level.extend(level_of.astype(int).tolist())
                self._band.extend([0] * len(ids))
                self._place(reps, labels, level_of, build=False)
                if self._labels > len(self._id_array):
                    grown = np.empty(self._labels + self._labels // 2, dtype=object)
                    grown[:start] = self._id_array[:start]
                    self._id_array = grown
                self._id_array[start : self._labels] = ids
                self._label_of.update(zip(ids, labels.tolist(), strict=True))
        return self


def build_graduate_ann(
    ids: np.ndarray,
    reps: np.ndarray | None,
    options: AnnOptions | None,
    *,
    live: np.ndarray | None = None,
    levels: np.ndarray | None = None,
) -> GraduateAnn | None:
    """A :class:`GraduateAnn` of these graduates when ``options`` ask for one at this size and hnswlib is
    installed; ``None`` (exact retrieval) otherwise."""
    if options is None or reps is None:
        return None
    n = len(ids) if live is None else int(np.count_nonzero(live))
    if n <= options.min_pool:
        return None
    hnswlib = hnswlib_module()
    if hnswlib is None:
        log.warning("%d graduates but hnswlib is not installed: retrieval stays exact", n)
        return None
    return GraduateAnn(hnswlib, ids, reps, options, live=live, levels=levels)
