"""Placement plan benchmark: speed at cohort scale, and the plan's quality against independent top-1.

``python -m benchmarks.placement_bench`` times :func:`models.placement.plan_placement` on synthetic
cohorts with popularity-skewed scores (a few vacancies everyone likes, as in the real market), compares the
top-k plan with an exact solve over every pair, and writes ``benchmarks/results/placement.json``.

``--demo medium`` adds the demo-world study (see :func:`demo_world_study`): every programme's seeking cohort
is planned with the trained matcher's scores, and the plan's TRUE utility (from the generator's ground truth)
is set next to the optimum under the true utilities and next to independent top-1.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from benchmarks.common import RESULTS_DIR, percentiles, print_table, write_result
from models.placement import independent_top1, plan_placement


def synthetic_cohort(
    n_graduates: int, n_vacancies: int, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, list[str | None], list[str]]:
    """Scores mixing a per-vacancy popularity with personal fit; headcounts 1..4; one sponsor class."""
    rng = np.random.default_rng(seed)
    popularity = rng.gamma(0.5, 1.0, n_vacancies)
    fit = rng.beta(2.0, 3.0, (n_graduates, n_vacancies))
    scores = np.clip(0.6 * fit + 0.4 * popularity / popularity.max(), 0.0, 1.0)
    capacities = rng.integers(1, 5, n_vacancies)
    enterprises = [f"E{int(e)}" for e in rng.integers(0, n_vacancies // 10 + 1, n_vacancies)]
    sponsors: list[str | None] = [("E0" if g % 5 == 0 else None) for g in range(n_graduates)]
    return scores, capacities, sponsors, enterprises


def exact_total(scores: np.ndarray, capacities: np.ndarray, min_score: float) -> float:
    """Best total score over every pair (no top-k), by ``linear_sum_assignment`` over expanded seats."""
    n_graduates = scores.shape[0]
    seats = np.minimum(capacities, n_graduates)
    seat_vacancy = np.repeat(np.arange(len(capacities)), seats)
    gain = scores[:, seat_vacancy]
    gain = np.where(gain >= min_score, gain, 0.0)
    gain = np.hstack([gain, np.zeros((n_graduates, n_graduates))])  # staying unassigned gains 0
    rows, cols = linear_sum_assignment(gain, maximize=True)
    return float(gain[rows, cols].sum())


SIZES = ((100, 1000), (500, 5000), (1000, 5000))


def synthetic_rows(
    *,
    repeat: int,
    min_score: float,
    top_k: int,
    sizes: Sequence[tuple[int, int]] = SIZES,
    exact_up_to: int = 500,
) -> list[dict[str, Any]]:
    rows = []
    for n_graduates, n_vacancies in sizes:
        scores, caps, sponsors, enterprises = synthetic_cohort(n_graduates, n_vacancies)
        samples, plan = [], None
        for _ in range(repeat):
            start = time.perf_counter()
            plan = plan_placement(
                scores,
                caps,
                min_score=min_score,
                top_k=top_k,
                graduate_sponsors=sponsors,
                vacancy_enterprises=enterprises,
                sponsor_rule="none",
            )
            samples.append((time.perf_counter() - start) * 1000)
        assert plan is not None
        start = time.perf_counter()
        best = exact_total(scores, caps, min_score) if n_graduates <= exact_up_to else float("nan")
        exact_ms = (time.perf_counter() - start) * 1000
        sponsored = plan_placement(
            scores,
            caps,
            min_score=min_score,
            top_k=top_k,
            graduate_sponsors=sponsors,
            vacancy_enterprises=enterprises,
        )
        top1 = independent_top1(scores, caps, min_score=min_score)
        timing = percentiles(samples)
        congestion = plan.metrics.congestion_vs_top1
        rows.append(
            {
                "graduates": n_graduates,
                "vacancies": n_vacancies,
                "p50_ms": timing["p50_ms"],
                "max_ms": round(max(samples), 3),
                "plan_total": round(plan.metrics.total_score, 3),
                "exact_total": round(best, 3),
                "exact_ms": round(exact_ms, 1) if np.isfinite(best) else None,
                "top1_total": round(top1.feasible_total_score, 3),
                "coverage": round(plan.metrics.coverage, 3),
                "top1_coverage": round(congestion["top1_feasible_coverage"], 3),
                "top1_max_per_vac": congestion["top1_max_per_vacancy"],
                "plan_max_per_vac": congestion["plan_max_per_vacancy"],
                "sponsor_seats": (
                    f"{plan.metrics.sponsor_seats_filled}->{sponsored.metrics.sponsor_seats_filled}"
                ),
            }
        )
    return rows


def _true_total(truth: Any, pairs: list[tuple[str, str]]) -> float:
    if not pairs:
        return 0.0
    return float(np.sum(truth.utility([g for g, _ in pairs], [v for _, v in pairs])))


def demo_world_study(
    *,
    scale: str,
    seed: int,
    min_scores: Sequence[float],
    top_k: int,
    model_dir: Path | None = None,
    max_programs: int | None = None,
) -> dict[str, Any]:
    """Plan every programme's seeking cohort on the demo world and score the plans with the TRUE utility.

    Each programme is planned on its own against every open vacancy's remaining headcount, as the
    ``/programs/{id}/placements`` route does. Methods compared (totals summed over the programmes):

    * ``optimum (true utility)``: the exact assignment maximising the true utility (positive pairs only);
    * ``plan, sponsor first`` / ``plan, no sponsor rule``: :func:`plan_placement` on the matcher's scores;
    * ``independent top-1 (model)``: every graduate takes their own best vacancy by the matcher's score;
      each vacancy then hires its best choosers up to its headcount (the rest get nothing);
    * ``independent top-1 (true utility)``: the same with the graduates' true utilities (an oracle).
    """
    from models.columns import EDUCATION_RANK
    from models.columns import Columns as C
    from models.matcher import Matcher
    from service.schools import cohort_scores, program_sponsor_of
    from training.demo import DEFAULT_AS_OF, generate

    started = time.perf_counter()
    world = generate(scale, seed)
    data, truth, as_of = world.data, world.truth, DEFAULT_AS_OF
    timings = {"generate_s": round(time.perf_counter() - started, 1)}
    started = time.perf_counter()
    if model_dir is not None and any(Path(model_dir).glob("*.joblib")):
        matcher = Matcher.load(model_dir)
        timings["load_model_s"] = round(time.perf_counter() - started, 1)
    else:
        matcher = Matcher().fit(data)
        timings["train_s"] = round(time.perf_counter() - started, 1)
        if model_dir is not None:
            matcher.save(model_dir)
    seeking = data.graduates[data.graduates[C.status] == "seeking"]
    pool = type(data)(**{**data.frames(), "graduates": seeking})
    started = time.perf_counter()
    index = matcher.index(pool)
    timings["index_s"] = round(time.perf_counter() - started, 1)

    vacancies = data.vacancies
    closes = pd.to_datetime(vacancies[C.closes_at])
    open_vacancies = vacancies[(vacancies[C.status] == "open") & (closes.isna() | (closes >= as_of))]
    hired = data.interactions[data.interactions[C.event] == "hired"].groupby(C.vacancy)[C.graduate].nunique()
    remaining = {
        v: max(0, int(h) - int(hired.get(v, 0)))
        for v, h in zip(open_vacancies[C.vacancy], open_vacancies[C.headcount], strict=True)
    }
    open_ids = list(remaining)
    open_caps = np.array([remaining[v] for v in open_ids])
    open_enterprise = dict(zip(open_vacancies[C.vacancy], open_vacancies[C.enterprise], strict=True))
    open_min_edu = dict(zip(open_vacancies[C.vacancy], open_vacancies[C.min_education], strict=True))

    # Sponsored programmes (order classes, trainings) first, then degree tracks; by id within each.
    sponsored_first = data.programs[C.kind].map({"order_class": 0, "training": 1}).fillna(2)
    programs = data.programs.assign(_order=sponsored_first).sort_values(["_order", C.program], kind="stable")
    if max_programs is not None:
        programs = programs.head(max_programs)
    methods = ["optimum (true utility)", "independent top-1 (true utility)"]
    for m in min_scores:
        methods += [
            f"plan, sponsor first, min_score={m:g}",
            f"plan, no sponsor rule, min_score={m:g}",
            f"independent top-1 (model), min_score={m:g}",
        ]
    totals = {
        m: {"assigned": 0, "true_utility": 0.0, "max_per_vacancy": 0, "sponsor_seats": 0} for m in methods
    }
    n_graduates, plan_ms, score_ms, crowd = 0, 0.0, 0.0, 0
    joint_pieces: list[tuple[Any, np.ndarray, list[str], list[str], str | None]] = []
    top_scores: list[float] = []
    for program in programs.itertuples(index=False):
        cohort = seeking[seeking[C.program] == getattr(program, C.program)]
        if cohort.empty:
            continue
        n_graduates += len(cohort)
        sponsor = program_sponsor_of(getattr(program, C.kind), getattr(program, C.sponsor))
        started = time.perf_counter()
        scored = cohort_scores(
            matcher=matcher,
            index=index,
            graduates=list(zip(cohort[C.graduate], cohort[C.education], strict=True)),
            open_vacancies=open_vacancies,
            sponsors=[sponsor] * len(cohort),
            as_of=as_of,
            top_k=top_k,
        )
        score_ms += (time.perf_counter() - started) * 1000
        g_ids, v_ids = scored.graduate_ids, scored.vacancy_ids
        caps = np.array([remaining.get(v, 0) for v in v_ids])
        top_scores.extend(
            float(scored.matrix[[g]].max()) for g in range(len(g_ids)) if scored.matrix[[g]].nnz
        )
        results: dict[str, list[tuple[str, str]]] = {}
        for m in min_scores:
            common: dict[str, Any] = dict(
                min_score=m,
                top_k=top_k,
                graduate_sponsors=[sponsor] * len(g_ids),
                vacancy_enterprises=[open_enterprise.get(v, "") for v in v_ids],
                graduate_education=list(cohort[C.education]),
                vacancy_min_education=[open_min_edu.get(v, "secondary") for v in v_ids],
            )
            started = time.perf_counter()
            plan = plan_placement(scored.matrix, caps, sponsor_rule="lexicographic", **common)
            plan_ms += (time.perf_counter() - started) * 1000
            results[f"plan, sponsor first, min_score={m:g}"] = [
                (g_ids[a.graduate], v_ids[a.vacancy]) for a in plan.assignments
            ]
            plain = plan_placement(scored.matrix, caps, sponsor_rule="none", **common)
            results[f"plan, no sponsor rule, min_score={m:g}"] = [
                (g_ids[a.graduate], v_ids[a.vacancy]) for a in plain.assignments
            ]
            top1 = independent_top1(scored.matrix, caps, min_score=m)
            results[f"independent top-1 (model), min_score={m:g}"] = [
                (g_ids[g], v_ids[top1.choice[g]]) for g in np.flatnonzero(top1.feasible)
            ]
            # Independent top-1 before the vacancies turn anyone away: how crowded the choices are.
            chosen = top1.choice[top1.choice >= 0]
            crowd = max(crowd, int(np.bincount(chosen).max()) if chosen.size else 0)

        grid_g = np.repeat(cohort[C.graduate].to_numpy(), len(open_ids))
        grid_v = np.tile(np.array(open_ids, dtype=object), len(cohort))
        utility = truth.utility(grid_g, grid_v).reshape(len(cohort), len(open_ids))
        graduate_rank = np.array([EDUCATION_RANK[e] for e in cohort[C.education]])
        vacancy_rank = np.array([EDUCATION_RANK.get(open_min_edu[v], 0) for v in open_ids])
        utility[graduate_rank[:, None] < vacancy_rank[None, :]] = np.nan
        best = plan_placement(utility, open_caps, min_score=0.0, top_k=50, sponsor_rule="none")
        cohort_ids = list(cohort[C.graduate])
        joint_pieces.append((scored, utility, cohort_ids, list(cohort[C.education]), sponsor))
        results["optimum (true utility)"] = [
            (cohort_ids[a.graduate], open_ids[a.vacancy]) for a in best.assignments
        ]
        oracle = independent_top1(utility, open_caps, min_score=0.0)
        results["independent top-1 (true utility)"] = [
            (cohort_ids[g], open_ids[oracle.choice[g]]) for g in np.flatnonzero(oracle.feasible)
        ]
        for method, pairs in results.items():
            totals[method]["assigned"] += len(pairs)
            totals[method]["true_utility"] += _true_total(truth, pairs)
            per_vacancy: dict[str, int] = {}
            for _, v in pairs:
                per_vacancy[v] = per_vacancy.get(v, 0) + 1
            totals[method]["sponsor_seats"] += sum(open_enterprise.get(v) == sponsor for _, v in pairs)
            totals[method]["max_per_vacancy"] = max(
                totals[method]["max_per_vacancy"], *per_vacancy.values(), 0
            )

    optimum = totals["optimum (true utility)"]["true_utility"] or 1.0
    rows = []
    for method in methods:
        t = totals[method]
        rows.append(
            {
                "method": method,
                "assigned": t["assigned"],
                "coverage": round(t["assigned"] / max(n_graduates, 1), 3),
                "true_utility": round(t["true_utility"], 1),
                "share_of_optimum": round(t["true_utility"] / optimum, 3),
                "mean_utility": round(t["true_utility"] / max(t["assigned"], 1), 3),
                "sponsor_seats": t["sponsor_seats"],
                "max_per_vacancy": t["max_per_vacancy"],
            }
        )
    joint_rows = _joint_study(
        joint_pieces, truth, open_ids, open_caps, open_enterprise, open_min_edu, min_scores, top_k
    )
    return {
        "scale": scale,
        "seed": seed,
        "joint_rows": joint_rows,
        "programs": int(len(programs)),
        "seeking_graduates": n_graduates,
        "open_vacancies": len(open_ids),
        "open_seats": int(open_caps.sum()),
        "min_scores": list(min_scores),
        "top_k": top_k,
        "model_top1_score_quantiles": {
            q: round(float(np.quantile(top_scores, q)), 3) for q in (0.1, 0.25, 0.5, 0.75, 0.9)
        }
        if top_scores
        else {},
        "timings": {
            **timings,
            "scoring_ms_total": round(score_ms, 1),
            "plan_ms_total": round(plan_ms, 1),
        },
        "top1_max_choosers_per_vacancy": crowd,
        "rows": rows,
    }


def _joint_study(
    pieces: list[tuple[Any, np.ndarray, list[str], list[str], str | None]],
    truth: Any,
    open_ids: list[str],
    open_caps: np.ndarray,
    open_enterprise: dict[str, str],
    open_min_edu: dict[str, str],
    min_scores: Sequence[float],
    top_k: int,
) -> list[dict[str, Any]]:
    """All studied programmes as ONE cohort competing for the same seats (market-level congestion)."""
    from scipy import sparse

    if not pieces:
        return []
    column = {v: i for i, v in enumerate(open_ids)}
    rows, cols, values = [], [], []
    graduate_ids: list[str] = []
    education: list[str] = []
    sponsors: list[str | None] = []
    for scored, _, ids, levels, sponsor in pieces:
        coo = scored.matrix.tocoo()
        rows.append(coo.row + len(graduate_ids))
        cols.append(np.array([column[scored.vacancy_ids[c]] for c in coo.col], dtype=int))
        values.append(coo.data)
        graduate_ids += ids
        education += levels
        sponsors += [sponsor] * len(ids)
    matrix = sparse.csr_array(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(graduate_ids), len(open_ids)),
    )
    utility = np.vstack([u for _, u, _, _, _ in pieces])
    results: dict[str, list[tuple[str, str]]] = {}
    best = plan_placement(utility, open_caps, min_score=0.0, top_k=50, sponsor_rule="none")
    results["optimum (true utility)"] = [
        (graduate_ids[a.graduate], open_ids[a.vacancy]) for a in best.assignments
    ]
    oracle = independent_top1(utility, open_caps, min_score=0.0)
    results["independent top-1 (true utility)"] = [
        (graduate_ids[g], open_ids[oracle.choice[g]]) for g in np.flatnonzero(oracle.feasible)
    ]
    common: dict[str, Any] = dict(
        top_k=top_k,
        graduate_sponsors=sponsors,
        vacancy_enterprises=[open_enterprise[v] for v in open_ids],
        graduate_education=education,
        vacancy_min_education=[open_min_edu[v] for v in open_ids],
    )
    for m in min_scores:
        plan = plan_placement(matrix, open_caps, min_score=m, sponsor_rule="lexicographic", **common)
        results[f"plan, sponsor first, min_score={m:g}"] = [
            (graduate_ids[a.graduate], open_ids[a.vacancy]) for a in plan.assignments
        ]
        top1 = independent_top1(matrix, open_caps, min_score=m)
        results[f"independent top-1 (model), min_score={m:g}"] = [
            (graduate_ids[g], open_ids[top1.choice[g]]) for g in np.flatnonzero(top1.feasible)
        ]
    optimum = _true_total(truth, results["optimum (true utility)"]) or 1.0
    out = []
    for method, pairs in results.items():
        total = _true_total(truth, pairs)
        per_vacancy: dict[str, int] = {}
        for _, v in pairs:
            per_vacancy[v] = per_vacancy.get(v, 0) + 1
        out.append(
            {
                "method": method,
                "assigned": len(pairs),
                "coverage": round(len(pairs) / len(graduate_ids), 3),
                "true_utility": round(total, 1),
                "share_of_optimum": round(total / optimum, 3),
                "max_per_vacancy": max(per_vacancy.values(), default=0),
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--min-score", type=float, default=0.3)
    parser.add_argument("--top-k", type=int, default=20)
    parser.add_argument("--demo", choices=["small", "medium"], default=None, help="add the demo-world study")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-synthetic", action="store_true", help="keep the stored synthetic results")
    parser.add_argument(
        "--demo-min-scores", type=float, nargs="+", default=[0.0, 0.05, 0.1, 0.2], help="thresholds studied"
    )
    parser.add_argument("--model-dir", type=Path, default=None, help="load (or save) the demo matcher here")
    parser.add_argument("--max-programs", type=int, default=None, help="study at most this many programmes")
    args = parser.parse_args(argv)

    payload: dict[str, Any] = {}
    previous = RESULTS_DIR / "placement.json"
    stored = json.loads(previous.read_text(encoding="utf-8")) if previous.exists() else {}
    if args.no_synthetic:
        payload["synthetic"] = stored.get("synthetic")
    elif not args.no_synthetic:
        rows = synthetic_rows(repeat=args.repeat, min_score=args.min_score, top_k=args.top_k)
        print_table(
            f"plan_placement, synthetic cohorts (min_score={args.min_score}, top_k={args.top_k})", rows
        )
        payload["synthetic"] = {
            "min_score": args.min_score,
            "top_k": args.top_k,
            "repeat": args.repeat,
            "rows": rows,
        }
    if args.demo:
        study = demo_world_study(
            scale=args.demo,
            seed=args.seed,
            min_scores=args.demo_min_scores,
            top_k=args.top_k,
            model_dir=args.model_dir,
            max_programs=args.max_programs,
        )
        print_table(f"Demo world ({args.demo}): total TRUE utility of the seeking cohorts", study["rows"])
        print_table(f"Demo world ({args.demo}): the same programmes as ONE cohort", study["joint_rows"])
        payload["demo"] = study
    elif stored.get("demo"):
        payload["demo"] = stored["demo"]  # keep the last (slow) demo-world study
    path = write_result("placement", payload)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


def run_bench(bench: Any) -> dict[str, Any]:
    """``python -m benchmarks``: the plan alone on synthetic cohorts (the 500 x 5,000 target), per scale."""
    tiny = bench.bounds.fast_training
    sizes = ((20, 200), (50, 500)) if tiny else SIZES
    rows = synthetic_rows(
        repeat=1 if tiny else 5, min_score=0.3, top_k=20, sizes=sizes, exact_up_to=50 if tiny else 500
    )
    print_table("plan_placement, synthetic cohorts (min_score=0.3, top_k=20)", rows)
    payload = {"min_score": 0.3, "top_k": 20, "rows": rows, "target": {"plan_500x5000_s": 1.0}}
    bench.write("placement", payload)
    return payload
