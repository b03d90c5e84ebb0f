"""The fairness report as text, HTML (with matplotlib plots) and JSON (:mod:`training.fairness`)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np

from training.fairness import COVERAGE_K, FOUR_FIFTHS, STAGES, FairnessReport, StageTable

__all__ = ["fairness_html", "format_fairness", "plot_fairness", "write_fairness"]

STAGE_TITLES = {
    "top_k": "in an open vacancy's top-k candidates (of seeking graduates)",
    "shortlisted": "advanced by an employer (of graduates who applied)",
    "hired": "hired (of graduates who applied)",
}
# The same in Chinese, for the evaluation report's Chinese page (training.report_words).
STAGE_TITLES_ZH = {
    "top_k": "进入在招岗位的前 k 名候选人（在求职毕业生中）",
    "shortlisted": "被企业推进（在投递过的毕业生中）",
    "hired": "被录用（在投递过的毕业生中）",
}
TABLE_HEADS = {
    "en": (
        "stage", "group", "n", "selected", "rate", "95% CI", "impact ratio", "", "pool share",
        "exposure share", "re-ranked impact", "re-ranked exposure",
    ),
    "zh": (
        "阶段", "群体", "人数", "入选", "入选率", "95% 置信区间", "影响比", "", "人数占比", "曝光占比",
        "重排序后影响比", "重排序后曝光占比",
    ),
}  # fmt: skip


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _mark(group: object) -> str:
    flagged, low_n = getattr(group, "flagged", False), getattr(group, "low_n", False)
    return "FLAG" if flagged else ("low n" if low_n else "")


def format_fairness(report: FairnessReport) -> str:
    """Plain-text tables: per attribute and stage, each group's rate, interval, impact ratio and flag."""
    lines = [
        f"model {report.model_version or '?'}; as of {report.as_of}; k={report.k}; groups under "
        f"{report.min_n} are marked 'low n' and never flagged; FLAG = impact ratio under {FOUR_FIFTHS} "
        "(four-fifths rule)",
        f"seeking graduates {report.counts['seeking']}, applicants {report.counts['applicants']}, open "
        f"vacancies ranked {report.counts['open_vacancies_ranked']}",
        f"coverage (seeking graduates in any top-{COVERAGE_K}): {report.coverage:.3f}"
        + (f"; re-ranked {report.reranked['coverage']:.3f}" if report.reranked else ""),
        "vacancy side (graduates' top-k suggestions): congestion (share of slots taken by the top 10% of "
        f"open vacancies) {report.vacancies['congestion']:.3f}, Gini {report.vacancies['gini']:.3f}, open "
        f"vacancies shown at all {report.vacancies['shown_share']:.3f}",
    ]
    reranked = report.reranked.get("attributes", {}) if report.reranked else {}
    for attribute, stages in report.attributes.items():
        lines.append("")
        lines.append(f"[{attribute}]")
        header = ["stage", "group", "n", "selected", "rate", "95% CI", "impact", "", "pool", "exposure"]
        if reranked:
            header += ["rerank rate", "rerank impact", "rerank exposure"]
        rows = []
        for stage in STAGES:
            table = stages[stage]
            fair = (
                {g.group: g for g in reranked[attribute]["top_k"].groups}
                if reranked and stage == "top_k"
                else {}
            )
            for g in table.groups:
                cells = [
                    stage,
                    g.group + (" *" if g.group == table.reference else ""),
                    str(g.n),
                    str(g.selected),
                    f"{g.rate:.3f}",
                    f"{g.ci_low:.2f}-{g.ci_high:.2f}",
                    _ratio(g.impact_ratio),
                    _mark(g),
                    "" if g.pool_share is None else f"{g.pool_share:.3f}",
                    "" if g.exposure_share is None else f"{g.exposure_share:.3f}",
                ]
                if reranked:
                    f = fair.get(g.group)
                    cells += (
                        [f"{f.rate:.3f}", _ratio(f.impact_ratio), f"{f.exposure_share or 0:.3f}"]
                        if f
                        else ["", "", ""]
                    )
                rows.append(cells)
        widths = [max(len(c) for c in col) for col in zip(header, *rows, strict=True)]
        lines += [
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [header, *rows]
        ]
    lines.append("")
    lines.append("* = the most-favoured group (the reference of the impact ratios)")
    flags = report.flags
    lines.append(f"flagged: {len(flags)}")
    for f in flags:
        lines.append(
            f"  {f['attribute']}/{f['stage']}: {f['group']} impact ratio {f['impact_ratio']:.2f} "
            f"(rate {f['rate']:.3f}, n={f['n']}{', significant' if f['significant'] else ''})"
        )
    return "\n".join(lines)


def _cjk_fonts() -> list[str]:
    """Installed fonts that draw Chinese (district and school names), first in the fallback list."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    wanted = (
        "Noto Sans CJK SC",
        "Noto Sans CJK JP",
        "Noto Sans SC",
        "WenQuanYi Zen Hei",
        "Source Han Sans SC",
    )
    return [name for name in wanted if name in installed]


def plot_fairness(report: FairnessReport, directory: Path) -> list[Path]:
    """Impact ratios per stage (a panel per attribute) and exposure against pool share, as PNG files."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fonts: Any = {"font.sans-serif": [*_cjk_fonts(), *matplotlib.rcParams["font.sans-serif"]]}
    with matplotlib.rc_context(fonts), warnings.catch_warnings():
        # Without a CJK font Chinese labels draw as boxes; the figures are still right.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        return _plot(report, directory, plt)


def _plot(report: FairnessReport, directory: Path, plt: Any) -> list[Path]:
    paths = []
    attributes = [a for a in report.attributes if a != "school"]  # schools get a table, not a bar chart
    fig, axes = plt.subplots(len(attributes), 1, figsize=(9, 2.6 * len(attributes)))
    for ax, attribute in zip(np.atleast_1d(axes), attributes, strict=True):
        stages = report.attributes[attribute]
        groups = [g.group for g in stages["top_k"].groups]
        x = np.arange(len(groups))
        width = 0.8 / len(STAGES)
        for i, stage in enumerate(STAGES):
            by_group = {g.group: g for g in stages[stage].groups}
            values = [(by_group[g].impact_ratio or 0.0) if g in by_group else 0.0 for g in groups]
            ax.bar(x + (i - 1) * width, values, width, label=stage)
        ax.axhline(FOUR_FIFTHS, color="red", linestyle="--", linewidth=1)
        ax.set_xticks(x, groups, fontsize=8)
        ax.set_ylabel("impact ratio")
        ax.set_title(attribute, fontsize=9)
    np.atleast_1d(axes)[0].legend(fontsize=7, ncol=3)
    fig.tight_layout()
    paths.append(directory / "impact_ratios.png")
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)

    attribute = report.reranked.get("attribute", "school_kind") if report.reranked else "school_kind"
    table: StageTable = report.attributes[attribute]["top_k"]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    groups = [g.group for g in table.groups]
    x = np.arange(len(groups))
    bars = [("pool share", [g.pool_share or 0.0 for g in table.groups])]
    bars.append(("exposure share (model)", [g.exposure_share or 0.0 for g in table.groups]))
    if report.reranked:
        fair = {g.group: g for g in report.reranked["attributes"][attribute]["top_k"].groups}
        bars.append(("exposure share (re-ranked)", [fair[g].exposure_share or 0.0 for g in groups]))
    width = 0.8 / len(bars)
    for i, (label, values) in enumerate(bars):
        ax.bar(x + (i - (len(bars) - 1) / 2) * width, values, width, label=label)
    ax.set_xticks(x, groups, fontsize=8)
    ax.set_title(f"top-{report.k} exposure by {attribute}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    paths.append(directory / "exposure_share.png")
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)
    return paths


def _table_html(stages: dict[str, StageTable], fair: dict[str, StageTable] | None, lang: str = "en") -> str:
    rows = []
    for stage in STAGES:
        table = stages[stage]
        rerank = {g.group: g for g in fair["top_k"].groups} if fair and stage == "top_k" else {}
        for g in table.groups:
            style = ' style="background:#fdd"' if g.flagged else (' style="color:#888"' if g.low_n else "")
            f = rerank.get(g.group)
            cells = [
                stage,
                g.group + (" *" if g.group == table.reference else ""),
                str(g.n),
                str(g.selected),
                f"{g.rate:.3f}",
                f"{g.ci_low:.2f}–{g.ci_high:.2f}",
                _ratio(g.impact_ratio),
                _mark(g),
                "" if g.pool_share is None else f"{g.pool_share:.3f}",
                "" if g.exposure_share is None else f"{g.exposure_share:.3f}",
                "" if f is None else _ratio(f.impact_ratio),
                "" if f is None or f.exposure_share is None else f"{f.exposure_share:.3f}",
            ]
            rows.append(f"<tr{style}>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in TABLE_HEADS[lang])
    return f"<table><tr>{head}</tr>\n" + "\n".join(rows) + "</table>"


def fairness_html(report: FairnessReport, images: list[Path] | None = None, *, lang: str = "en") -> str:
    """The report as an HTML fragment (a section of the evaluation report, or a page's body), in English or
    (``lang="zh"``) Chinese."""
    reranked = report.reranked.get("attributes") if report.reranked else None
    if lang == "zh":
        return _fairness_html_zh(report, images, reranked)
    parts = [
        f"<p>As of {html.escape(report.as_of)}, model {html.escape(report.model_version or '?')}, "
        f"k = {report.k}. Impact ratio = a group's selection rate / the most-favoured group's (*); "
        f"flagged under {FOUR_FIFTHS} "
        f"(four-fifths rule) for groups of at least {report.min_n}; smaller groups are greyed (low n). "
        "Stages: " + "; ".join(f"<em>{s}</em> {html.escape(t)}" for s, t in STAGE_TITLES.items()) + ".</p>",
        f"<p>Coverage (seeking graduates in any top-{COVERAGE_K}): {report.coverage:.3f}"
        + (f" (re-ranked: {report.reranked['coverage']:.3f})" if report.reranked else "")
        + f". Vacancy side: congestion {report.vacancies['congestion']:.3f} (share of the graduates' top-"
        f"{report.k} slots taken by the top 10% of open vacancies), Gini {report.vacancies['gini']:.3f}.</p>",
    ]
    if report.reranked:
        parts.append(
            f"<p>Re-ranked: candidates re-ordered by the exposure-aware re-ranking over "
            f"<em>{html.escape(str(report.reranked['attribute']))}</em> (models.rerank).</p>"
        )
    flags = report.flags
    parts.append(
        f"<p><strong>{len(flags)} flagged</strong>: "
        + html.escape(
            "; ".join(f"{f['attribute']}/{f['stage']} {f['group']} {f['impact_ratio']:.2f}" for f in flags)
            or "none"
        )
        + "</p>"
    )
    for attribute, stages in report.attributes.items():
        parts.append(f"<h3>{html.escape(attribute)}</h3>")
        parts.append(_table_html(stages, reranked.get(attribute) if reranked else None))
    for image in images or []:
        parts.append(f'<p><img src="{html.escape(image.name)}" alt="{html.escape(image.stem)}"></p>')
    return "\n".join(parts)


def _fairness_html_zh(
    report: FairnessReport, images: list[Path] | None, reranked: dict[str, dict[str, StageTable]] | None
) -> str:
    stages = "；".join(f"<em>{s}</em>：{html.escape(t)}" for s, t in STAGE_TITLES_ZH.items())
    parts = [
        f"<p>截至 {html.escape(report.as_of)}，模型 {html.escape(report.model_version or '?')}，"
        f"k = {report.k}。"
        f"影响比 = 该群体入选率 ÷ 入选率最高群体（*）的入选率；人数不少于 {report.min_n} 的群体低于 "
        f"{FOUR_FIFTHS} 时标红（五分之四规则），人数更少的群体以灰色显示（样本少）。阶段：{stages}。</p>",
        f"<p>覆盖率（进入任一岗位前 {COVERAGE_K} 名的求职毕业生比例）：{report.coverage:.3f}"
        + (f"（重排序后：{report.reranked['coverage']:.3f}）" if report.reranked else "")
        + f"。岗位方面：拥挤度 {report.vacancies['congestion']:.3f}（毕业生前 {report.k} 名推荐位中被"
        f"最热门的 10% 在招岗位占去的比例），基尼系数 {report.vacancies['gini']:.3f}。</p>",
    ]
    if report.reranked:
        attribute = html.escape(str(report.reranked["attribute"]))
        parts.append(f"<p>重排序：候选人按 <em>{attribute}</em> 做考虑曝光的重排序（models.rerank）。</p>")
    flags = report.flags
    listed = "；".join(f"{f['attribute']}/{f['stage']} {f['group']} {f['impact_ratio']:.2f}" for f in flags)
    parts.append(f"<p><strong>标红 {len(flags)} 项</strong>：{html.escape(listed or '无')}</p>")
    for attribute, tables in report.attributes.items():
        parts.append(f"<h3>{html.escape(attribute)}</h3>")
        parts.append(_table_html(tables, reranked.get(attribute) if reranked else None, "zh"))
    for image in images or []:
        parts.append(f'<p><img src="{html.escape(image.name)}" alt="图：{html.escape(image.stem)}"></p>')
    return "\n".join(parts)


def write_fairness(report: FairnessReport, directory: str | Path) -> list[Path]:
    """Write ``fairness.json``, the plots and ``fairness.html`` into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / "fairness.json"
    json_path.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
    images = plot_fairness(report, directory)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>talentmatch fairness and exposure</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;
padding:3px 6px;font-size:13px}}</style></head><body>
<h1>Fairness and exposure</h1>
{fairness_html(report, images)}
</body></html>
"""
    html_path = directory / "fairness.html"
    html_path.write_text(page, encoding="utf-8")
    return [json_path, html_path, *images]
