"""A synthetic but realistic Shaoxing IC talent market with a known answer: the demo world.

``generate(scale, seed, variant=...)`` samples enterprises, schools, programmes (order-based classes,
training courses, degree tracks), graduates, vacancies and a year of interactions produced by a hidden
preference model (:class:`training.demo_truth.GroundTruth`; its weights and the simulation's parameters
come from the variant, :data:`training.demo_variants.VARIANTS`). ``write_demo_bundle`` writes it as a CSV
bundle plus ``ground_truth/`` (ignored by the importer) so models can be scored against the truth.
Deterministic for a (scale, seed, variant); see ``docs/demo.md``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from models.bundle import write_bundle
from models.columns import EDUCATION_LEVELS, EVENTS, SEGMENTS
from models.columns import Columns as C
from models.data import MarketData
from training.demo_catalog import DISTRICTS, EDUCATION_ZH, SCHOOLS, SKILLS, TEMPLATES
from training.demo_entities import (
    SCALES,
    SKILL_IDS,
    TEMPLATE_SEGMENT,
    Enterprises,
    Graduates,
    ProgramSpec,
    Vacancies,
    program_segment_profile,
    rows_to_mask,
    sample_enterprises,
    sample_graduates,
    sample_programs,
    sample_vacancies,
    skill_masks,
)
from training.demo_history import History, listing_popularity, sample_views, simulate
from training.demo_text import vacancy_description, vacancy_title
from training.demo_truth import GROUND_TRUTH_DIR, GroundTruth, load_ground_truth
from training.demo_variants import DEFAULT_VARIANT, VARIANTS, Variant, get_variant

__all__ = [
    "DEFAULT_AS_OF",
    "DEFAULT_VARIANT",
    "DemoWorld",
    "GroundTruth",
    "SCALES",
    "VARIANTS",
    "generate",
    "get_variant",
    "load_ground_truth",
    "write_demo_bundle",
]

# The simulated year ends here. Fixed (not "today") so a seed always gives the same world; open
# vacancies close 1-6 months after it.
DEFAULT_AS_OF = pd.Timestamp("2026-11-15")
SIM_DAYS = 365.0
TASTE_DIM = 4


@dataclass
class DemoWorld:
    """A generated market, its hidden truth, and how long each step took (seconds)."""

    data: MarketData
    truth: GroundTruth
    timings: dict[str, float] = field(default_factory=dict)


def generate(
    scale: str = "small",
    seed: int = 7,
    *,
    as_of: pd.Timestamp | str | None = None,
    variant: str = DEFAULT_VARIANT,
) -> DemoWorld:
    """Generate the demo world.

    Parameters
    ----------
    scale : {"small", "medium", "large"}
        small: ~100 enterprises, ~300 vacancies, ~1.5k graduates; medium: ~600, ~3k, ~20k;
        large: ~3k, ~20k, ~200k.
    seed : int
        Every random draw comes from ``np.random.default_rng(seed)``; equal seeds give equal worlds.
    as_of : timestamp, optional
        End of the simulated year (default :data:`DEFAULT_AS_OF`).
    variant : str
        A key of :data:`VARIANTS`: which hidden model the interactions are drawn from. Firms,
        programmes, graduates and vacancies are the same for every variant of a seed; their statuses,
        the history and the wording of vacancy descriptions are not.

    Returns
    -------
    DemoWorld
        ``truth.params["variant"]`` names the variant.

    Raises
    ------
    ValueError
        For an unknown scale or variant (the message lists the valid ones).
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; expected one of {', '.join(SCALES)}")
    spec = SCALES[scale]
    chosen = get_variant(variant)
    simulation = chosen.simulation_params()
    as_of_ts = pd.Timestamp(as_of if as_of is not None else DEFAULT_AS_OF).normalize()
    start_ts = as_of_ts - pd.Timedelta(days=SIM_DAYS)
    rng = np.random.default_rng(seed)
    clock = time.perf_counter()
    timings: dict[str, float] = {}

    ent = sample_enterprises(rng, spec.enterprises)
    programs = sample_programs(rng, scale, ent, as_of_ts.year, SIM_DAYS)
    july_first = {
        year: (pd.Timestamp(year=year, month=7, day=1) - start_ts) / pd.Timedelta(days=1)
        for year in range(as_of_ts.year - 2, as_of_ts.year + 3)
    }
    grads = sample_graduates(rng, programs, july_first)
    perm = rng.permutation(len(grads.program))  # ids do not follow programmes
    grads = _permute_graduates(grads, perm)
    vacs = sample_vacancies(rng, spec.vacancies, ent, SIM_DAYS)
    taste = _program_taste(rng, programs)
    timings["entities"] = time.perf_counter() - clock

    truth = _ground_truth(seed, scale, as_of_ts, chosen, ent, programs, grads, vacs, taste)
    popularity = listing_popularity(ent.size[vacs.enterprise], ent.appeal[vacs.enterprise], simulation)
    views = sample_views(
        rng,
        truth,
        simulation=simulation,
        search_start=grads.search_start,
        activity=grads.activity,
        segment_probs=_search_profiles(programs, taste, vacs),
        vacancy_segment=ent.segment[vacs.enterprise],
        popularity=popularity,
        posted=vacs.posted,
        closes=vacs.closes,
        sim_days=SIM_DAYS,
        views_per_year=spec.views_per_year * simulation["views_factor"],
    )
    history = simulate(
        rng,
        truth,
        simulation=simulation,
        views=views,
        search_start=grads.search_start,
        headcount=vacs.headcount,
        closes=vacs.closes,
        sim_days=SIM_DAYS,
    )
    truth.params["simulation"] = {**simulation, "thresholds": history.thresholds}
    timings["interactions"] = time.perf_counter() - clock - timings["entities"]

    data = _market_data(rng, start_ts, ent, programs, grads, vacs, history, truth)
    timings["frames"] = time.perf_counter() - clock - timings["entities"] - timings["interactions"]
    timings["total"] = time.perf_counter() - clock
    return DemoWorld(data=data, truth=truth, timings=timings)


def write_demo_bundle(
    directory: str | Path,
    scale: str = "small",
    seed: int = 7,
    *,
    as_of: pd.Timestamp | str | None = None,
    variant: str = DEFAULT_VARIANT,
) -> DemoWorld:
    """Generate the world and write it as a bundle in ``directory`` plus ``directory/ground_truth/``.

    The variant is recorded in ``ground_truth/params.json`` (``"variant"``); an unknown one raises
    ``ValueError`` before anything is written.
    """
    world = generate(scale, seed, as_of=as_of, variant=variant)
    clock = time.perf_counter()
    directory = Path(directory)
    write_bundle(world.data, directory)
    world.truth.save(directory / GROUND_TRUTH_DIR)
    world.timings["write"] = time.perf_counter() - clock
    return world


# ---- hidden model -------------------------------------------------------------------------------
def _program_taste(rng: np.random.Generator, programs: list[ProgramSpec]) -> np.ndarray:
    """Low-rank programme × job-template taste, shared by all graduates of a programme."""
    seg_vec = rng.normal(size=(len(SEGMENTS), TASTE_DIM))
    template_vec = seg_vec[TEMPLATE_SEGMENT] + 0.7 * rng.normal(size=(len(TEMPLATES), TASTE_DIM))
    profiles = np.array([program_segment_profile(p.curriculum) for p in programs])
    program_vec = rng.normal(size=(len(programs), TASTE_DIM)) + 0.5 * (profiles @ seg_vec)
    taste = program_vec @ template_vec.T
    return (taste - taste.mean()) / taste.std()


def _search_profiles(programs: list[ProgramSpec], taste: np.ndarray, vacs: Vacancies) -> np.ndarray:
    """Per programme, the probability that a view lands in each segment (curriculum, taste, market)."""
    seg_share = np.bincount(TEMPLATE_SEGMENT[vacs.template], minlength=len(SEGMENTS)) + 1.0
    seg_share /= seg_share.sum()
    profiles = np.array([program_segment_profile(p.curriculum) for p in programs])
    taste_seg = np.stack([taste[:, s == TEMPLATE_SEGMENT].mean(axis=1) for s in range(len(SEGMENTS))], axis=1)
    logits = np.log(seg_share)[None, :] + 3.0 * profiles + 0.5 * taste_seg
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    return probs / probs.sum(axis=1, keepdims=True)


def _ground_truth(
    seed: int,
    scale: str,
    as_of: pd.Timestamp,
    variant: Variant,
    ent: Enterprises,
    programs: list[ProgramSpec],
    grads: Graduates,
    vacs: Vacancies,
    taste: np.ndarray,
) -> GroundTruth:
    n_grad, n_vac = len(grads.program), len(vacs.enterprise)
    sponsor = np.array([p.sponsor for p in programs], dtype=np.int64)[grads.program]
    params = {
        "seed": int(seed),
        "scale": scale,
        "variant": variant.name,
        "as_of": as_of.strftime("%Y-%m-%d"),
        "utility_weights": variant.utility_weights(),
        "employer_weights": variant.employer_weights(),
        "education_levels": list(EDUCATION_LEVELS),
    }
    if variant.screened_school_kind is not None:
        # The programmes (rows) whose graduates the employers mark down: those of the screened schools.
        rows = [i for i, p in enumerate(programs) if SCHOOLS[p.school].kind == variant.screened_school_kind]
        params["screened"] = {
            "school_kind": variant.screened_school_kind,
            "penalty": float(variant.screening_penalty),
            "program_rows": rows,
        }
    return GroundTruth(
        params=params,
        skill_ids=SKILL_IDS.astype(str),
        districts=np.array(DISTRICTS),
        templates=np.array([f"{t.segment}/{t.role}" for t in TEMPLATES]),
        enterprise_ids=ent.ids.astype(str),
        appeal=ent.appeal.astype(np.float64),
        program_ids=np.array([f"P{i + 1:04d}" for i in range(len(programs))]),
        taste=taste.astype(np.float64),
        graduate_ids=np.array([f"G{i + 1:06d}" for i in range(n_grad)]),
        graduate_program=grads.program.astype(np.int32),
        graduate_education=grads.education.astype(np.int8),
        graduate_skills=skill_masks(grads.skills),
        graduate_districts=grads.districts.astype(np.uint8),
        graduate_sponsor=sponsor.astype(np.int32),
        vacancy_ids=np.array([f"V{i + 1:05d}" for i in range(n_vac)]),
        vacancy_enterprise=vacs.enterprise.astype(np.int32),
        vacancy_template=vacs.template.astype(np.int32),
        vacancy_district=ent.district[vacs.enterprise].astype(np.uint8),
        vacancy_min_education=vacs.min_education.astype(np.int8),
        vacancy_required=rows_to_mask(vacs.required),
        vacancy_preferred=rows_to_mask(vacs.preferred),
    )


def _permute_graduates(grads: Graduates, perm: np.ndarray) -> Graduates:
    return Graduates(
        program=grads.program[perm],
        education=grads.education[perm],
        skills=grads.skills[perm],
        districts=grads.districts[perm],
        district_order=[grads.district_order[i] for i in perm],
        available_day=grads.available_day[perm],
        search_start=grads.search_start[perm],
        activity=grads.activity[perm],
    )


# ---- frames -------------------------------------------------------------------------------------
def _days_to_timestamps(start: pd.Timestamp, days: np.ndarray) -> np.ndarray:
    seconds = np.round(np.asarray(days, dtype=np.float64) * 86400.0).astype(np.int64)
    return (np.datetime64(start.to_datetime64(), "s") + seconds.astype("timedelta64[s]")).astype(
        "datetime64[ns]"
    )


def _skill_lists(matrix: np.ndarray) -> list[list[str]]:
    rows, cols = np.nonzero(matrix)
    ids = SKILL_IDS[cols].tolist()
    bounds = np.searchsorted(rows, np.arange(matrix.shape[0] + 1))
    return [ids[bounds[i] : bounds[i + 1]] for i in range(matrix.shape[0])]


def _market_data(
    rng: np.random.Generator,
    start: pd.Timestamp,
    ent: Enterprises,
    programs: list[ProgramSpec],
    grads: Graduates,
    vacs: Vacancies,
    history: History,
    truth: GroundTruth,
) -> MarketData:
    skills = pd.DataFrame(
        {
            C.skill: [s[0] for s in SKILLS],
            C.name_zh: [s[1] for s in SKILLS],
            C.name_en: [s[2] for s in SKILLS],
            C.category: [s[3] for s in SKILLS],
            C.aliases: [list(s[4]) for s in SKILLS],
        }
    )
    enterprises = pd.DataFrame(
        {
            C.enterprise: ent.ids.tolist(),
            C.name: ent.names.tolist(),
            C.segment: [SEGMENTS[s] for s in ent.segment],
            C.district: [DISTRICTS[d] for d in ent.district],
        }
    )
    school_ids = [f"S{i + 1:02d}" for i in range(len(SCHOOLS))]
    schools = pd.DataFrame(
        {
            C.school: school_ids,
            C.name: [s.name for s in SCHOOLS],
            C.kind: [s.kind for s in SCHOOLS],
            C.district: [s.district for s in SCHOOLS],
        }
    )
    program_ids = truth.program_ids.tolist()
    programs_frame = pd.DataFrame(
        {
            C.program: program_ids,
            C.school: [school_ids[p.school] for p in programs],
            C.name: [p.name for p in programs],
            C.kind: [p.kind for p in programs],
            C.sponsor: [str(ent.ids[p.sponsor]) if p.sponsor >= 0 else None for p in programs],
            C.cohort_year: np.array([p.cohort_year for p in programs], dtype=np.int64),
            C.skills: [list(p.curriculum) for p in programs],
        }
    )
    n_grad = len(grads.program)
    status = np.full(n_grad, "seeking", dtype=object)
    status[history.withdrawn] = "withdrawn"
    status[np.isfinite(history.hired_day)] = "placed"
    available = (
        _days_to_timestamps(start, grads.available_day).astype("datetime64[D]").astype("datetime64[ns]")
    )
    graduates = pd.DataFrame(
        {
            C.graduate: truth.graduate_ids.tolist(),
            C.program: [program_ids[p] for p in grads.program],
            C.education: [EDUCATION_LEVELS[e] for e in grads.education],
            C.major: [programs[p].major for p in grads.program],
            C.skills: _skill_lists(grads.skills),
            C.preferred_districts: [[DISTRICTS[d] for d in row] for row in grads.district_order],
            C.available_from: available,
            C.status: status,
        }
    )
    n_vac = len(vacs.enterprise)
    vac_status = np.where(vacs.closes > SIM_DAYS, "open", "closed").astype(object)
    vac_status[history.hires >= vacs.headcount] = "filled"
    skill_names = [s[1] for s in SKILLS]
    aliases = [s[4] for s in SKILLS]
    text_u = rng.random((n_vac, 12))
    titles = [
        vacancy_title(TEMPLATES[t], vacs.required[i], skill_names, vacs.min_education[i])
        for i, t in enumerate(vacs.template)
    ]
    descriptions = [
        vacancy_description(
            enterprise=str(ent.names[vacs.enterprise[i]]),
            title=titles[i],
            role=TEMPLATES[vacs.template[i]].role,
            headcount=int(vacs.headcount[i]),
            required=[(skill_names[s], aliases[s]) for s in vacs.required[i]],
            preferred=[(skill_names[s], aliases[s]) for s in vacs.preferred[i]],
            education=EDUCATION_ZH[EDUCATION_LEVELS[vacs.min_education[i]]],
            district=DISTRICTS[ent.district[vacs.enterprise[i]]],
            salary=(vacs.salary_min[i], vacs.salary_max[i]),
            u=text_u[i],
        )
        for i in range(n_vac)
    ]
    vacancies = pd.DataFrame(
        {
            C.vacancy: truth.vacancy_ids.tolist(),
            C.enterprise: ent.ids[vacs.enterprise].tolist(),
            C.title: titles,
            C.role: [TEMPLATES[t].role for t in vacs.template],
            C.required_skills: [SKILL_IDS[r].tolist() for r in vacs.required],
            C.preferred_skills: [SKILL_IDS[r].tolist() for r in vacs.preferred],
            C.min_education: [EDUCATION_LEVELS[e] for e in vacs.min_education],
            C.district: [DISTRICTS[d] for d in ent.district[vacs.enterprise]],
            C.headcount: vacs.headcount.astype(np.int64),
            C.salary_min: vacs.salary_min.astype(np.float64),
            C.salary_max: vacs.salary_max.astype(np.float64),
            C.posted_at: _days_to_timestamps(start, vacs.posted),
            C.closes_at: _days_to_timestamps(start, vacs.closes),
            C.status: vac_status,
            C.description: descriptions,
        }
    )
    events = np.array(EVENTS, dtype=object)
    interactions = pd.DataFrame(
        {
            C.graduate: truth.graduate_ids.astype(object)[history.graduate],
            C.vacancy: truth.vacancy_ids.astype(object)[history.vacancy],
            C.event: events[history.event],
            C.occurred_at: _days_to_timestamps(start, history.day),
        }
    )
    return MarketData(
        skills=skills,
        enterprises=enterprises,
        schools=schools,
        programs=programs_frame,
        graduates=graduates,
        vacancies=vacancies,
        interactions=interactions,
    )
