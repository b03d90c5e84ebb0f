"""Updating a :class:`~models.index.MatchIndex` with the rows a write touched instead of building it again.

The rows of the ids added or replaced are built with the same code as a full build. Graduates written are
appended at the end of the block, into the spare rows of its buffers (:mod:`models.growth`: O(rows
written), an older snapshot's arrays untouched), an edited graduate's old row left dead; the block's
``order`` then tells the rows' id order, which rankings break ties by, so they answer exactly as a fresh
build. A graduate leaving only marks their row dead (:meth:`~models.index.GraduateBlock.without`). Once
appended and dead rows pass 1/16 of the block, the next graduate write splices instead: the rows back in
id order, the dead ones gone. The vacancy block (20k rows at large) is always spliced
(:class:`~models.ids.Splice`): the new rows inserted where their ids sort, every other row in its place.
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
from models.growth import appended, appended_csr
from models.ids import IdMap, Splice
from models.index import (
    NOT_ROW_FIELDS,
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

    Costs O(changed rows) for graduates (appended; O(len) integers and booleans for the order and the
    dead rows, one copy of the block every n/16 graduate writes) and one copy of each array of the
    vacancy block when it changed (a block nothing touched is shared). Each new row is encoded alone
    with the same code as :meth:`~models.index.MatchIndex.build`; the other rows keep their place, and
    rankings read the rows in id order (as the store loads them), so they rank exactly as a fresh build
    would. A value first seen
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
    elif graduates is not None and _appendable(index.graduates, len(graduates)):
        # A graduate added or edited: the new rows appended at the end, an edited one's old row dead.
        graduate_block = _appended(
            index.graduates,
            graduates,
            removed_graduates,
            lambda frame: build_graduate_block(frame, vocab, encoder),
            {"skills": skills, "districts": districts},
        )
    else:
        graduate_block = _updated_block(
            _in_id_order(index.graduates),
            graduates,
            C.graduate,
            removed_graduates,
            lambda frame: build_graduate_block(frame, vocab, encoder),
            {"skills": skills, "districts": districts},
        )
    if graduate_block.sorted_rows < 0:  # built here once (after a splice), not by a request
        if "skills_by_skill" in vars(index.graduates):
            graduate_block.skills_by_skill  # noqa: B018
        if "skill_bits" in vars(index.graduates):
            graduate_block.skill_bits  # noqa: B018
        if "by_sponsor" in vars(index.graduates):
            graduate_block.by_sponsor  # noqa: B018
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

# Graduates are appended (:func:`_appended`) until the rows appended since the last splice plus the dead
# ones pass this share of the block (or this many, for a small one); then the next write splices: the
# rows go back to id order, the dead ones go. Each splice copies the block once every n/16 writes.
REORDER_SHARE = 16
REORDER_MIN = 256


def _appendable(block: GraduateBlock, new_rows: int) -> bool:
    """Whether ``new_rows`` graduates are appended to ``block`` rather than spliced in."""
    appended = 0 if block.sorted_rows < 0 else len(block) - block.sorted_rows
    dead = len(block) - int(np.count_nonzero(block.live))
    return appended + dead + new_rows <= max(REORDER_MIN, len(block) // REORDER_SHARE)


def _appended(
    block: GraduateBlock,
    frame: pd.DataFrame,
    removed: Iterable[str],
    build: Callable[[pd.DataFrame], GraduateBlock],
    widths: Mapping[str, int],
) -> GraduateBlock:
    """``block`` with the graduates of ``frame`` written as new rows at its end (each id's old row, if
    any, and the ``removed`` ids' rows left dead) and ``order`` telling the rows' id order. O(new rows)
    while the block's buffers have spare rows (``models.growth``), plus O(len) integers and booleans."""
    frame = frame.drop_duplicates(C.graduate, keep="last")
    given = [str(i) for i in frame[C.graduate]]
    order = sorted(range(len(given)), key=given.__getitem__)
    new_ids = [given[i] for i in order]
    new = build(frame.iloc[order].reset_index(drop=True))
    kept = block.without([*map(str, removed), *new_ids])
    n, buffers = len(block), block.buffers
    grown: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for column in fields(block):
        name, old = column.name, getattr(kept, column.name)
        fresh = getattr(new, name)
        if name in NOT_ROW_FIELDS:
            continue
        if name == "live":
            values[name] = np.concatenate([kept.live, fresh])
        elif isinstance(old, IdMap):
            ids = appended("ids", old.ids, fresh.ids, buffers, grown)
            values[name] = old.appended(ids, new_ids)
        elif isinstance(old, sp.csr_matrix):
            values[name] = appended_csr(name, old, fresh, widths[name], buffers, grown)
        elif isinstance(old, dict):
            values[name] = {
                key: appended(f"arrays.{key}", old[key], fresh[key], buffers, grown) for key in old
            }
        else:
            values[name] = appended(name, old, fresh, buffers, grown)
    previous = np.arange(n, dtype=np.int64) if block.order is None else block.order
    # Where each new id goes in id order (before an old, dead row of the same id: rows of a dead id are
    # never ranked, so among live rows the order is the id order a fresh build has).
    at = np.searchsorted(block.ids.ids, np.asarray(new_ids, dtype=object), sorter=previous)
    out = GraduateBlock(
        **values,
        order=np.insert(previous, at, np.arange(n, n + len(new_ids), dtype=np.int64)),
        sorted_rows=n if block.sorted_rows < 0 else block.sorted_rows,
        buffers={**buffers, **grown},
    )
    if "skills_by_skill" in vars(block):  # still right for the rows it covers: appended ones are read by row
        by_skill, covered = block.skills_by_skill
        if by_skill.shape[1] < widths["skills"]:  # skills new to the vocabulary: empty columns
            extra = np.full(widths["skills"] - by_skill.shape[1], by_skill.indptr[-1])
            indptr = np.concatenate([by_skill.indptr, extra.astype(by_skill.indptr.dtype)])
            by_skill = sp.csc_matrix(
                (by_skill.data, by_skill.indices, indptr), shape=(covered, widths["skills"])
            )
        vars(out)["skills_by_skill"] = (by_skill, covered)
        if "skill_bits" in vars(block):  # the same rows covered
            bits = block.skill_bits
            vars(out)["skill_bits"] = None if bits is None else bits.widened(widths["skills"])
    if "by_sponsor" in vars(block):  # the rows it covers keep their sponsor: appended ones are read by row
        vars(out)["by_sponsor"] = block.by_sponsor
    return out


def _in_id_order(block: GraduateBlock) -> GraduateBlock:
    """``block`` with its live rows in id order and its dead rows gone (before a splice)."""
    if block.order is None:
        return block
    rows = block.order[block.live[block.order]]
    values: dict[str, Any] = {}
    for column in fields(block):
        name, old = column.name, getattr(block, column.name)
        if name in NOT_ROW_FIELDS:
            continue
        if isinstance(old, IdMap):
            values[name] = IdMap(old.ids[rows])
        elif isinstance(old, dict):
            values[name] = {key: array[rows] for key, array in old.items()}
        else:
            values[name] = old[rows]
    return GraduateBlock(**values)


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
        if column.name in NOT_ROW_FIELDS:
            continue  # a splice leaves the rows in id order, over arrays of their own
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
