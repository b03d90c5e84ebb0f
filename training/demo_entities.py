"""Sampling the demo world's entities: enterprises, programmes, graduates and vacancies (all numpy).

Times are float days since the start of the simulated year (``as_of - 365 days``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.columns import EDUCATION_LEVELS, EDUCATION_RANK, SEGMENTS
from training.demo_catalog import (
    BRAND_FIRST,
    BRAND_SECOND,
    DISTRICT_FIRM_WEIGHTS,
    DISTRICTS,
    ORDER_CLASS_SCHOOL_KINDS,
    SCHOOLS,
    SEGMENT_APPEAL,
    SEGMENT_NAME_SUFFIXES,
    SEGMENT_WEIGHTS,
    SKILLS,
    SPONSOR_SEGMENT_WEIGHTS,
    TEMPLATES,
    TRACKS,
)

SKILL_IDS = np.array([s[0] for s in SKILLS])
SKILL_ROW = {s[0]: i for i, s in enumerate(SKILLS)}
SKILL_CATEGORY = np.array([s[3] for s in SKILLS])
N_SKILLS = len(SKILLS)
N_WORDS = 2  # skill bit masks: two uint64 words (up to 128 skills)
SEGMENT_ROW = {s: i for i, s in enumerate(SEGMENTS)}
TEMPLATE_SEGMENT = np.array([SEGMENT_ROW[t.segment] for t in TEMPLATES])
TRACK_BY_KEY = {t.key: t for t in TRACKS}
_BITS = np.left_shift(np.uint64(1), np.arange(64, dtype=np.uint64))

assert N_SKILLS <= 64 * N_WORDS


@dataclass(frozen=True)
class ScaleSpec:
    enterprises: int
    vacancies: int
    graduates: int  # target; small uses its fixed programme list instead
    views_per_year: float  # vacancy views per actively searching graduate-year


SCALES: dict[str, ScaleSpec] = {
    "small": ScaleSpec(enterprises=100, vacancies=300, graduates=1500, views_per_year=50.0),
    "medium": ScaleSpec(enterprises=600, vacancies=3000, graduates=20000, views_per_year=50.0),
    "large": ScaleSpec(enterprises=3000, vacancies=20000, graduates=200000, views_per_year=50.0),
}


def skill_masks(matrix: np.ndarray) -> np.ndarray:
    """Rows of a boolean (n, N_SKILLS) matrix as (n, 2) uint64 bit masks."""
    padded = np.zeros((matrix.shape[0], 64 * N_WORDS), dtype=bool)
    padded[:, : matrix.shape[1]] = matrix
    out = np.empty((matrix.shape[0], N_WORDS), dtype=np.uint64)
    for w in range(N_WORDS):
        out[:, w] = np.bitwise_or.reduce(
            np.where(padded[:, 64 * w : 64 * (w + 1)], _BITS, np.uint64(0)), axis=1
        )
    return out


def gumbel_top(rng: np.random.Generator, log_weights: np.ndarray, n_rows: int) -> np.ndarray:
    """Per row, the column order of a weighted sample without replacement (Gumbel top-k)."""
    keys = log_weights[None, :] + rng.gumbel(size=(n_rows, len(log_weights)))
    return np.argsort(-keys, axis=1, kind="stable")


def _choice_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probs`` (rows sum to 1)."""
    cdf = np.cumsum(probs, axis=1)
    u = rng.random((probs.shape[0], 1)) * cdf[:, -1:]
    return np.minimum((cdf < u).sum(axis=1), probs.shape[1] - 1)


# ---- enterprises --------------------------------------------------------------------------------
@dataclass
class Enterprises:
    ids: np.ndarray
    names: np.ndarray
    segment: np.ndarray
    district: np.ndarray
    size: np.ndarray
    appeal: np.ndarray
    template_probs: np.ndarray  # (n, n_templates): what each firm tends to post


def sample_enterprises(rng: np.random.Generator, n: int) -> Enterprises:
    seg_p = np.array([SEGMENT_WEIGHTS[s] for s in SEGMENTS])
    # Largest remainder so every segment is present even at small scale.
    counts = np.floor(seg_p * n).astype(int)
    counts[np.argsort(-(seg_p * n - counts), kind="stable")[: n - counts.sum()]] += 1
    segment = rng.permutation(np.repeat(np.arange(len(SEGMENTS)), counts))
    district = rng.choice(len(DISTRICTS), size=n, p=np.array(DISTRICT_FIRM_WEIGHTS))
    log_size = rng.normal(0.0, 0.8, size=n)
    size = np.exp(log_size)
    appeal_raw = (
        np.array([SEGMENT_APPEAL[SEGMENTS[s]] for s in segment])
        + 0.4 * log_size
        + rng.normal(0.0, 0.8, size=n)
    )
    appeal = (appeal_raw - appeal_raw.mean()) / appeal_raw.std()
    names = _enterprise_names(rng, segment)
    weights = np.array([t.weight for t in TEMPLATES])
    focus = rng.dirichlet(np.ones(len(TEMPLATES)) * 1.2, size=n)
    allowed = TEMPLATE_SEGMENT[None, :] == segment[:, None]
    probs = np.where(allowed, weights[None, :] * (0.3 + focus), 0.0)
    probs /= probs.sum(axis=1, keepdims=True)
    ids = np.array([f"E{i + 1:04d}" for i in range(n)])
    return Enterprises(ids, names, segment, district, size, appeal, probs)


def _enterprise_names(rng: np.random.Generator, segment: np.ndarray) -> np.ndarray:
    brands = np.array([a + b for a in BRAND_FIRST for b in BRAND_SECOND if a != b])
    names = np.empty(len(segment), dtype=object)
    used: set[str] = set()
    order = rng.permutation(len(brands))
    suffix_pick = rng.integers(0, 4, size=len(segment))
    prefix_pick = rng.random(len(segment))
    k = 0
    for i, s in enumerate(segment):
        while True:
            brand = brands[order[k % len(brands)]]
            k += 1
            prefix = "绍兴" if prefix_pick[i] < 0.45 else "浙江"
            if k > len(brands):
                prefix = "绍兴" + DISTRICTS[k % len(DISTRICTS)][:2]
            name = f"{prefix}{brand}{SEGMENT_NAME_SUFFIXES[SEGMENTS[s]][suffix_pick[i]]}"
            if name not in used:
                used.add(name)
                names[i] = name
                break
    return names


# ---- programmes ---------------------------------------------------------------------------------
@dataclass
class ProgramSpec:
    school: int
    name: str
    kind: str  # order_class | training | degree
    sponsor: int  # enterprise row or -1
    cohort_year: int
    curriculum: list[str]
    education: dict[str, float]
    major: str
    size: int
    available_day: float | None  # training: the course's end (sim days); None = cohort's 1 July


def order_class_curriculum(rng: np.random.Generator, segment: int) -> list[str]:
    """The sponsor's jobs decide what an order-based class teaches."""
    weights = np.zeros(N_SKILLS)
    for t in TEMPLATES:
        if SEGMENT_ROW[t.segment] != segment:
            continue
        edu = sum(
            p for level, p in t.education.items() if EDUCATION_RANK[level] <= EDUCATION_RANK["associate"]
        )
        for pos, skill in enumerate(t.required_pool):
            weights[SKILL_ROW[skill]] += t.weight * (0.2 + edu) / (1.0 + 0.3 * pos)
        for skill in t.preferred_pool:
            weights[SKILL_ROW[skill]] += 0.3 * t.weight * (0.2 + edu)
    for general in ("safety", "english"):
        weights[SKILL_ROW[general]] += weights.max() * 0.3
    candidates = np.flatnonzero(weights > 0)
    k = min(len(candidates), int(rng.integers(9, 13)))
    order = gumbel_top(rng, np.log(weights[candidates]), 1)[0]
    return [str(SKILL_IDS[i]) for i in candidates[order[:k]]]


def _pick_sponsor(rng: np.random.Generator, ent: Enterprises, segment: str | None = None) -> int:
    seg_w = np.array([SPONSOR_SEGMENT_WEIGHTS.get(SEGMENTS[s], 0.0) for s in ent.segment])
    if segment is not None:
        seg_w = (ent.segment == SEGMENT_ROW[segment]).astype(float)
    w = seg_w * ent.size * np.exp(0.5 * ent.appeal)
    return int(rng.choice(len(w), p=w / w.sum()))


def _school_rows(kind: str) -> list[int]:
    return [i for i, s in enumerate(SCHOOLS) if s.kind == kind]


def _track_program(
    rng: np.random.Generator, track_key: str, school: int, cohort: int, size: int | None, sim_days: float
) -> ProgramSpec:
    track = TRACK_BY_KEY[track_key]
    n = int(size if size is not None else rng.integers(track.size[0], track.size[1] + 1))
    available_day = None
    name = f"{track.name}（{cohort}届）"
    if track.kind == "training":
        available_day = float(rng.uniform(20.0, sim_days + 45.0))
        name = f"{track.name}（{cohort}年）"
    return ProgramSpec(
        school,
        name,
        track.kind,
        -1,
        cohort,
        list(track.curriculum),
        dict(track.education),
        track.major,
        n,
        available_day,
    )


def _order_class(
    rng: np.random.Generator, ent: Enterprises, sponsor: int, school: int, cohort: int, size: int | None
) -> ProgramSpec:
    kind = SCHOOLS[school].kind
    education, major = ORDER_CLASS_SCHOOL_KINDS[kind]
    brand = str(ent.names[sponsor]).removeprefix("绍兴").removeprefix("浙江")[:2]
    n = int(size if size is not None else rng.integers(32, 56))
    return ProgramSpec(
        school,
        f"{brand}订单班（{cohort}届）",
        "order_class",
        sponsor,
        cohort,
        order_class_curriculum(rng, int(ent.segment[sponsor])),
        {education: 1.0},
        major,
        n,
        None,
    )


def sample_programs(
    rng: np.random.Generator, scale: str, ent: Enterprises, as_of_year: int, sim_days: float
) -> list[ProgramSpec]:
    """small: a fixed, hand-shaped list; medium/large: programmes drawn until the graduate target."""
    school = {s.name: i for i, s in enumerate(SCHOOLS)}
    cur, nxt = as_of_year, as_of_year + 1
    if scale == "small":
        return [
            _order_class(rng, ent, _pick_sponsor(rng, ent, "packaging"), school["绍兴职业技术学院"], cur, 44),
            _order_class(
                rng, ent, _pick_sponsor(rng, ent, "testing"), school["浙江工业职业技术学院"], cur, 42
            ),
            _order_class(rng, ent, _pick_sponsor(rng, ent, "foundry"), school["绍兴市中等专业学校"], nxt, 45),
            _track_program(
                rng, "advanced_engineer", school["绍兴集成电路产业人才培训中心"], cur, 57, sim_days
            ),
            _track_program(
                rng, "wire_bonding_course", school["滨海新区集成电路技能实训基地"], cur, None, sim_days
            ),
            _track_program(
                rng, "equipment_course", school["滨海新区集成电路技能实训基地"], cur, None, sim_days
            ),
            _track_program(rng, "microelectronics_bsc", school["绍兴文理学院"], cur, 160, sim_days),
            _track_program(rng, "ic_design_bsc", school["浙江工业大学之江学院"], cur, 110, sim_days),
            _track_program(rng, "microelectronics_3p4", school["绍兴市中等专业学校"], nxt, 60, sim_days),
            _track_program(rng, "microelectronics_assoc", school["绍兴职业技术学院"], cur, 260, sim_days),
            _track_program(rng, "ic_tech_assoc", school["浙江工业职业技术学院"], nxt, 220, sim_days),
            _track_program(rng, "mechatronics_assoc", school["浙江邮电职业技术学院"], cur, 150, sim_days),
            _track_program(rng, "semifab_sec", school["绍兴市柯桥区职业教育中心"], cur, 140, sim_days),
        ]
    spec = SCALES[scale]
    programs: list[ProgramSpec] = []
    total = 0
    degree_tracks = [t for t in TRACKS if t.kind == "degree"]
    training_tracks = [t for t in TRACKS if t.kind == "training"]
    order_schools = _school_rows("vocational_college") + _school_rows("vocational_school")
    while total < spec.graduates:
        u = rng.random()
        cohort = cur if rng.random() < 0.6 else nxt
        if u < 0.2:
            prog = _order_class(
                rng, ent, _pick_sponsor(rng, ent), int(rng.choice(order_schools)), cohort, None
            )
        elif u < 0.27:
            track = training_tracks[int(rng.integers(len(training_tracks)))]
            prog = _track_program(
                rng, track.key, int(rng.choice(_school_rows("training_center"))), cur, None, sim_days
            )
        else:
            track = degree_tracks[int(rng.integers(len(degree_tracks)))]
            rows = [r for k in track.school_kinds for r in _school_rows(k)]
            prog = _track_program(rng, track.key, int(rng.choice(rows)), cohort, None, sim_days)
        programs.append(prog)
        total += prog.size
    return _number_classes(programs)


def _number_classes(programs: list[ProgramSpec]) -> list[ProgramSpec]:
    """Parallel classes of one track, school and cohort get numbers: ``…（2026届）2班``, ``…第2期``."""
    seen: dict[tuple[int, str], int] = {}
    for p in programs:
        key = (p.school, p.name)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            p.name = f"{p.name}第{seen[key]}期" if p.kind == "training" else f"{p.name}{seen[key]}班"
    return programs


def program_segment_profile(curriculum: list[str]) -> np.ndarray:
    """Share of the curriculum's weight that points at each segment's jobs."""
    skill_seg = np.zeros((N_SKILLS, len(SEGMENTS)))
    for t in TEMPLATES:
        for pos, s in enumerate(t.required_pool):
            skill_seg[SKILL_ROW[s], SEGMENT_ROW[t.segment]] += t.weight / (1.0 + 0.3 * pos)
    rows = skill_seg[[SKILL_ROW[s] for s in curriculum]]
    rows = rows / np.maximum(rows.sum(axis=1, keepdims=True), 1e-9)
    profile = rows.sum(axis=0) + 1e-3
    return profile / profile.sum()


# ---- graduates ----------------------------------------------------------------------------------
@dataclass
class Graduates:
    program: np.ndarray
    education: np.ndarray
    skills: np.ndarray  # bool (n, N_SKILLS)
    districts: np.ndarray  # uint8 bit mask
    district_order: list[list[int]]
    available_day: np.ndarray  # sim days
    search_start: np.ndarray  # sim days
    activity: np.ndarray


def sample_graduates(
    rng: np.random.Generator, programs: list[ProgramSpec], july_first: dict[int, float]
) -> Graduates:
    n = sum(p.size for p in programs)
    program = np.repeat(np.arange(len(programs)), [p.size for p in programs])
    education = np.empty(n, dtype=np.int8)
    skills = np.zeros((n, N_SKILLS), dtype=bool)
    available = np.empty(n)
    search_start = np.empty(n)
    general = SKILL_CATEGORY == "general"
    start = 0
    for p in programs:
        rows = slice(start, start + p.size)
        levels = list(p.education)
        probs = np.array([p.education[k] for k in levels])
        education[rows] = [EDUCATION_RANK[levels[i]] for i in rng.choice(len(levels), size=p.size, p=probs)]
        cur = np.array([SKILL_ROW[s] for s in p.curriculum])
        related = np.isin(SKILL_CATEGORY, np.unique(SKILL_CATEGORY[cur]))
        prob = np.where(related, 0.05, 0.008)
        prob[general] = 0.10
        base_keep = {"order_class": 0.85, "training": 0.88, "degree": 0.72}[p.kind]
        diligence = rng.uniform(0.7, 1.15, size=(p.size, 1))
        matrix = np.broadcast_to(prob, (p.size, N_SKILLS)).copy()
        matrix[:, cur] = np.clip(base_keep * diligence, 0.05, 0.97)
        if p.kind == "training":  # trainees bring skills from earlier study and work
            matrix += 0.04
        drawn = rng.random((p.size, N_SKILLS)) < matrix
        # Everybody holds at least two curriculum skills.
        top2 = cur[gumbel_top(rng, np.zeros(len(cur)), p.size)[:, :2]]
        drawn[np.arange(p.size)[:, None], top2] = True
        skills[rows] = drawn
        if p.available_day is None:
            available[rows] = july_first[p.cohort_year]
            search_start[rows] = july_first[p.cohort_year] - rng.uniform(60.0, 300.0, size=p.size)
        else:
            available[rows] = p.available_day
            search_start[rows] = p.available_day - rng.uniform(0.0, 30.0, size=p.size)
        start += p.size
    school_district = np.array([DISTRICTS.index(SCHOOLS[p.school].district) for p in programs])[program]
    logits = np.log(np.array(DISTRICT_FIRM_WEIGHTS))[None, :] + np.zeros((n, len(DISTRICTS)))
    logits[np.arange(n), school_district] += 1.6
    order = np.argsort(-(logits + rng.gumbel(size=logits.shape)), axis=1, kind="stable")
    k = rng.choice([1, 2, 3], size=n, p=[0.35, 0.4, 0.25])
    district_order = [row[:kk].tolist() for row, kk in zip(order, k, strict=True)]
    masks = np.zeros(n, dtype=np.uint8)
    for j in range(3):
        has = k > j
        masks[has] |= (np.uint8(1) << order[has, j].astype(np.uint8)).astype(np.uint8)
    activity = rng.gamma(2.0, 0.5, size=n)
    return Graduates(program, education, skills, masks, district_order, available, search_start, activity)


# ---- vacancies ----------------------------------------------------------------------------------
@dataclass
class Vacancies:
    enterprise: np.ndarray
    template: np.ndarray
    required: list[np.ndarray]  # skill rows, in the order the posting lists them
    preferred: list[np.ndarray]
    min_education: np.ndarray
    headcount: np.ndarray
    salary_min: np.ndarray
    salary_max: np.ndarray
    posted: np.ndarray
    closes: np.ndarray


def sample_vacancies(rng: np.random.Generator, n: int, ent: Enterprises, sim_days: float) -> Vacancies:
    firm_w = ent.size * np.exp(0.3 * ent.appeal)
    enterprise = rng.choice(len(firm_w), size=n, p=firm_w / firm_w.sum())
    template = _choice_rows(rng, ent.template_probs[enterprise])
    required: list[np.ndarray] = [np.empty(0, dtype=np.int64)] * n
    preferred: list[np.ndarray] = [np.empty(0, dtype=np.int64)] * n
    min_education = np.empty(n, dtype=np.int8)
    headcount = np.empty(n, dtype=np.int64)
    sal_lo = np.empty(n)
    lifetime = np.empty(n)
    for t_row, t in enumerate(TEMPLATES):
        rows = np.flatnonzero(template == t_row)
        if not len(rows):
            continue
        req_pool = np.array([SKILL_ROW[s] for s in t.required_pool])
        pref_pool = np.array([SKILL_ROW[s] for s in t.preferred_pool if s not in t.required_pool])
        req_logw = -np.log1p(0.3 * np.arange(len(req_pool)))
        if t.core is not None:  # the skill the title names is always asked for
            req_logw[list(t.required_pool).index(t.core)] = 50.0
        req_order = gumbel_top(rng, req_logw, len(rows))
        k_req = np.minimum(
            rng.choice([2, 3, 4, 5], size=len(rows), p=[0.25, 0.35, 0.25, 0.15]), len(req_pool)
        )
        pref_order = gumbel_top(rng, np.zeros(len(pref_pool)), len(rows)) if len(pref_pool) else None
        k_pref = np.minimum(
            rng.choice([0, 1, 2, 3], size=len(rows), p=[0.2, 0.35, 0.3, 0.15]), len(pref_pool)
        )
        for j, r in enumerate(rows):
            required[r] = req_pool[req_order[j, : k_req[j]]]
            preferred[r] = pref_pool[pref_order[j, : k_pref[j]]] if pref_order is not None else pref_pool[:0]
        levels = list(t.education)
        probs = np.array([t.education[k] for k in levels])
        min_education[rows] = [
            EDUCATION_RANK[levels[i]] for i in rng.choice(len(levels), size=len(rows), p=probs)
        ]
        headcount[rows] = rng.integers(t.headcount[0], t.headcount[1] + 1, size=len(rows))
        sal_lo[rows] = rng.uniform(t.salary[0], t.salary[1], size=len(rows))
        lifetime[rows] = rng.uniform(t.lifetime_days[0], t.lifetime_days[1], size=len(rows))
    # Better-educated minimums and more attractive firms pay more.
    sal_lo *= 1.0 + 0.06 * ent.appeal[enterprise] + 0.05 * (min_education - EDUCATION_RANK["associate"])
    salary_min = np.round(sal_lo / 500.0) * 500.0
    salary_max = salary_min + np.round(salary_min * rng.uniform(0.2, 0.6, size=n) / 500.0) * 500.0
    missing = rng.random(n) < 0.08  # "薪资面议"
    salary_min[missing] = np.nan
    salary_max[missing] = np.nan
    # More postings lately (a growing cluster); some were posted before the simulated year.
    posted = -60.0 + (sim_days - 3.0 + 60.0) * rng.random(n) ** 0.8
    closes = posted + lifetime
    order = np.argsort(posted, kind="stable")  # vacancy ids follow posting order, as a real system's would
    return Vacancies(
        enterprise[order],
        template[order],
        [required[i] for i in order],
        [preferred[i] for i in order],
        min_education[order],
        headcount[order],
        salary_min[order],
        salary_max[order],
        posted[order],
        closes[order],
    )


def rows_to_mask(lists: list[np.ndarray]) -> np.ndarray:
    matrix = np.zeros((len(lists), N_SKILLS), dtype=bool)
    lengths = np.array([len(x) for x in lists])
    if lengths.sum():
        matrix[np.repeat(np.arange(len(lists)), lengths), np.concatenate(lists)] = True
    return skill_masks(matrix)


def education_name(rank: int) -> str:
    return EDUCATION_LEVELS[int(rank)]
