"""Explanations: matched and missing skills, and the top reasons in plain words.

A reason comes from a *group* of pair features (``models.pairs.FEATURES``); its weight is how much that
group raised the ranker's score above a typical pair (see ``PairRanker.contributions``). Only groups that
raised the score, and whose condition holds (e.g. the sponsor reason only for the sponsor's own class), are
shown; the strongest first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from models.pairs import FEATURE_NAMES, FEATURES
from models.results import Reason

TOP_REASONS = 3
COL = {name: i for i, name in enumerate(FEATURE_NAMES)}

Row = Sequence[float]  # one pair's feature values (a list of floats or an array row)
# group -> (condition on the pair's feature row, message builder)
REASONS: dict[str, tuple[Callable[[Row], bool], Callable[[Row], str]]] = {
    "required_skills": (
        lambda x: x[COL["n_required"]] > 0 and x[COL["required_coverage"]] > 0,
        lambda x: "holds {:.0f} of {:.0f} required skills".format(
            x[COL["n_required"]] - x[COL["required_missing"]], x[COL["n_required"]]
        ),
    ),
    "preferred_skills": (
        lambda x: x[COL["preferred_matched"]] > 0,
        lambda x: "holds {:.0f} of the preferred skills".format(x[COL["preferred_matched"]]),
    ),
    "skill_focus": (
        lambda x: x[COL["skill_focus"]] > 0,
        lambda x: "skills concentrated on what this job needs",
    ),
    "education": (
        lambda x: x[COL["education_gap"]] >= 0,
        lambda x: (
            "education above the minimum" if x[COL["education_gap"]] > 0 else "meets the education level"
        ),
    ),
    "district_preference": (lambda x: x[COL["district_preference"]] == 1, lambda x: "prefers this district"),
    "local_school": (lambda x: x[COL["school_district"]] == 1, lambda x: "studied in this district"),
    "sponsor_class": (
        lambda x: x[COL["sponsor_match"]] == 1,
        lambda x: "from the sponsor's order-based class",
    ),
    "program_segment_history": (
        lambda x: x[COL["program_segment"]] > 0,
        lambda x: "graduates of this programme often apply to this segment",
    ),
    "employer_history": (
        lambda x: (
            max(x[COL["program_enterprise"]], x[COL["school_enterprise"]], x[COL["program_enterprise_rate"]])
            > 0
        ),
        lambda x: "graduates of this programme or school have applied to this employer",
    ),
    "program_district_history": (
        lambda x: x[COL["program_district"]] > 0,
        lambda x: "graduates of this programme often work in this district",
    ),
    "program_role_history": (
        lambda x: max(x[COL["program_role"]], x[COL["program_family"]], x[COL["program_family_rate"]]) > 0,
        lambda x: "graduates of this programme often apply to this kind of job",
    ),
    "employer_appeal": (
        lambda x: max(x[COL["enterprise_rate"]], x[COL["enterprise_appeal"]]) > 0,
        lambda x: "this employer attracts many applicants",
    ),
    "employer_screening": (
        lambda x: (
            max(
                x[COL["enterprise_advance"]],
                x[COL["program_enterprise_advance"]],
                x[COL["program_segment_advance"]],
            )
            > 0
        ),
        lambda x: "employers like this one advanced graduates like this one",
    ),
    "graduate_activity": (
        lambda x: max(x[COL["graduate_rate"]], x[COL["graduate_activity"]]) > 0,
        lambda x: "actively applying to jobs",
    ),
    "salary": (lambda x: not np.isnan(x[COL["salary"]]), lambda x: "salary suits this profile"),
    "program_kind": (lambda x: True, lambda x: "this kind of programme suits the job"),
    "vacancy_profile": (lambda x: True, lambda x: "the job's profile suits this graduate's background"),
    "collaborative": (lambda x: True, lambda x: "graduates like this one applied to jobs like this"),
}
GROUPS: dict[str, list[int]] = {}
for _name, _group in FEATURES.items():
    GROUPS.setdefault(_group, []).append(COL[_name])


def skill_overlap(
    graduate_skills: Sequence[str] | None, required: Sequence[str] | None, preferred: Sequence[str] | None
) -> tuple[list[str], list[str], list[str]]:
    """(matched required, missing required, matched preferred), in the vacancy's order."""
    held = set(graduate_skills or ())
    required = list(required or ())
    preferred = list(preferred or ())
    return (
        [s for s in required if s in held],
        [s for s in required if s not in held],
        [s for s in preferred if s in held],
    )


def reasons_for(features: np.ndarray, contributions: np.ndarray, names: list[str]) -> list[list[Reason]]:
    """Top reasons of each pair (row of ``features``) from the group ``contributions``."""
    if len(features) == 0:
        return []
    # Strongest first, ties by name: one lexsort for every row instead of a Python sort per row.
    name_rank = np.argsort(np.argsort(np.asarray(names, dtype=object)))
    contributions = np.asarray(contributions, dtype=np.float64)
    orders = np.lexsort((np.broadcast_to(name_rank, contributions.shape), -contributions), axis=-1)
    out: list[list[Reason]] = []
    # Plain Python floats: the conditions and messages read a dozen values of each row.
    for x, contrib, order in zip(features.tolist(), contributions.tolist(), orders.tolist(), strict=True):
        chosen: list[Reason] = []
        for g in order:
            weight = contrib[g]
            if weight <= 0 or len(chosen) == TOP_REASONS:
                break
            condition, message = REASONS[names[g]]
            if condition(x):
                chosen.append(Reason(code=names[g], message=message(x), weight=round(weight, 4)))
        if not chosen:
            condition, message = REASONS["required_skills"]
            weight = float(dict(zip(names, contrib, strict=True)).get("required_skills", 0.0))
            text = message(x) if x[COL["n_required"]] > 0 else "no required skills listed"
            chosen.append(Reason(code="required_skills", message=text, weight=round(weight, 4)))
        out.append(chosen)
    return out


# A missing skill is "key" when at least this share of the graduates the employer advanced held it.
KEY_SKILL_SHARE = 0.5


def missing_skill_reason(missing: Sequence[str], held_by: dict[str, float]) -> Reason:
    """The main thing against a pair: the missing required skill the employer's past picks held most.

    ``held_by`` maps required skills to the share of the graduates this employer advanced who held them.
    Message formats (the web pages parse them): ``"lacks SKILL; NN% of the graduates this employer
    advanced held it"`` (code ``missing_key_skill``) or ``"lacks SKILL"`` (code ``missing_skill``).
    """
    key = max(missing, key=lambda s: (held_by.get(s, 0.0), -list(missing).index(s)))
    share = held_by.get(key, 0.0)
    if share >= KEY_SKILL_SHARE:
        return Reason(
            code="missing_key_skill",
            message=f"lacks {key}; {round(100 * share)}% of the graduates this employer advanced held it",
            weight=-round(share, 4),
        )
    return Reason(code="missing_skill", message=f"lacks {key}", weight=-round(max(share, 0.01), 4))
