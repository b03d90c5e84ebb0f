"""The evaluation run behind ``talentmatch evaluate``: fit every matcher, score them, write a report.

Output under ``OUT_DIR``: ``evaluation.json`` (every metric, the reliability curves, the plan figures,
timings, config), ``report.html`` (the tables and the plots), and the plots as PNG files (NDCG by direction
on applications and on accepted outcomes, recall@k curves, the reliability curve of the full model's score
against realised success, exposure Lorenz curves and, with a ground truth, plan success).
"""

from __future__ import annotations

import html
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from models.baselines import LightFMMatcher, PopularityMatcher, RandomMatcher
from models.data import MarketData
from models.keyword import KeywordMatcher
from models.matcher import Matcher, MatcherConfig
from models.rerank import ExposureReranked
from training.calibration import reliability
from training.demo_truth import GroundTruth
from training.evaluate import (
    ACCEPTED,
    APPLICATIONS,
    DIRECTIONS,
    FAMILIES,
    KNOWABLE,
    MatcherResult,
    evaluate_matchers,
    flatten,
    metric_name,
    relative,
    time_split,
)
from training.fairness import FairnessReport, fairness_report
from training.fairness_report import fairness_html, plot_fairness
from training.report_words import FILES, HTML_LANG, LANGUAGES, MATCHERS_ZH, word

log = logging.getLogger(__name__)
FULL = "full"
# Name -> what it is, in report order.
MATCHERS = {
    "random": "random order",
    "popularity": "most active graduates / most applied-to employers",
    "keyword": "share of required skills held",
    "lightfm": "plain LightFM hybrid (graduates as users), raw scores",
    "lightfm_norm": "LightFM both ways, scores standardised per graduate and per vacancy",
    "no_lightfm": "the two-sided model without LightFM (retrieval by skill coverage only)",
    "applied_target": "the old one-sided target: the chance the graduate applies (ablation)",
    FULL: "two-sided model: P(graduate interested) x P(employer advances), calibrated (the product)",
}
TABLE_METRICS = ("ndcg", "recall", "precision", "auc", "coverage", "gini", "congestion")
# The second table: what users need (employer-accepted outcomes, calibration, plans).
OUTCOME_METRICS = ("ndcg_accepted", "recall_accepted")
OUTCOME_EXTRA = ("ece", "ties_vacancy", "ties_graduate")
FAMILY_TITLES = {APPLICATIONS: "applications", ACCEPTED: "accepted outcomes (employer advanced)"}
__all__ = [
    "Evaluation",
    "format_rerank",
    "format_reliability",
    "format_table",
    "markdown_table",
    "reliability",
    "rerank_comparison",
    "run_evaluation",
    "summary",
    "write_report",
]


@dataclass
class Evaluation:
    table: dict[str, dict[str, float]]
    results: dict[str, MatcherResult]
    timings: dict[str, float]
    cut: str
    k: int
    config: dict[str, Any]
    # The full model's fairness report at the cut (with the re-ranked top-k figures), and the holdout
    # metrics of the full model re-ranked for exposure, beside the full model's own in ``table``.
    fairness: FairnessReport | None = None
    reranked: dict[str, float] | None = None


RERANKED = "full_rerank"
# What the side-by-side table compares: the full model against it re-ranked for exposure.
RERANK_METRICS = (
    "ndcg_vacancy",
    "ndcg_accepted_vacancy",
    "recall_vacancy",
    "coverage_vacancy",
    "gini_vacancy",
)


def build_matchers(config: MatcherConfig, *, ablations: bool = True) -> dict[str, Any]:
    matchers: dict[str, Any] = {
        "random": RandomMatcher(seed=config.seed),
        "popularity": PopularityMatcher(),
        "keyword": KeywordMatcher(),
        "lightfm": LightFMMatcher(config),
    }
    if ablations:
        matchers["lightfm_norm"] = LightFMMatcher(config, normalised=True)
        matchers["no_lightfm"] = Matcher(replace(config, use_lightfm=False))
        # What the two-sided target adds over learning who applies.
        matchers["applied_target"] = Matcher(replace(config, target="applied"))
    matchers[FULL] = Matcher(config)
    return matchers


def run_evaluation(
    data: MarketData,
    *,
    cut: Any = None,
    k: int = 10,
    truth: GroundTruth | None = None,
    config: MatcherConfig | None = None,
    ablations: bool = True,
    progress: bool = False,
    max_queries: int = 2000,
    fairness: bool = True,
    rerank_by: str = "school_kind",
) -> Evaluation:
    """Split at ``cut``, fit every matcher on the training part, evaluate both directions.

    With ``fairness``, also the full model's fairness report at the cut (:mod:`training.fairness`) and the
    holdout metrics of the full model re-ranked for exposure over ``rerank_by`` (the vacancy direction:
    the re-ranking orders candidates), measured on the same queries as the model's own order.
    """
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
    report = reranked = None
    if fairness:
        tick = time.perf_counter()
        full = matchers[FULL]
        fair = ExposureReranked(full, attribute=rerank_by)
        again = evaluate_matchers(
            {RERANKED: fair},
            split,
            k=k,
            max_queries=max_queries,
            seed=config.seed,
            plan_programs=0,
            oracle=False,
        )
        reranked = flatten(again)[RERANKED]
        report = fairness_report(
            full, split.test, k=k, as_of=split.cut, rerank_by=rerank_by, seed=config.seed
        )
        report.model_version = FULL
        timings["fairness"] = time.perf_counter() - tick
    return Evaluation(
        table=flatten(results),
        results=results,
        timings=timings,
        cut=str(split.cut),
        k=k,
        config=config.to_dict(),
        fairness=report,
        reranked=reranked,
    )


def rerank_comparison(evaluation: Evaluation) -> dict[str, dict[str, float]]:
    """The full model and the same model re-ranked for exposure, side by side: the holdout metrics of the
    vacancy direction (:data:`RERANK_METRICS`), their relative change, and the fairness report's figures:
    the top-k impact ratio and exposure share of the group furthest under its pool share, coverage."""
    if evaluation.reranked is None or evaluation.fairness is None:
        return {}
    own = evaluation.table.get(FULL, {})
    out: dict[str, dict[str, float]] = {}
    for metric in RERANK_METRICS:
        before, after = own.get(metric, 0.0), evaluation.reranked.get(metric, 0.0)
        out[metric] = {
            "full": before,
            RERANKED: after,
            "change": (after - before) / before if before else 0.0,
        }
    report = evaluation.fairness
    attribute = str(report.reranked.get("attribute", "school_kind"))
    plain = report.attributes[attribute]["top_k"]
    fair = report.reranked["attributes"][attribute]["top_k"]
    # The group furthest under its pool share in the model's own lists: its top-k impact ratio and share.
    worst = min(plain.groups, key=lambda g: (g.exposure_share or 0.0) - (g.pool_share or 0.0))
    after = next(g for g in fair.groups if g.group == worst.group)
    out[f"impact_ratio_{worst.group}"] = {
        "full": worst.impact_ratio or 0.0,
        RERANKED: after.impact_ratio or 0.0,
    }
    out[f"exposure_share_{worst.group}"] = {
        "full": worst.exposure_share or 0.0,
        RERANKED: after.exposure_share or 0.0,
        "pool_share": worst.pool_share or 0.0,
    }
    out["coverage_top20"] = {"full": report.coverage, RERANKED: float(report.reranked["coverage"])}
    for row in out.values():
        if "change" not in row:
            row["change"] = (row[RERANKED] - row["full"]) / row["full"] if row["full"] else 0.0
    return out


def format_rerank(evaluation: Evaluation) -> str:
    """The side-by-side comparison as text (empty without a fairness run)."""
    rows = rerank_comparison(evaluation)
    if not rows:
        return ""
    lines = ["exposure-aware re-ranking (vacancy direction, holdout; top-k figures at the cut):"]
    for name, row in rows.items():
        lines.append(
            f"  {name:32s} full {row['full']:.4f}  re-ranked {row[RERANKED]:.4f}  ({row['change']:+.1%})"
        )
    return "\n".join(lines)


def _align(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    return [
        "  ".join(str(c).rjust(w) for c, w in zip(cells, widths, strict=True)) for cells in [header, *rows]
    ]


def _short(name: str) -> str:
    return name.replace("_accepted", "A").replace("_vacancy", "@V").replace("_graduate", "@G")


def _value(row: Mapping[str, float], key: str, digits: int = 3) -> str:
    value = row.get(key)
    return f"{value:.{digits}f}" if value is not None and np.isfinite(value) else "-"


def format_table(evaluation: Evaluation) -> str:
    """Plain-text tables: ranking on applications (one row per matcher, both directions, ratios to keyword
    and oracle), then accepted outcomes, calibration, plateaus and plan success."""
    k = evaluation.k
    table = evaluation.table
    has_oracle = "oracle" in table
    ratios = relative(table)
    columns = [f"{m}_{d}" for d in DIRECTIONS for m in TABLE_METRICS]
    header = ["matcher", *(_short(c) for c in columns), "xkw@V", "xkw@G"]
    if has_oracle:
        header += ["orc@V", "orc@G"]
    rows = []
    for name, row in table.items():
        cells = [name, *(_value(row, c) for c in columns)]
        cells += [f"{ratios[name][d]:.2f}" for d in DIRECTIONS]
        if has_oracle:
            cells += [_value(row, metric_name("oracle_share", APPLICATIONS, d), 2) for d in DIRECTIONS]
        rows.append(cells)
    lines = [
        f"k={k}; V = ranking graduates for new vacancies (cold), G = ranking vacancies for graduates (warm)",
        "Relevance: applications (applied 1 ... hired 5)",
        *_align(header, rows),
        "",
        "Relevance: accepted outcomes (the employer advanced: shortlisted 1 ... hired 4); ece = expected "
        "calibration error of the score against realised success; ties = adjacent equal scores in top-20 "
        "lists",
    ]
    columns = [f"{m}_{d}" for m in OUTCOME_METRICS for d in DIRECTIONS]
    has_plan = any("plan_success_share" in row for row in table.values())
    header = ["matcher", *(_short(c) for c in columns), "xkwA@V", "xkwA@G"]
    has_knowable = KNOWABLE in table
    if has_oracle:
        header += ["orcA@V", "orcA@G"]
    if has_knowable:
        header += ["knoA@V", "knoA@G"]
    header += ["ece", "ties@V", "ties@G"]
    if has_plan:
        header += ["plan", "plan_kno", "plan_ok", "plan_cov"]
    accepted = relative(table, accepted=True)
    rows = []
    for name, row in table.items():
        cells = [name, *(_value(row, c) for c in columns)]
        cells += [f"{accepted[name][d]:.2f}" for d in DIRECTIONS]
        if has_oracle:
            cells += [_value(row, metric_name("oracle_share", ACCEPTED, d), 2) for d in DIRECTIONS]
        if has_knowable:
            cells += [_value(row, metric_name("knowable_share", ACCEPTED, d), 2) for d in DIRECTIONS]
        cells += [_value(row, "ece"), _value(row, "ties_vacancy"), _value(row, "ties_graduate")]
        if has_plan:
            cells += [
                _value(row, "plan_success_share"),
                _value(row, "plan_knowable_share"),
                _value(row, "plan_assignment_success"),
                _value(row, "plan_coverage"),
            ]
        rows.append(cells)
    lines += _align(header, rows)
    if has_plan:
        lines.append(
            "plan = expected successful placements of the plans / best possible (clairvoyant: it knows "
            "each pair's own noise); plan_kno = the same / the best plan by what can be known (the noise "
            "averaged out; knoA = share of that oracle's NDCG); plan_ok = share of assignments the employer "
            f"would advance and the graduate would take; plan_cov = share assigned ({_plan_scope(table)})"
        )
    return "\n".join(lines)


def format_reliability(evaluation: Evaluation) -> str:
    """The plotted reliability curves as text: per equal-mass bin, mean score -> observed success (pairs)."""
    lines = []
    for name in _reliability_shown(evaluation):
        cal = evaluation.results[name].calibration
        assert cal is not None
        bins = ", ".join(
            f"{p:.2f}->{o:.2f} ({n})" for p, o, n in zip(cal.predicted, cal.observed, cal.count, strict=True)
        )
        lines.append(f"reliability of {name} (ECE {cal.ece:.3f}; mean score -> observed success): {bins}")
    return "\n".join(lines)


def _plan_scope(table: Mapping[str, Mapping[str, float]]) -> str:
    row = next((r for r in table.values() if "plan_programs" in r), {})
    return f"{int(row.get('plan_programs', 0))} programmes, {int(row.get('plan_graduates', 0))} graduates"


def markdown_table(evaluation: Evaluation) -> str:
    """The headline table in Markdown: NDCG on applications and on accepted outcomes, both ways; ratios to
    keyword and oracle; ECE; plan success when measured."""
    table = evaluation.table
    has_oracle = "oracle" in table
    has_plan = any("plan_success_share" in row for row in table.values())
    ratios = relative(table)
    k = evaluation.k
    head = f"| matcher | NDCG@{k} V | NDCG@{k} G | accepted V | accepted G | recall V | recall G "
    head += "| × keyword V | × keyword G |"
    if has_oracle:
        head += " of oracle V | of oracle G | of oracle, accepted V | of oracle, accepted G |"
    head += " ECE |"
    if has_plan:
        head += " plan success | assignments succeeding |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name, row in table.items():
        cells = [name]
        cells += [_value(row, metric_name("ndcg", f, d)) for f in FAMILIES for d in DIRECTIONS]
        cells += [_value(row, metric_name("recall", APPLICATIONS, d)) for d in DIRECTIONS]
        cells += [f"{ratios[name][d]:.2f}" for d in DIRECTIONS]
        if has_oracle:
            cells += [_value(row, metric_name("oracle_share", f, d), 2) for f in FAMILIES for d in DIRECTIONS]
        cells.append(_value(row, "ece"))
        if has_plan:
            cells += [_value(row, "plan_success_share", 2), _value(row, "plan_assignment_success", 2)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _plots(evaluation: Evaluation, directory: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    names = list(evaluation.table)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
    width = 0.38
    x = np.arange(len(names))
    for ax, family in zip(axes, FAMILIES, strict=True):
        for i, d in enumerate(DIRECTIONS):
            values = [evaluation.table[n].get(metric_name("ndcg", family, d), 0) for n in names]
            ax.bar(x + (i - 0.5) * width, values, width, label=d)
        ax.set_xticks(x, names, rotation=30, ha="right")
        ax.set_title(f"NDCG@{evaluation.k}, {FAMILY_TITLES[family]}")
    axes[0].set_ylabel(f"NDCG@{evaluation.k}")
    axes[0].legend(title="ranking for a")
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

    shown = _reliability_shown(evaluation)
    if shown:
        fig, ax = plt.subplots(figsize=(5.5, 5.5))
        for name in shown:
            cal = evaluation.results[name].calibration
            assert cal is not None
            style = {"linestyle": "--", "color": "black"} if name == "oracle" else {}
            label = f"{name}: ECE {cal.ece:.3f} (n={cal.pairs})"
            ax.plot(cal.predicted, cal.observed, marker="o", label=label, **style)  # type: ignore[arg-type]
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("mean score in the bin")
        ax.set_ylabel("share of pairs that succeeded")
        ax.set_title("Reliability on the holdout's exposed pairs\n(equal-mass bins)")
        ax.legend(fontsize=8)
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

    planned = [n for n in names if evaluation.results[n].plan is not None]
    if planned:
        fig, ax = plt.subplots(figsize=(8, 4))
        x = np.arange(len(planned))
        bars = (
            ("plan_success_share", "successful placements / best possible"),
            ("plan_assignment_success", "assignments that succeed"),
        )
        for i, (key, label) in enumerate(bars):
            ax.bar(x + (i - 0.5) * width, [evaluation.table[n][key] for n in planned], width, label=label)
        ax.set_xticks(x, planned, rotation=30, ha="right")
        ax.set_ylim(0, 1)
        ax.set_title(f"Placement plans on the ground truth ({_plan_scope(evaluation.table)})")
        ax.legend(fontsize=8)
        fig.tight_layout()
        paths.append(directory / "plan_success.png")
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)
    return paths


def _reliability_shown(evaluation: Evaluation) -> list[str]:
    """Matchers whose reliability curve is plotted: the product (or, without it, every matcher), keyword,
    and the oracle."""
    has = [n for n, r in evaluation.results.items() if r.calibration is not None and r.calibration.pairs]
    if FULL not in has:
        return has
    return [n for n in (FULL, "keyword", "oracle") if n in has]


def write_report(evaluation: Evaluation, directory: str | Path) -> list[Path]:
    """Write ``evaluation.json``, the plots, ``report.html`` (English) and ``report.zh.html`` (Chinese) into
    ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    payload: dict[str, Any] = {
        "cut": evaluation.cut,
        "k": evaluation.k,
        "metrics": evaluation.table,
        "relative_to_keyword": relative(evaluation.table),
        "relative_to_keyword_accepted": relative(evaluation.table, accepted=True),
        "timings_seconds": evaluation.timings,
        "config": evaluation.config,
        "matchers": {name: MATCHERS.get(name, name) for name in evaluation.table},
        # Per matcher: ECE and, per equal-mass bin, mean score, observed success share and pair count.
        "reliability": {
            name: result.calibration.to_dict()
            for name, result in evaluation.results.items()
            if result.calibration is not None
        },
        "plans": {
            name: asdict(result.plan) | result.plan.metrics()
            for name, result in evaluation.results.items()
            if result.plan is not None
        },
    }
    if evaluation.fairness is not None:
        payload["fairness"] = evaluation.fairness.to_dict()
        payload["rerank_comparison"] = rerank_comparison(evaluation)
    json_path = directory / "evaluation.json"
    json_path.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    plots = _plots(evaluation, directory)
    fairness_plots = plot_fairness(evaluation.fairness, directory) if evaluation.fairness is not None else []
    pages = []
    for lang in LANGUAGES:
        page_path = directory / FILES[lang]
        page_path.write_text(_page(evaluation, lang, plots, fairness_plots), encoding="utf-8")
        pages.append(page_path)
    return [json_path, *pages, *plots, *fairness_plots]


def _page(evaluation: Evaluation, lang: str, plots: list[Path], fairness_plots: list[Path]) -> str:
    """The report as one HTML page in ``lang`` (``report.html`` in English, ``report.zh.html`` in Chinese),
    each linking to the other; the figures and tables are the same."""
    other = next(code for code in LANGUAGES if code != lang)
    images = "\n".join(
        f'<p><img src="{p.name}" alt="{html.escape(word("figure", lang, name=p.stem))}"></p>' for p in plots
    )
    fairness_section = ""
    if evaluation.fairness is not None:
        fairness_section = (
            f"<h2>{word('fairness_title', lang)}</h2>\n"
            f"<h3>{word('rerank_title', lang)}</h3>"
            f"<pre>{html.escape(format_rerank(evaluation))}</pre>\n"
            + fairness_html(evaluation.fairness, fairness_plots, lang=lang)
        )
    figures_note = word("figures_note", lang)
    return f"""<!doctype html>
<html lang="{HTML_LANG[lang]}"><head><meta charset="utf-8"><title>{word("title", lang)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;
padding:3px 6px;font-size:13px}}td{{text-align:right}}</style></head><body>
<p><a href="{FILES[other]}" hreflang="{HTML_LANG[other]}">{word("other_language", lang)}</a></p>
<h1>{word("title", lang)}</h1>
<p>{word("intro", lang, cut=html.escape(evaluation.cut), k=evaluation.k)}</p>
<p>{word("columns", lang)}</p>
{_html_table(evaluation, APPLICATIONS, TABLE_METRICS, lang=lang)}
<h2>{word("accepted_title", lang)}</h2>
<p>{word("accepted_intro", lang)}</p>
{_html_table(evaluation, ACCEPTED, ("ndcg", "recall", "precision"), extra=OUTCOME_EXTRA, lang=lang)}
{_html_plans(evaluation, lang)}
<h2>{word("plain_text", lang)}</h2><pre>{html.escape(format_table(evaluation))}</pre>
{fairness_section}
<h2>{word("timings", lang)}</h2><pre>{html.escape(json.dumps(evaluation.timings, indent=1))}</pre>
{f"<p>{figures_note}</p>" if figures_note else ""}
{images}
</body></html>
"""


def _html_table(
    evaluation: Evaluation,
    family: str,
    metrics: tuple[str, ...],
    *,
    extra: tuple[str, ...] = (),
    lang: str = "en",
) -> str:
    keys = [metric_name(m, family, d) for d in DIRECTIONS for m in metrics] + list(extra)
    head = "".join(f"<th>{html.escape(_short(key))}</th>" for key in keys)
    described = {**MATCHERS, **MATCHERS_ZH} if lang == "zh" else MATCHERS
    rows = "\n".join(
        f"<tr><th>{html.escape(name)}</th><td>{html.escape(described.get(name, name))}</td>"
        + "".join(f"<td>{_value(row, key)}</td>" for key in keys)
        + "</tr>"
        for name, row in evaluation.table.items()
    )
    return (
        f"<table><tr><th>{word('matcher', lang)}</th><th>{word('what', lang)}</th>{head}</tr>\n{rows}</table>"
    )


def _html_plans(evaluation: Evaluation, lang: str = "en") -> str:
    planned = {n: r.plan for n, r in evaluation.results.items() if r.plan is not None}
    if not planned:
        return ""
    rows = "\n".join(
        f"<tr><th>{html.escape(name)}</th><td>{plan.success_share:.3f}</td><td>{plan.assignment_success:.3f}"
        f"</td><td>{plan.assigned}</td><td>{plan.expected_successes:.1f}</td><td>{plan.best_possible:.1f}</td></tr>"
        for name, plan in planned.items()
    )
    head = "".join(f"<th>{html.escape(c)}</th>" for c in word("plans_columns", lang).split("|"))
    intro = word("plans_intro", lang, scope=html.escape(_plan_scope(evaluation.table)))
    return f"""<h2>{word("plans_title", lang)}</h2>
<p>{intro}</p>
<table><tr>{head}</tr>
{rows}</table>"""


def summary(table: Mapping[str, Mapping[str, float]]) -> str:
    """One line on the full model: NDCG as a multiple of keyword's, both definitions; ECE; plan success."""
    parts = []
    for family, label in ((APPLICATIONS, "applications"), (ACCEPTED, "accepted")):
        full = relative(table, accepted=family == ACCEPTED).get(FULL, {})
        parts.append(f"{label} " + ", ".join(f"{d} {full.get(d, 0):.2f}x keyword" for d in DIRECTIONS))
    row = table.get(FULL, {})
    if "ece" in row:
        parts.append(f"ECE {row['ece']:.3f}")
    if "plan_success_share" in row:
        parts.append(
            f"plans {row['plan_success_share']:.2f} of the best possible, "
            f"{row['plan_assignment_success']:.0%} of assignments succeed"
        )
    return "; ".join(parts)
