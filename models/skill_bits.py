"""The skill half of a large pool without a score per graduate: which graduates hold each skill, as bits.

A vacancy's skill coverage of a graduate is a weighted count of the few skills it names (``Matcher``'s
retrieval: ``1/n`` a required skill, ``0.5/n`` a preferred one), so it takes one value per subset of those
skills that a graduate can hold: a handful of levels. The graduates at the top levels, the ones the skill
half of a pool takes, are found by ANDing one bit array per skill (125 KB per skill at a million graduates)
instead of a sparse product that writes a score for every graduate and a partition of those scores; only
the rows of the levels taken are unpacked. The values, the cut-off and the choice among the rows tied at
it are those of :func:`models.matcher._top_tie_broken` over the dense scores (each level's value is its
weights summed in column order, as the sparse product sums them), so the pool is the same.

The bits cover the rows of the block's column-stored skills (``GraduateBlock.skills_by_skill``); the rows
an update appended since are scored as the dense path scores them. Blocks whose skill matrix is not 0/1
(a skill counted twice) have no bits, and retrieval stays dense.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import comb

import numpy as np
import scipy.sparse as sp

__all__ = [
    "MAX_SKILLS",
    "MAX_SKILLS_WIDE",
    "WIDE_FROM",
    "SkillBits",
    "SkillLevels",
    "level_values",
    "pack_rows",
    "split_rows",
    "top_by_skill",
]

# Levels are the subsets of the vacancy's skills: beyond this many skills the dense path is cheaper while
# the block's skill matrix is read from cache (vacancies naming 7-8 skills took 1.12x as long by levels as
# densely at 16k graduates, 1.04x at 60k).
MAX_SKILLS = 6
# From this many covered rows the dense product's matrix no longer stays in cache: up to MAX_SKILLS_WIDE
# skills go by levels (vacancies naming 7-8 skills, by levels against densely: 0.95x at 110k and at 168k
# graduates, 0.6x at 1M; the same answers). Measured with the levels read off counts (``COUNT_FROM``).
WIDE_FROM = 100_000
MAX_SKILLS_WIDE = 8


def max_skills(covered: int) -> int:
    """The most skills a vacancy may name for its coverage over a block of ``covered`` rows to be read by
    levels (:class:`SkillLevels`) rather than densely."""
    return MAX_SKILLS_WIDE if covered >= WIDE_FROM else MAX_SKILLS


def _words(n: int) -> int:
    return -(-n // 64)


def pack_rows(rows: np.ndarray, n: int) -> np.ndarray:
    """Bits (uint64 words) with those of ``rows`` (< ``n``) set, the padding past ``n`` clear."""
    flags = np.zeros(_words(n) * 64, dtype=bool)
    flags[rows] = True
    return np.packbits(flags, bitorder="little").view(np.uint64)


def _unpack(words: np.ndarray, n: int) -> np.ndarray:
    """The rows whose bits are set, ascending (``nonzero`` over booleans: ~3x over bytes)."""
    return np.flatnonzero(np.unpackbits(words.view(np.uint8), count=n, bitorder="little").view(bool))


def split_rows(rows: np.ndarray, n: int, covered: int) -> tuple[np.ndarray, np.ndarray]:
    """``rows`` of a block of ``n`` rows as bits over its first ``covered`` rows (the padding clear), and
    those of ``rows`` past them, ascending."""
    words = pack_rows(rows, n)
    head = words[: _words(covered)].copy()
    if covered % 64:
        head[-1] &= np.uint64((1 << (covered % 64)) - 1)
    start = covered // 64 * 64
    tail = _unpack(words[covered // 64 :], n - start) + start
    return head, tail[tail >= covered]


@dataclass(frozen=True)
class SkillBits:
    """One bit array per skill over the first ``covered`` rows of a graduate block (``bits[skill]``)."""

    bits: np.ndarray  # (skills, words) uint64
    covered: int

    @classmethod
    def of(cls, by_skill: sp.csc_matrix, covered: int) -> SkillBits | None:
        """The bits of a 0/1 column-stored skill matrix (``None`` for any other)."""
        if by_skill.nnz and not (by_skill.has_canonical_format and bool(np.all(by_skill.data == 1))):
            return None
        bits = np.zeros((by_skill.shape[1], _words(covered)), dtype=np.uint64)
        for skill in range(by_skill.shape[1]):
            held = by_skill.indices[by_skill.indptr[skill] : by_skill.indptr[skill + 1]]
            if len(held):
                bits[skill] = pack_rows(held, covered)
        return cls(bits, covered)

    def widened(self, skills: int) -> SkillBits:
        """The same bits with empty arrays for skills new to the vocabulary (no covered row holds them)."""
        if skills <= len(self.bits):
            return self
        extra = np.zeros((skills - len(self.bits), self.bits.shape[1]), dtype=np.uint64)
        return SkillBits(np.vstack([self.bits, extra]), self.covered)

    def held(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """Whether each of ``rows`` (covered ones) holds each of ``columns``, ``(rows, columns)``."""
        word, bit = rows >> 6, (rows & 63).astype(np.uint64)
        return np.stack([(self.bits[c][word] >> bit) & np.uint64(1) for c in columns], axis=1).astype(bool)


def level_values(weights: np.ndarray) -> np.ndarray:
    """The score of each subset of the skills (bit ``i`` of the index: skill ``i`` held), each summed in
    column order from zero, as the sparse product sums a row's terms."""
    k = len(weights)
    values = np.zeros(1 << k, dtype=np.float64)
    for pattern in range(1, 1 << k):
        total = 0.0
        for i in range(k):
            if pattern >> i & 1:
                total += float(weights[i])
        values[pattern] = total
    return values


# From this many skills a vacancy's levels are read off bit-sliced counts of the skills held of each weight
# (:class:`_HeldCounts`: ~2 ANDs per skill and count bit, then a few per level) rather than one AND per
# skill for each subset of them (at 8 skills, up to a few hundred subsets above the cut-off).
COUNT_FROM = 6


class _HeldCounts:
    """How many of a vacancy's skills of each weight every passing row holds, as bits: per distinct weight,
    a binary counter of bit planes (a row's count in its bits down the planes), summed skill by skill.

    A subset of the skills (a pattern: bit ``i`` for skill ``i``) belongs to the class of its counts per
    weight; the rows of a class are those whose counters equal them (:meth:`bits`)."""

    def __init__(self, have: list[np.ndarray], weights: np.ndarray, passing: np.ndarray) -> None:
        kinds, kind_of = np.unique(np.asarray(weights, dtype=np.float64), return_inverse=True)
        self._kind: list[int] = kind_of.tolist()  # each skill's weight, as its index among the distinct ones
        self._of_kind = [self._kind.count(k) for k in range(len(kinds))]
        self._passing = passing
        self._planes: list[list[np.ndarray]] = []
        for kind, n in enumerate(self._of_kind):
            planes = [np.zeros_like(passing) for _ in range(n.bit_length())]
            for i in (i for i, k in enumerate(self._kind) if k == kind):
                carry = have[i]
                for plane in planes:
                    next_carry = np.bitwise_and(plane, carry)
                    np.bitwise_xor(plane, carry, out=plane)
                    carry = next_carry
            self._planes.append(planes)
        self._equal: dict[tuple[int, int], np.ndarray] = {}

    def held(self, pattern: int) -> tuple[int, ...]:
        """The pattern's class: how many skills of each weight it holds."""
        out = [0] * len(self._of_kind)
        for i, kind in enumerate(self._kind):
            out[kind] += pattern >> i & 1
        return tuple(out)

    def size(self, held: tuple[int, ...]) -> int:
        """How many patterns the class has."""
        return int(np.prod([comb(n, c) for n, c in zip(self._of_kind, held, strict=True)]))

    def classes(self, patterns: list[int]) -> dict[tuple[int, ...], list[int]]:
        out: dict[tuple[int, ...], list[int]] = {}
        for pattern in patterns:
            out.setdefault(self.held(pattern), []).append(pattern)
        return out

    def bits(self, held: tuple[int, ...]) -> np.ndarray:
        """The passing rows of the class ``held``."""
        out = self._passing.copy()
        for kind, count in enumerate(held):
            if (kind, count) not in self._equal:
                equal = np.full_like(self._passing, np.uint64(0xFFFFFFFFFFFFFFFF))
                for j, plane in enumerate(self._planes[kind]):
                    np.bitwise_and(equal, plane if count >> j & 1 else ~plane, out=equal)
                self._equal[kind, count] = equal
            np.bitwise_and(out, self._equal[kind, count], out=out)
        return out


def top_by_skill(
    bits: SkillBits,
    passing: np.ndarray,
    columns: np.ndarray,
    weights: np.ndarray,
    tail_rows: np.ndarray,
    tail_scores: np.ndarray,
    k: int,
    tie_break: Callable[[np.ndarray], np.ndarray],
    order_key: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """The rows of the ``k`` best skill scores among the passing rows, those tied at the cut-off taken by
    the highest ``tie_break`` and then the lowest ``order_key`` (rows, unordered).

    ``passing``: bits of the passing covered rows (:func:`pack_rows` over ``bits.covered``); ``columns``
    (ascending) and ``weights``: the vacancy's skills and their weights (at most :data:`MAX_SKILLS_WIDE`);
    ``tail_rows``/``tail_scores``: the passing rows past the covered ones with their dense scores.
    """
    covered, values = bits.covered, level_values(weights)
    have = [bits.bits[c] for c in columns]
    missing = [~b for b in have]  # the padding bits set here are cleared by ``passing``
    levels = np.unique(np.concatenate([values, tail_scores]))[::-1]
    patterns = np.argsort(-values, kind="stable")
    counts = _HeldCounts(have, weights, passing) if len(columns) >= COUNT_FROM else None

    def pattern_bits(pattern: int) -> np.ndarray:
        match = passing.copy()
        for i in range(len(columns)):
            np.bitwise_and(match, have[i] if pattern >> i & 1 else missing[i], out=match)
        return match

    def level_bits(value: float) -> np.ndarray:
        out = np.zeros_like(passing)
        at_value = patterns[values[patterns] == value].tolist()
        if counts is None:
            for pattern in at_value:
                np.bitwise_or(out, pattern_bits(pattern), out=out)
            return out
        for held, members in counts.classes(at_value).items():
            if len(members) == counts.size(held):  # every pattern of these counts has this value
                np.bitwise_or(out, counts.bits(held), out=out)
            else:  # sums of the same weights in another order can differ in the last bit
                for pattern in members:
                    np.bitwise_or(out, pattern_bits(pattern), out=out)
        return out

    above: list[np.ndarray] = []
    taken = 0
    for value in levels.tolist():
        at = level_bits(value) if value in values else np.zeros_like(passing)
        tail = tail_rows[tail_scores == value]
        count = int(np.bitwise_count(at).sum()) + len(tail)
        if count == 0:
            continue
        if taken + count < k:
            above.extend([_unpack(at, covered), tail])
            taken += count
            continue
        tied = np.concatenate([_unpack(at, covered), tail])
        need = k - taken
        if len(tied) > need:
            scores = tie_break(tied)
            bar = np.partition(scores, len(scores) - need)[len(scores) - need]
            over = tied[scores > bar]
            level = tied[scores == bar]
            if len(level) > need - len(over):
                keys = order_key(level)
                level = level[np.argsort(keys, kind="stable")[: need - len(over)]]
            tied = np.concatenate([over, level])
        return np.concatenate([*above, tied]).astype(np.int64)
    return np.concatenate([np.zeros(0, dtype=np.int64), *above]).astype(np.int64)  # k or fewer pass


@dataclass(frozen=True)
class SkillLevels:
    """One vacancy's skill coverage over the passing rows of a graduate block, by level (bits for the
    covered rows, dense scores for the rows appended since)."""

    bits: SkillBits
    columns: np.ndarray
    weights: np.ndarray
    head: np.ndarray
    tail: np.ndarray
    tail_scores: np.ndarray

    @classmethod
    def of(
        cls,
        bits: SkillBits | None,
        skills: sp.csr_matrix,
        passing: Callable[[], tuple[np.ndarray, np.ndarray]],
        wanted: np.ndarray,
    ) -> SkillLevels | None:
        """``wanted``: the vacancy's weight per skill (skills x 1, as the dense path has it); ``skills``:
        the block's skill matrix by row; ``passing``: the passing rows as :func:`split_rows` gives them
        (asked for only when used). ``None`` (score densely) without bits or for a vacancy naming no
        skill or more than :func:`max_skills` of the block."""
        columns = np.flatnonzero(wanted[:, 0])
        if bits is None or not 0 < len(columns) <= max_skills(bits.covered):
            return None
        head, tail = passing()
        if len(tail) == 0:  # no passing row appended since the bits (a sparse slice costs ~0.2 ms)
            return cls(bits, columns, wanted[columns, 0], head, tail, np.zeros(0, dtype=np.float64))
        # The appended rows as the dense path scores them (the same expression, so the same floats).
        appended = np.asarray(skills[bits.covered :][:, columns] @ wanted[columns])
        return cls(bits, columns, wanted[columns, 0], head, tail, appended[tail - bits.covered, 0])

    def scores(self, rows: np.ndarray) -> np.ndarray:
        """The skill coverage of passing ``rows``, as the dense path has it."""
        out = np.empty(len(rows), dtype=np.float64)
        old = rows < self.bits.covered
        codes = self.bits.held(rows[old], self.columns) @ (1 << np.arange(len(self.columns)))
        out[old] = level_values(self.weights)[codes]
        out[~old] = self.tail_scores[np.searchsorted(self.tail, rows[~old])]
        return out

    def top(
        self,
        k: int,
        tie_break: Callable[[np.ndarray], np.ndarray],
        order_key: Callable[[np.ndarray], np.ndarray],
    ) -> np.ndarray:
        """:func:`top_by_skill` of these rows."""
        return top_by_skill(
            self.bits,
            self.head,
            self.columns,
            self.weights,
            self.tail,
            self.tail_scores,
            k,
            tie_break,
            order_key,
        )
