"""Arrays with spare rows: appending a few rows to a block costs O(rows appended), not a copy of the block.

A block's array is a view of the first ``n`` rows of a larger :class:`Buffer`. The block that follows it
after a write appends its rows past ``n`` and views the first ``n + k``: no view of an earlier block
reaches those rows, so the earlier block (a snapshot still answering requests) is unchanged. The buffer
records how far it is used; a second successor of the same block (or a buffer that is full) copies into
a new buffer with room to spare (:data:`HEADROOM`), so each row is copied O(1) times on average.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, MutableMapping

import numpy as np
import scipy.sparse as sp

__all__ = ["HEADROOM", "Buffer", "appended", "appended_csr", "reserved", "reserved_csr"]

# A new buffer holds this share more rows than asked (and at least MIN_SPARE more).
HEADROOM = 0.25
MIN_SPARE = 64

_lock = threading.Lock()  # appends check and move ``Buffer.used`` together


class Buffer:
    """Storage behind the arrays of successive blocks; ``used``: the rows some view holds."""

    __slots__ = ("array", "used")

    def __init__(self, array: np.ndarray, used: int) -> None:
        self.array = array
        self.used = used


def _capacity(rows: int) -> int:
    return int(rows * (1.0 + HEADROOM)) + MIN_SPARE


def _views(view: np.ndarray, buffer: Buffer | None) -> bool:
    """Whether ``view`` is the used head of ``buffer`` (its first ``buffer.used`` rows)."""
    if buffer is None or view.base is not buffer.array or len(view) != buffer.used:
        return False
    return view.ctypes.data == buffer.array.ctypes.data and view.strides == buffer.array.strides


def reserved(view: np.ndarray) -> tuple[np.ndarray, Buffer]:
    """``view``'s rows copied into a new buffer with room to spare: (the view of them, the buffer)."""
    array = np.empty((_capacity(len(view)), *view.shape[1:]), dtype=view.dtype)
    array[: len(view)] = view
    return array[: len(view)], Buffer(array, len(view))


def appended(
    name: str,
    view: np.ndarray,
    new: np.ndarray,
    buffers: Mapping[str, Buffer],
    out: MutableMapping[str, Buffer],
) -> np.ndarray:
    """``view`` with the rows ``new`` after it, written into the spare rows of ``buffers[name]`` when
    ``view`` is its used head (else into a new buffer, recorded in ``out[name]``)."""
    k = len(new)
    buffer = buffers.get(name)
    same_type = new.dtype == view.dtype and new.shape[1:] == view.shape[1:]
    with _lock:
        if same_type and _views(view, buffer) and buffer is not None and len(view) + k <= len(buffer.array):
            n = len(view)
            buffer.array[n : n + k] = new
            buffer.used = n + k
            out[name] = buffer
            return buffer.array[: n + k]
    joined = np.concatenate([view, new], axis=0)
    head, out[name] = reserved(joined)
    return head


def reserved_csr(name: str, matrix: sp.csr_matrix, out: MutableMapping[str, Buffer]) -> sp.csr_matrix:
    """``matrix`` over buffers with room to spare (``out``: its data, indices and indptr buffers)."""
    data, out[f"{name}.data"] = reserved(matrix.data)
    indices, out[f"{name}.indices"] = reserved(matrix.indices)
    indptr, out[f"{name}.indptr"] = reserved(matrix.indptr)
    return _csr(data, indices, indptr, matrix.shape)


def appended_csr(
    name: str,
    matrix: sp.csr_matrix,
    new: sp.csr_matrix,
    width: int,
    buffers: Mapping[str, Buffer],
    out: MutableMapping[str, Buffer],
) -> sp.csr_matrix:
    """The rows of ``matrix`` then those of ``new``, ``width`` columns wide (a grown vocabulary), in
    :func:`appended` buffers. Each row keeps its column order, so products read the same numbers."""
    data = appended(f"{name}.data", matrix.data, new.data.astype(matrix.data.dtype, copy=False), buffers, out)
    indices = appended(
        f"{name}.indices", matrix.indices, new.indices.astype(matrix.indices.dtype, copy=False), buffers, out
    )
    offsets = (new.indptr[1:] + matrix.indptr[-1]).astype(matrix.indptr.dtype, copy=False)
    indptr = appended(f"{name}.indptr", matrix.indptr, offsets, buffers, out)
    return _csr(data, indices, indptr, (matrix.shape[0] + new.shape[0], width))


def _csr(data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    matrix = sp.csr_matrix((data, indices, indptr), shape=shape, copy=False)
    # scipy copies a view much smaller than its base ("pruning"): the views are set back, no copy kept.
    matrix.data, matrix.indices, matrix.indptr = data, indices, indptr
    return matrix
