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
import time
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from benchmarks.common import percentiles, print_table, write_result
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


def synthetic_rows(*, repeat: int, min_score: float, top_k: int) -> list[dict[str, Any]]:
    rows = []
    for n_graduates, n_vacancies in ((100, 1000), (500, 5000), (1000, 5000)):
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
        best = exact_total(scores, caps, min_score) if n_graduates <= 500 else float("nan")
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--min-score", type=float, default=0.3)
    parser.add_argument("--top-k", type=int, default=20)
    parser.add_argument("--demo", choices=["small", "medium"], default=None, help="add the demo-world study")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    rows = synthetic_rows(repeat=args.repeat, min_score=args.min_score, top_k=args.top_k)
    print_table(f"plan_placement, synthetic cohorts (min_score={args.min_score}, top_k={args.top_k})", rows)
    payload: dict[str, Any] = {
        "synthetic": {"min_score": args.min_score, "top_k": args.top_k, "repeat": args.repeat, "rows": rows}
    }
    if args.demo:
        from benchmarks.placement_demo import demo_world_study

        study = demo_world_study(scale=args.demo, seed=args.seed, min_score=args.min_score, top_k=args.top_k)
        print_table(f"Demo world ({args.demo}): total TRUE utility of the seeking cohorts", study["rows"])
        payload["demo"] = study
    path = write_result("placement", payload)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
