"""The evaluation run behind ``talentmatch evaluate``: fit every matcher, score them, write a report.

Output under ``OUT_DIR``: ``evaluation.json`` (every metric, timings, config), ``report.html`` (the table and
the plots), and the plots as PNG files (NDCG by direction, recall@k curves, a reliability curve of the full
model's probabilities, exposure Lorenz curves).
"""

from __future__ import annotations

import html
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from models.baselines import LightFMMatcher, PopularityMatcher, RandomMatcher
from models.data import MarketData
from models.keyword import KeywordMatcher
from models.matcher import Matcher, MatcherConfig
from training.evaluate import DIRECTIONS, DirectionResult, evaluate_matchers, flatten, relative, time_split

log = logging.getLogger(__name__)
FULL = "full"
# Name -> what it is, in report order.
MATCHERS = {
    "random": "random order",
    "popularity": "most active graduates / most applied-to employers",
    "keyword": "share of required skills held",
    "lightfm": "plain LightFM hybrid (graduates as users), raw scores",
    "lightfm_norm": "LightFM both ways, scores standardised per graduate and per vacancy",
    "ranker_no_lightfm": "the ranker without LightFM features",
    "one_ranker": "LightFM + one ranker for both directions",
    FULL: "LightFM + ranker (the product)",
}
TABLE_METRICS = ("ndcg", "recall", "precision", "auc", "coverage", "gini", "congestion")


@dataclass
class Evaluation:
    table: dict[str, dict[str, float]]
    results: dict[str, dict[str, DirectionResult]]
    timings: dict[str, float]
    cut: str
    k: int
    config: dict[str, Any]


def build_matchers(config: MatcherConfig, *, ablations: bool = True) -> dict[str, Any]:
    matchers: dict[str, Any] = {
        "random": RandomMatcher(seed=config.seed),
        "popularity": PopularityMatcher(),
        "keyword": KeywordMatcher(),
        "lightfm": LightFMMatcher(config),
    }
    if ablations:
        matchers["lightfm_norm"] = LightFMMatcher(config, normalised=True)
        matchers["ranker_no_lightfm"] = Matcher(replace(config, use_lightfm=False))
        # One ranker for both directions (no graduate-direction ranker): what the split adds.
        matchers["one_ranker"] = Matcher(replace(config, graduate_ranker=False))
    matchers[FULL] = Matcher(config)
    return matchers


def run_evaluation(
    data: MarketData,
    *,
    cut: Any = None,
    k: int = 10,
    truth: Any = None,
    config: MatcherConfig | None = None,
    ablations: bool = True,
    progress: bool = False,
    max_queries: int = 2000,
) -> Evaluation:
    """Split at ``cut``, fit every matcher on the training part, evaluate both directions."""
    config = config or MatcherConfig()
    split = time_split(data, cut=cut)
    matchers = build_matchers(config, ablations=ablations)
    timings: dict[str, float] = {}
    for name, matcher in matchers.items():
        tick = time.perf_counter()
        matcher.fit(split.train, progress=progress)
        timings[f"fit_{name}"] = time.perf_counter() - tick
        log.info("fitted %s in %.1fs", name, timings[f"fit_{name}"])
    tick = time.perf_counter()
    results = evaluate_matchers(matchers, split, k=k, truth=truth, max_queries=max_queries, seed=config.seed)
    timings["evaluate"] = time.perf_counter() - tick
    return Evaluation(
        table=flatten(results),
        results=results,
        timings=timings,
        cut=str(split.cut),
        k=k,
        config=config.to_dict(),
    )


def format_table(evaluation: Evaluation) -> str:
    """A plain-text table: one row per matcher, both directions, ratios to keyword and oracle."""
    k = evaluation.k
    ratios = relative(evaluation.table)
    columns = []
    for d in DIRECTIONS:
        columns += [f"{m}_{d}" for m in TABLE_METRICS]
    header = ["matcher"] + [c.replace("_vacancy", "@V").replace("_graduate", "@G") for c in columns]
    header += ["xkw@V", "xkw@G"]
    has_oracle = "oracle" in evaluation.table
    if has_oracle:
        header += ["orc@V", "orc@G"]
    lines = [
        f"k={k}; V = ranking graduates for new vacancies (cold), G = ranking vacancies for graduates (warm)"
    ]
    rows = []
    for name, row in evaluation.table.items():
        cells = [name] + [f"{row.get(c, float('nan')):.3f}" for c in columns]
        cells += [f"{ratios[name]['vacancy']:.2f}", f"{ratios[name]['graduate']:.2f}"]
        if has_oracle:
            cells += [
                f"{row.get('oracle_share_vacancy', 0):.2f}",
                f"{row.get('oracle_share_graduate', 0):.2f}",
            ]
        rows.append(cells)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    for cells in [header, *rows]:
        lines.append("  ".join(str(c).rjust(w) for c, w in zip(cells, widths, strict=True)))
    return "\n".join(lines)


def markdown_table(evaluation: Evaluation) -> str:
    """The headline table in Markdown (NDCG, recall, AUC both ways; ratios to keyword and oracle)."""
    ratios = relative(evaluation.table)
    has_oracle = "oracle" in evaluation.table
    k = evaluation.k
    head = f"| matcher | NDCG@{k} V | NDCG@{k} G | recall V | recall G | AUC V | AUC G "
    head += "| × keyword V | × keyword G |"
    if has_oracle:
        head += " of oracle V | of oracle G |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name, row in evaluation.table.items():
        cells = [
            name,
            *(
                f"{row.get(f'{m}_{d}', float('nan')):.3f}"
                for m in ("ndcg", "recall", "auc")
                for d in DIRECTIONS
            ),
        ]
        # reorder: ndcg V, ndcg G, recall V, recall G, auc V, auc G
        cells += [f"{ratios[name]['vacancy']:.2f}", f"{ratios[name]['graduate']:.2f}"]
        if has_oracle:
            cells += [
                f"{row.get('oracle_share_vacancy', 0):.2f}",
                f"{row.get('oracle_share_graduate', 0):.2f}",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _plots(evaluation: Evaluation, directory: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    names = list(evaluation.table)
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.38
    x = np.arange(len(names))
    for i, d in enumerate(DIRECTIONS):
        ax.bar(
            x + (i - 0.5) * width, [evaluation.table[n].get(f"ndcg_{d}", 0) for n in names], width, label=d
        )
    ax.set_xticks(x, names, rotation=30, ha="right")
    ax.set_ylabel(f"NDCG@{evaluation.k}")
    ax.set_title("NDCG by direction (vacancy = ranking graduates for new vacancies)")
    ax.legend()
    fig.tight_layout()
    paths.append(directory / "ndcg.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, d in zip(axes, DIRECTIONS, strict=True):
        for name in names:
            curve = evaluation.results[name][d].curve
            ax.plot(list(curve), list(curve.values()), marker="o", label=name)
        ax.set_xscale("log")
        ax.set_xlabel("k")
        ax.set_title(f"recall@k ({d})")
    axes[0].set_ylabel("recall")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    paths.append(directory / "recall_at_k.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    if FULL in evaluation.results:
        fig, ax = plt.subplots(figsize=(5, 5))
        for d in DIRECTIONS:
            result = evaluation.results[FULL][d]
            if result.labels is None or result.probabilities is None:
                continue
            centres, observed, counts = reliability(result.probabilities, result.labels)
            ax.plot(centres, observed, marker="o", label=f"{d} (n={int(counts.sum())})")
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--")
        ax.set_xlabel("predicted probability")
        ax.set_ylabel("observed share of positives")
        ax.set_title("Reliability of the full model (held-out pairs)")
        ax.legend()
        fig.tight_layout()
        paths.append(directory / "reliability.png")
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, d in zip(axes, DIRECTIONS, strict=True):
        for name in names:
            exposure = evaluation.results[name][d].exposure
            if exposure is None or exposure.sum() == 0:
                continue
            lorenz = np.concatenate([[0], np.cumsum(np.sort(exposure)) / exposure.sum()])
            ax.plot(np.linspace(0, 1, len(lorenz)), lorenz, label=name)
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--")
        ax.set_title(f"exposure Lorenz curve ({d})")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    paths.append(directory / "exposure.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)
    return paths


def reliability(
    prob: np.ndarray, labels: np.ndarray, bins: int = 10
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean predicted, observed positive share, count) per equal-count bin of ``prob``."""
    order = np.argsort(prob, kind="mergesort")
    chunks = [c for c in np.array_split(order, bins) if len(c)]
    return (
        np.array([prob[c].mean() for c in chunks]),
        np.array([labels[c].mean() for c in chunks]),
        np.array([len(c) for c in chunks]),
    )


def write_report(evaluation: Evaluation, directory: str | Path) -> list[Path]:
    """Write ``evaluation.json``, the plots and ``report.html`` into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    payload: dict[str, Any] = {
        "cut": evaluation.cut,
        "k": evaluation.k,
        "metrics": evaluation.table,
        "relative_to_keyword": relative(evaluation.table),
        "timings_seconds": evaluation.timings,
        "config": evaluation.config,
        "matchers": {name: MATCHERS.get(name, name) for name in evaluation.table},
    }
    if FULL in evaluation.results:
        payload["reliability"] = {}
        for d in DIRECTIONS:
            result = evaluation.results[FULL][d]
            if result.labels is not None and result.probabilities is not None:
                centres, observed, counts = reliability(result.probabilities, result.labels)
                payload["reliability"][d] = {
                    "predicted": centres.tolist(),
                    "observed": observed.tolist(),
                    "count": counts.tolist(),
                }
    json_path = directory / "evaluation.json"
    json_path.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    plots = _plots(evaluation, directory)
    rows = "\n".join(
        f"<tr><th>{html.escape(name)}</th><td>{html.escape(MATCHERS.get(name, name))}</td>"
        + "".join(
            f"<td>{row.get(f'{m}_{d}', float('nan')):.3f}</td>" for d in DIRECTIONS for m in TABLE_METRICS
        )
        + "</tr>"
        for name, row in evaluation.table.items()
    )
    head = "".join(f"<th>{m}<br>{d}</th>" for d in DIRECTIONS for m in TABLE_METRICS)
    images = "\n".join(f'<p><img src="{p.name}" alt="{p.stem}"></p>' for p in plots)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>talentmatch evaluation</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;
padding:3px 6px;font-size:13px}}td{{text-align:right}}</style></head><body>
<h1>talentmatch evaluation</h1>
<p>Trained on events before {html.escape(evaluation.cut)}; k = {evaluation.k}.
<em>vacancy</em>: ranking graduates for vacancies posted after the cut (cold start);
<em>graduate</em>: ranking vacancies for graduates seeking at the cut.</p>
<table><tr><th>matcher</th><th>what</th>{head}</tr>
{rows}</table>
<h2>Plain text</h2><pre>{html.escape(format_table(evaluation))}</pre>
<h2>Timings (s)</h2><pre>{html.escape(json.dumps(evaluation.timings, indent=1))}</pre>
{images}
</body></html>
"""
    html_path = directory / "report.html"
    html_path.write_text(page, encoding="utf-8")
    return [json_path, html_path, *plots]


def summary(table: Mapping[str, Mapping[str, float]]) -> str:
    ratios = relative(table)
    full = ratios.get(FULL, {})
    return ", ".join(f"{d}: {full.get(d, 0):.2f}x keyword" for d in DIRECTIONS)
