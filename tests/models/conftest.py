"""A small seeded market with a learnable preference (skills, sponsor, district) and one trained matcher.

The trained matcher is session-scoped: fitting it once keeps the model tests fast.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.columns import Columns as C
from models.data import MarketData
from models.matcher import Matcher, MatcherConfig

SKILLS = [f"SK{i:02d}" for i in range(24)]
DISTRICTS = ["越城区", "柯桥区", "上虞区", "滨海新区"]
SEGMENTS = ["foundry", "packaging", "testing", "design"]


def small_market(seed: int = 3, n_graduates: int = 240, n_vacancies: int = 60) -> MarketData:
    """Graduates apply mostly to vacancies whose required skills they hold, in districts they prefer,
    and to their order class's sponsor."""
    rng = np.random.default_rng(seed)
    skills = pd.DataFrame(
        {C.skill: SKILLS, C.name_zh: SKILLS, C.name_en: SKILLS, C.category: "process", C.aliases: [[]] * 24}
    )
    enterprises = pd.DataFrame(
        {
            C.enterprise: [f"E{i}" for i in range(8)],
            C.name: [f"企业{i}" for i in range(8)],
            C.segment: [SEGMENTS[i % 4] for i in range(8)],
            C.district: [DISTRICTS[i % 4] for i in range(8)],
        }
    )
    schools = pd.DataFrame(
        {
            C.school: ["S0", "S1"],
            C.name: ["学校0", "学校1"],
            C.kind: ["vocational_college", "university"],
            C.district: ["柯桥区", "越城区"],
        }
    )
    programs = pd.DataFrame(
        {
            C.program: ["P0", "P1", "P2", "P3"],
            C.school: ["S0", "S0", "S1", "S1"],
            C.name: ["订单班0", "研修班", "微电子", "订单班1"],
            C.kind: ["order_class", "training", "degree", "order_class"],
            C.sponsor: ["E0", None, None, "E5"],
            C.cohort_year: [2026] * 4,
            C.skills: [SKILLS[0:6], SKILLS[6:12], SKILLS[12:18], SKILLS[18:24]],
        }
    )
    prog = rng.integers(0, 4, n_graduates)
    graduates = pd.DataFrame(
        {
            C.graduate: [f"G{i:04d}" for i in range(n_graduates)],
            C.program: [f"P{p}" for p in prog],
            C.education: rng.choice(["associate", "bachelor"], n_graduates).tolist(),
            C.major: ["微电子"] * n_graduates,
            C.skills: [
                sorted(
                    set(rng.choice(SKILLS[6 * p : 6 * p + 6], 3, replace=False).tolist())
                    | {SKILLS[rng.integers(24)]}
                )
                for p in prog
            ],
            C.preferred_districts: [[DISTRICTS[rng.integers(4)]] for _ in range(n_graduates)],
            C.available_from: pd.Timestamp("2026-01-01"),
            C.status: "seeking",
        }
    )
    start = pd.Timestamp("2026-01-01")
    ent = rng.integers(0, 8, n_vacancies)
    block = rng.integers(0, 4, n_vacancies)
    vacancies = pd.DataFrame(
        {
            C.vacancy: [f"V{i:03d}" for i in range(n_vacancies)],
            C.enterprise: [f"E{e}" for e in ent],
            C.title: "工程师",
            C.role: rng.choice(["technician", "engineer"], n_vacancies).tolist(),
            C.required_skills: [
                sorted(rng.choice(SKILLS[6 * b : 6 * b + 5], 2, replace=False).tolist()) for b in block
            ],
            C.preferred_skills: [[SKILLS[6 * b + 5]] for b in block],
            C.min_education: "associate",
            C.district: [DISTRICTS[e % 4] for e in ent],
            C.headcount: 3,
            C.salary_min: 6000.0,
            C.salary_max: 9000.0,
            C.posted_at: [
                start + pd.Timedelta(days=int(d)) for d in np.sort(rng.integers(0, 120, n_vacancies))
            ],
            C.closes_at: pd.NaT,
            C.status: "open",
            C.description: "",
        }
    )
    g_skills = np.zeros((n_graduates, 24))
    for i, s in enumerate(graduates[C.skills]):
        g_skills[i, [SKILLS.index(x) for x in s]] = 1
    rows = []
    for _, vac in vacancies.iterrows():
        req = [SKILLS.index(x) for x in vac[C.required_skills]]
        coverage = g_skills[:, req].mean(axis=1)
        sponsor = (
            programs.set_index(C.program).loc[graduates[C.program], C.sponsor].to_numpy() == vac[C.enterprise]
        )
        district = np.array([vac[C.district] in d for d in graduates[C.preferred_districts]])
        utility = 3.0 * coverage + 1.5 * sponsor + 0.8 * district + rng.normal(0, 0.5, n_graduates)
        viewers = rng.choice(n_graduates, 40, replace=False)
        for g in viewers:
            at = vac[C.posted_at] + pd.Timedelta(hours=int(rng.integers(1, 400)))
            rows.append((graduates[C.graduate][g], vac[C.vacancy], "viewed", at))
            if utility[g] > 2.6:
                rows.append((graduates[C.graduate][g], vac[C.vacancy], "applied", at + pd.Timedelta(hours=1)))
                if utility[g] > 3.6:
                    rows.append(
                        (graduates[C.graduate][g], vac[C.vacancy], "shortlisted", at + pd.Timedelta(days=2))
                    )
    interactions = pd.DataFrame(rows, columns=[C.graduate, C.vacancy, C.event, C.occurred_at])
    return MarketData(
        skills=skills,
        enterprises=enterprises,
        schools=schools,
        programs=programs,
        graduates=graduates,
        vacancies=vacancies,
        interactions=interactions.sort_values(C.occurred_at, kind="mergesort").reset_index(drop=True),
    )


FAST = MatcherConfig(
    no_components=8, epochs=5, num_threads=1, candidates=("compact",), retrieval_pool=50, seed=11
)


@pytest.fixture(scope="session")
def market() -> MarketData:
    return small_market()


@pytest.fixture(scope="session")
def trained(market: MarketData) -> Matcher:
    return Matcher(FAST).fit(market)
