"""Variants of the demo world: the same kind of market, drawn from a different hidden model.

A model tuned on one generator learns that generator. Each variant overrides some of the graduates'
utility weights (:data:`training.demo_truth.UTILITY_WEIGHTS`), the employers' screening weights
(:data:`training.demo_truth.EMPLOYER_WEIGHTS`) and the simulation parameters
(:data:`training.demo_history.SIMULATION`); everything else, and every random draw for a seed, works as
in ``default``. The module constants are never changed: :meth:`Variant.utility_weights` and the like
return fresh merged dicts that ``generate`` passes down. See the table in ``docs/demo.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from training.demo_history import SIMULATION
from training.demo_truth import EMPLOYER_WEIGHTS, UTILITY_WEIGHTS

DEFAULT_VARIANT = "default"


@dataclass(frozen=True)
class Variant:
    """A named set of overrides of the demo world's hidden model.

    Parameters
    ----------
    name : str
        What ``--variant`` and ``truth.params["variant"]`` call it.
    changes, checks : str
        One line each for the docs: what the variant changes and which modelling choice it puts to test.
    utility, employer, simulation : mapping of str to float
        Overrides of :data:`UTILITY_WEIGHTS`, :data:`EMPLOYER_WEIGHTS` and :data:`SIMULATION`; a key
        those do not have raises ``ValueError`` (a typo must not silently leave the default in place).
    screened_school_kind, screening_penalty
        Employers mark down every graduate of a school of this kind by ``screening_penalty`` in their
        screening score, whatever the graduate's skills (a disadvantaged group on purpose, for the fairness
        report); ``None`` (every other variant): no such term, and nothing of it in the truth's params.
    """

    name: str
    changes: str
    checks: str
    utility: Mapping[str, float] = field(default_factory=dict)
    employer: Mapping[str, float] = field(default_factory=dict)
    simulation: Mapping[str, float] = field(default_factory=dict)
    screened_school_kind: str | None = None
    screening_penalty: float = 0.0

    def __post_init__(self) -> None:
        for what, overrides, base in (
            ("utility", self.utility, UTILITY_WEIGHTS),
            ("employer", self.employer, EMPLOYER_WEIGHTS),
            ("simulation", self.simulation, SIMULATION),
        ):
            unknown = sorted(set(overrides) - set(base))
            if unknown:
                raise ValueError(f"variant {self.name!r}: unknown {what} key(s) {', '.join(unknown)}")

    def utility_weights(self) -> dict[str, float]:
        return {**UTILITY_WEIGHTS, **self.utility}

    def employer_weights(self) -> dict[str, float]:
        return {**EMPLOYER_WEIGHTS, **self.employer}

    def simulation_params(self) -> dict[str, float]:
        return {**SIMULATION, **self.simulation}


_VARIANTS = (
    Variant(
        DEFAULT_VARIANT,
        changes="nothing: the weights and simulation of docs/demo.md",
        checks="the world the matcher is developed on",
    ),
    Variant(
        "skills-first",
        changes=(
            "graduates' utility and employers' screening are mostly skill fit (required 5.0/4.0, preferred "
            "1.5/1.5); sponsor, taste, appeal and location weigh 0.1–0.3"
        ),
        checks="that skill-coverage features carry the model when history rates add little",
        utility={
            "required": 5.0,
            "preferred": 1.5,
            "sponsor": 0.3,
            "location": 0.2,
            "taste": 0.2,
            "appeal": 0.1,
            "noise": 0.5,
        },
        employer={"required": 4.0, "preferred": 1.5, "sponsor": 0.3, "noise": 0.5},
    ),
    Variant(
        "sponsor-first",
        changes=(
            "order-class sponsorship outweighs skills on both sides (sponsor 5.0 in utility, 4.0 in "
            "screening); 45% of an order-class graduate's search results are the sponsor's openings"
        ),
        checks="that the sponsor signal is learnt on both sides and kept first in plans",
        utility={"sponsor": 5.0},
        employer={"sponsor": 4.0},
        simulation={"sponsor_channel": 0.45},
    ),
    Variant(
        "popularity-heavy",
        changes=(
            "exposure and graduates' choices follow employer appeal (appeal 2.5 in utility, required 1.0; "
            "listing popularity size^0.8 · exp(1.6 · appeal)); employers screen on fit as in default"
        ),
        checks="that a model which learns who applies does not mistake popularity for a match",
        utility={
            "required": 1.0,
            "preferred": 0.2,
            "sponsor": 0.8,
            "location": 0.4,
            "taste": 0.4,
            "appeal": 2.5,
            "education": 0.5,
        },
        simulation={"popularity_size": 0.8, "popularity_appeal": 1.6},
    ),
    Variant(
        "sparse-history",
        changes=(
            "5 searches per graduate-year instead of 50 (about a quarter of the distinct views); 30% of "
            "failed applications get an explicit rejection, not 75%"
        ),
        checks="that the model leans on features, not on history rates, when history is thin",
        simulation={"views_factor": 0.1, "reject_notice": 0.3},
    ),
    Variant(
        "biased",
        changes=(
            "employers mark down graduates of vocational colleges (高职) by 2.0 in screening (about a "
            "required-skill share of 0.8), whatever their skills; the graduates' side as in default"
        ),
        checks="that the fairness report flags a group screened down on purpose and the re-ranking lifts it",
        screened_school_kind="vocational_college",
        screening_penalty=2.0,
    ),
)
VARIANTS: dict[str, Variant] = {v.name: v for v in _VARIANTS}


def get_variant(name: str) -> Variant:
    """The variant called ``name``; ``ValueError`` naming the valid ones otherwise."""
    try:
        return VARIANTS[name]
    except KeyError:
        raise ValueError(f"unknown variant {name!r}; expected one of {', '.join(VARIANTS)}") from None
