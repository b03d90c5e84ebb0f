"""The hidden preference model of the demo world: :class:`GroundTruth`.

``utility(g, v)`` is the quantity the generator drew graduates' decisions from (applying to a viewed
vacancy, accepting an offer). Employers screened applicants by a separate score, ``employer_fit``.
Both are documented term by term in ``docs/demo.md``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

GROUND_TRUTH_DIR = "ground_truth"
PARAMS_FILE = "params.json"
ARRAYS_FILE = "arrays.npz"

# Weights of the graduate's utility. Skill fits are shares in [0, 1]; sponsor and location are 0/1;
# taste, appeal and noise are standardised (std 1); education is a penalty (0 when qualified).
UTILITY_WEIGHTS: dict[str, float] = {
    "required": 3.0,
    "preferred": 0.6,
    "sponsor": 1.5,
    "location": 0.8,
    "taste": 0.8,
    "appeal": 0.5,
    "education": 1.0,
    "noise": 0.6,
}
# Weights of the employer's screening score (no taste, location or appeal: the firm does not see them).
EMPLOYER_WEIGHTS: dict[str, float] = {
    "required": 2.5,
    "preferred": 0.8,
    "sponsor": 1.5,
    "education": 1.0,
    "noise": 0.7,
}
UTILITY_TERMS = tuple(UTILITY_WEIGHTS)
_NOISE_SALT = 0x5EED_0F_7A57E
_EMPLOYER_SALT = 0xE3B1_0FFE_12

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _splitmix(x: Any) -> Any:
    """SplitMix64 finaliser (wrapping uint64 arithmetic is the point)."""
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def pair_noise(seed: int, salt: int, g: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Standard normal noise per (graduate row, vacancy row), a pure function of seed, salt and rows."""
    base = np.uint64((seed * 0x100000001B3 + salt) % (1 << 64))
    key = _splitmix(
        base ^ ((g.astype(np.uint64) << np.uint64(32)) | v.astype(np.uint64)) ^ _splitmix(base + np.uint64(1))
    )
    k2 = _splitmix(key)
    u1 = ((key >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)
    u2 = (k2 >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def _popcount(words: np.ndarray) -> np.ndarray:
    counts = np.bitwise_count(words)
    return (counts[..., 0] + counts[..., 1]).astype(np.float64)


def education_penalty(gap: np.ndarray) -> np.ndarray:
    """Utility penalty for education rank minus the vacancy's minimum rank.

    Under-qualified: ``gap - 0.5`` (−1.5 for one level short); over-qualified by two or more levels:
    ``−0.2`` per level beyond the first (a master in an operator job); otherwise 0.
    """
    gap = gap.astype(np.float64)
    return np.where(gap < 0, gap - 0.5, -0.2 * np.clip(gap - 1.0, 0.0, None))


@dataclass(eq=False)
class GroundTruth:
    """Parameters and attribute lookups of the generator's hidden preference model.

    Skill sets are bit masks (two ``uint64`` words per row, bit ``i`` = ``skill_ids[i]``); districts
    are bit masks over ``districts``; education is the rank in ``models.columns.EDUCATION_LEVELS``.
    ``taste[program, template]`` is the programme-level taste for a (segment, role) job template,
    standardised to std 1 over all programmes and templates.
    """

    params: dict[str, Any]
    skill_ids: np.ndarray
    districts: np.ndarray
    templates: np.ndarray  # "segment/role"
    enterprise_ids: np.ndarray
    appeal: np.ndarray
    program_ids: np.ndarray
    taste: np.ndarray
    graduate_ids: np.ndarray
    graduate_program: np.ndarray
    graduate_education: np.ndarray
    graduate_skills: np.ndarray
    graduate_districts: np.ndarray
    graduate_sponsor: np.ndarray  # enterprise row of the order-class sponsor, -1 for none
    vacancy_ids: np.ndarray
    vacancy_enterprise: np.ndarray
    vacancy_template: np.ndarray
    vacancy_district: np.ndarray
    vacancy_min_education: np.ndarray
    vacancy_required: np.ndarray
    vacancy_preferred: np.ndarray
    _graduate_index: pd.Index | None = field(default=None, repr=False)
    _vacancy_index: pd.Index | None = field(default=None, repr=False)
    _vacancy_counts: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    @property
    def seed(self) -> int:
        return int(self.params["seed"])

    @property
    def weights(self) -> dict[str, float]:
        return dict(self.params["utility_weights"])

    # ---- id lookups -------------------------------------------------------------------------
    def graduate_rows(self, graduate_ids: Sequence[str] | np.ndarray) -> np.ndarray:
        if self._graduate_index is None:
            self._graduate_index = pd.Index(self.graduate_ids)
        return _rows(self._graduate_index, graduate_ids, "graduate")

    def vacancy_rows(self, vacancy_ids: Sequence[str] | np.ndarray) -> np.ndarray:
        if self._vacancy_index is None:
            self._vacancy_index = pd.Index(self.vacancy_ids)
        return _rows(self._vacancy_index, vacancy_ids, "vacancy")

    # ---- the model --------------------------------------------------------------------------
    def components_at(self, g: np.ndarray, v: np.ndarray, *, noise: bool = True) -> dict[str, np.ndarray]:
        """Unweighted utility terms of the pairs (graduate row ``g[i]``, vacancy row ``v[i]``).

        ``education_gap`` (education rank minus the minimum) is included for convenience; it is not a
        term. ``noise=False`` leaves the noise term out (faster; for exposure simulation).
        """
        g = np.asarray(g, dtype=np.int64)
        v = np.asarray(v, dtype=np.int64)
        n_req, n_pref = self._skill_counts()
        gs = self.graduate_skills[g]
        req_n = n_req[v]
        pref_n = n_pref[v]
        required = np.divide(
            _popcount(gs & self.vacancy_required[v]), req_n, out=np.zeros(len(g)), where=req_n > 0
        )
        preferred = np.divide(
            _popcount(gs & self.vacancy_preferred[v]), pref_n, out=np.zeros(len(g)), where=pref_n > 0
        )
        enterprise = self.vacancy_enterprise[v]
        sponsor = (self.graduate_sponsor[g] == enterprise).astype(np.float64)
        location = (
            (self.graduate_districts[g] >> self.vacancy_district[v].astype(self.graduate_districts.dtype)) & 1
        ).astype(np.float64)
        taste = self.taste[self.graduate_program[g], self.vacancy_template[v]]
        gap = self.graduate_education[g].astype(np.int64) - self.vacancy_min_education[v].astype(np.int64)
        parts = {
            "required": required,
            "preferred": preferred,
            "sponsor": sponsor,
            "location": location,
            "taste": taste.astype(np.float64),
            "appeal": self.appeal[enterprise].astype(np.float64),
            "education": education_penalty(gap),
            "education_gap": gap,
        }
        if noise:
            parts["noise"] = pair_noise(self.seed, _NOISE_SALT, g, v)
        return parts

    def _skill_counts(self) -> tuple[np.ndarray, np.ndarray]:
        if self._vacancy_counts is None:
            self._vacancy_counts = (_popcount(self.vacancy_required), _popcount(self.vacancy_preferred))
        return self._vacancy_counts

    def utility_at(self, g: np.ndarray, v: np.ndarray, *, noise: bool = True) -> np.ndarray:
        """True utility of the pairs given as row positions (vectorised; see :meth:`utility`).

        ``noise=False`` leaves out the pair's noise term: what could be known about the pair without
        having seen its own decisions."""
        parts = self.components_at(g, v, noise=noise)
        w = self.params["utility_weights"]
        total = np.zeros(len(parts["required"]))
        for name in UTILITY_TERMS:  # fixed order: the sum is bit-identical however params were loaded
            if name in parts:
                total += w[name] * parts[name]
        return total

    def utility(
        self, graduate_ids: Sequence[str] | np.ndarray, vacancy_ids: Sequence[str] | np.ndarray
    ) -> np.ndarray:
        """True match utility of each pair ``(graduate_ids[i], vacancy_ids[i])``, elementwise.

        ``sum(w[k] * term_k)`` over the terms of :meth:`components_at` with ``params["utility_weights"]``;
        deterministic (the noise term is a hash of the seed and the pair). Raises ``KeyError`` for
        unknown ids.
        """
        return self.utility_at(self.graduate_rows(graduate_ids), self.vacancy_rows(vacancy_ids))

    def employer_fit_at(self, g: np.ndarray, v: np.ndarray, *, noise: bool = True) -> np.ndarray:
        """The employers' screening score of the pairs (drove shortlists, interviews and offers);
        ``noise=False`` leaves out the pair's noise term."""
        parts = self.components_at(g, v, noise=False)
        w = self.params["employer_weights"]
        gap = parts["education_gap"]
        education = np.where(gap < 0, gap * 0.5 - 2.0, 0.0)
        fit = (
            w["required"] * parts["required"]
            + w["preferred"] * parts["preferred"]
            + w["sponsor"] * parts["sponsor"]
            + w["education"] * education
            + w["noise"] * pair_noise(self.seed, _EMPLOYER_SALT, np.asarray(g), np.asarray(v))
        )
        screened = self.params.get("screened")
        if screened:  # a variant's employers mark a group down on purpose (training.demo_variants)
            programs = np.asarray(screened["program_rows"], dtype=np.int64)
            marked = np.isin(self.graduate_program[np.asarray(g, dtype=np.int64)], programs)
            fit = fit - float(screened["penalty"]) * marked
        return fit

    # ---- persistence ------------------------------------------------------------------------
    def save(self, directory: str | Path) -> list[Path]:
        """Write ``params.json`` and ``arrays.npz`` (no pickle) into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        params_path = directory / PARAMS_FILE
        params_path.write_text(json.dumps(self.params, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
        arrays_path = directory / ARRAYS_FILE
        np.savez_compressed(arrays_path, **{name: getattr(self, name) for name in _array_fields()})
        return [params_path, arrays_path]

    @classmethod
    def load(cls, directory: str | Path) -> GroundTruth:
        directory = Path(directory)
        params = json.loads((directory / PARAMS_FILE).read_text())
        with np.load(directory / ARRAYS_FILE, allow_pickle=False) as arrays:
            values = {name: arrays[name] for name in _array_fields()}
        return cls(params=params, **values)


def _array_fields() -> list[str]:
    return [f.name for f in fields(GroundTruth) if f.name != "params" and not f.name.startswith("_")]


def _rows(index: pd.Index, ids: Sequence[str] | np.ndarray, what: str) -> np.ndarray:
    ids = np.asarray(ids, dtype=object) if not isinstance(ids, np.ndarray) else ids
    rows = index.get_indexer(ids)
    if (rows < 0).any():
        missing = [str(x) for x in np.asarray(ids)[rows < 0][:5]]
        raise KeyError(f"unknown {what} id(s): {', '.join(missing)}")
    return rows


def load_ground_truth(directory: str | Path) -> GroundTruth:
    """Load the ground truth of a demo bundle (``directory`` is the bundle or its ``ground_truth`` folder)."""
    directory = Path(directory)
    if (directory / GROUND_TRUTH_DIR / PARAMS_FILE).exists():
        directory = directory / GROUND_TRUTH_DIR
    return GroundTruth.load(directory)
