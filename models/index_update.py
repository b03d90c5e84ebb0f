"""Updating a :class:`~models.index.MatchIndex` with the rows a write touched instead of building it again.

A block (graduates or vacancies) is spliced (:class:`~models.ids.Splice`): the rows of the ids added or
replaced are built with the same code as a full build and inserted where their ids sort, every other row
keeps its place. A graduate leaving only marks their row dead (:meth:`~models.index.GraduateBlock.without`);
dead rows go with the next splice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields, replace
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import scipy.sparse as sp

from models.columns import Columns as C
from models.data import MarketData
from models.features import graduate_frame, vacancy_frame
from models.ids import IdMap, Splice
from models.index import (
    Encoder,
    GraduateBlock,
    MatchIndex,
    VacancyBlock,
    build_graduate_block,
    build_vacancy_block,
)

__all__ = ["updated_index"]


def updated_index(
    index: MatchIndex,
    data: MarketData,
    *,
    removed_graduates: Iterable[str] = (),
    removed_vacancies: Iterable[str] = (),
    encoder: Encoder | None = None,
) -> MatchIndex:
    """A new index: ``index`` with the graduates and vacancies of ``data`` added or replaced (by id) and
    the ``removed_*`` ids gone (unknown ones are ignored). ``index`` is left as it is.

    Costs O(changed rows) plus one copy of each array of a block that changed (a block nothing
    touched is shared). Each new row is encoded alone with the same code as
    :meth:`~models.index.MatchIndex.build`; the other rows keep their place, so rows in id order (as
    the store loads them) stay in id order and rank exactly as a fresh build would. A value first seen
    here (a district, role or skill) is appended to the vocabularies, existing codes unchanged;
    ``tables`` is then empty and the caller recomputes it (``tables`` depend on the vocabularies only).
    ``programs``, ``schools`` and ``enterprises`` are not changed.
    """
    graduates = graduate_frame(data.graduates, index.programs, index.schools) if len(data.graduates) else None
    vacancies = vacancy_frame(data.vacancies, index.enterprises) if len(data.vacancies) else None
    vocab = index.vocab.grown(graduates, vacancies)
    skills, districts = len(vocab.skills), len(vocab.districts)
    if graduates is None and vocab.skills is index.vocab.skills and vocab.districts is index.vocab.districts:
        # The common change (a hire, an erasure): rows marked gone, no array copied.
        graduate_block = index.graduates.without(map(str, removed_graduates))
    else:
        graduate_block = _updated_block(
            index.graduates,
            graduates,
            C.graduate,
            removed_graduates,
            lambda frame: build_graduate_block(frame, vocab, encoder),
            {"skills": skills, "districts": districts},
        )
    if graduate_block is not index.graduates and "skills_by_skill" in vars(index.graduates):
        graduate_block.skills_by_skill  # noqa: B018 - built here once, not by the next request
    vacancy_block = _updated_block(
        index.vacancies,
        vacancies,
        C.vacancy,
        removed_vacancies,
        lambda frame: build_vacancy_block(frame, vocab, encoder),
        {"required": skills, "preferred": skills},
    )
    return replace(
        index,
        vocab=vocab,
        graduates=graduate_block,
        vacancies=vacancy_block,
        tables=index.tables if vocab is index.vocab else {},
    )


Block = TypeVar("Block", GraduateBlock, VacancyBlock)


def _updated_block(
    block: Block,
    frame: pd.DataFrame | None,
    id_column: str,
    removed: Iterable[str],
    build: Callable[[pd.DataFrame], Block],
    widths: Mapping[str, int],
) -> Block:
    """``block`` with the rows of ``frame`` upserted (each where its id sorts) and the ``removed`` ids
    gone; its sparse matrices ``widths`` columns wide (a grown vocabulary). ``block`` itself when nothing
    changes."""
    removed = [str(r) for r in removed]
    same_widths = all(getattr(block, name).shape[1] == width for name, width in widths.items())
    if frame is None:
        frame = pd.DataFrame({id_column: pd.Series(dtype=object)})
    if not len(frame) and same_widths and not (block.ids.rows(removed) >= 0).any():
        return block
    frame = frame.drop_duplicates(id_column, keep="last")
    given = [str(i) for i in frame[id_column]]
    order = sorted(range(len(given)), key=given.__getitem__)
    new_ids: list[str] = [given[i] for i in order]
    rows = block.ids.rows([*removed, *new_ids])
    live = getattr(block, "live", None)  # a graduate block's dead rows go with any splice
    dead = np.zeros(0, dtype=np.int64) if live is None else np.flatnonzero(~live)
    drop = np.union1d(rows[rows >= 0], dead).astype(np.int64)
    if len(new_ids):
        at = np.searchsorted(block.ids.ids, np.asarray(new_ids, dtype=object))
    else:
        at = np.zeros(0, dtype=np.int64)
    splice = Splice(len(block), drop, at)
    if splice.changes_nothing and same_widths:
        return block
    new = build(frame.iloc[order].reset_index(drop=True)) if new_ids else None
    values: dict[str, Any] = {}
    for column in fields(block):
        old = getattr(block, column.name)
        fresh = None if new is None else getattr(new, column.name)
        if isinstance(old, IdMap):
            values[column.name] = old.spliced(splice, new_ids)
        elif isinstance(old, sp.csr_matrix):
            values[column.name] = _take_csr(splice, old, fresh, widths[column.name])
        elif isinstance(old, dict):
            values[column.name] = {
                name: splice.take(array, None if fresh is None else fresh[name])
                for name, array in old.items()
            }
        else:
            values[column.name] = splice.take(old, fresh)
    return type(block)(**values)


def _take_csr(splice: Splice, old: sp.csr_matrix, new: sp.csr_matrix | None, width: int) -> sp.csr_matrix:
    """:meth:`Splice.take` for CSR rows (no conversion: slices of ``data``/``indices`` and row lengths)."""
    data, indices, lengths = [], [], []
    for from_new, start, stop in splice.pieces:
        matrix = new if from_new and new is not None else old
        low, high = matrix.indptr[start], matrix.indptr[stop]
        data.append(matrix.data[low:high])
        indices.append(matrix.indices[low:high])
        lengths.append(np.diff(matrix.indptr[start : stop + 1]))
    if not lengths:
        return sp.csr_matrix((0, width), dtype=old.dtype)
    counts = np.concatenate(lengths)
    indptr = np.zeros(len(counts) + 1, dtype=old.indptr.dtype)
    np.cumsum(counts, out=indptr[1:])
    return sp.csr_matrix((np.concatenate(data), np.concatenate(indices), indptr), shape=(len(counts), width))
