"""Small charts as inline SVG, rendered on the server (no JavaScript, no inline styles: CSP-safe).

Every chart is an ``<svg role="img">`` with an ``aria-label`` and a ``<title>``, so screen readers get
the numbers; colours come from presentation attributes and hold WCAG AA contrast on white.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

PRIMARY = "#1d4ed8"  # blue-700: 6.7:1 on white
SECONDARY = "#b45309"  # amber-700: 5.0:1 on white
TRACK = "#e5e7eb"
TEXT = "#111827"
MUTED = "#4b5563"
OK = "#047857"


def _clamp(value: float, low: float = 0.0, high: float = 1.0) -> float:
    if value != value:  # NaN
        return low
    return max(low, min(high, float(value)))


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def percent(value: float) -> str:
    return f"{round(_clamp(value) * 100):d}%"


def score_bar(score: float, *, label: str = "", width: int = 120, height: int = 12) -> Markup:
    """A horizontal bar filled to ``score`` (0..1), e.g. a candidate's match."""
    share = _clamp(score)
    aria = escape(f"{label} {percent(share)}".strip())
    return Markup(
        f'<svg class="bar" role="img" aria-label="{aria}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{aria}</title>'
        f'<rect width="{width}" height="{height}" rx="3" fill="{TRACK}"/>'
        f'<rect width="{_num(width * share)}" height="{height}" rx="3" fill="{PRIMARY}"/></svg>'
    )


@dataclass(frozen=True)
class PairedBar:
    """One row of a paired bar chart: a label and two shares in 0..1."""

    label: str
    first: float
    second: float


def paired_bars(
    rows: Sequence[PairedBar],
    *,
    first_name: str,
    second_name: str,
    title: str,
    width: int = 560,
    label_width: int = 150,
    bar_height: int = 11,
) -> Markup:
    """Two bars per row (e.g. share of vacancies demanding a skill vs share of the cohort holding it)."""
    row_height = bar_height * 2 + 12
    legend_height = 26
    scale_width = width - label_width - 50
    height = legend_height + row_height * max(len(rows), 1) + 4
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>',
        f'<rect x="0" y="4" width="12" height="12" fill="{PRIMARY}"/>'
        f'<text x="18" y="14" font-size="12" fill="{TEXT}">{escape(first_name)}</text>',
        f'<rect x="{width // 2}" y="4" width="12" height="12" fill="{SECONDARY}"/>'
        f'<text x="{width // 2 + 18}" y="14" font-size="12" fill="{TEXT}">{escape(second_name)}</text>',
    ]
    for i, row in enumerate(rows):
        y = legend_height + i * row_height
        first, second = _clamp(row.first), _clamp(row.second)
        label = row.label if len(row.label) <= 18 else row.label[:17] + "…"
        parts.append(
            f"<g><title>{escape(row.label)}: {escape(first_name)} {percent(first)}, "
            f"{escape(second_name)} {percent(second)}</title>"
            f'<text x="0" y="{y + bar_height + 4}" font-size="12" fill="{TEXT}">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{_num(scale_width * first)}" height="{bar_height}" '
            f'fill="{PRIMARY}"/>'
            f'<text x="{_num(label_width + scale_width * first + 4)}" y="{y + bar_height - 1}" '
            f'font-size="10" fill="{MUTED}">{percent(first)}</text>'
            f'<rect x="{label_width}" y="{y + bar_height + 2}" width="{_num(scale_width * second)}" '
            f'height="{bar_height}" fill="{SECONDARY}"/>'
            f'<text x="{_num(label_width + scale_width * second + 4)}" y="{y + 2 * bar_height + 1}" '
            f'font-size="10" fill="{MUTED}">{percent(second)}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class Usage:
    """Seats of one vacancy: how many the plan uses out of how many remain."""

    label: str
    used: int
    capacity: int


def coverage_chart(
    *,
    assigned: int,
    unassigned: int,
    usage: Sequence[Usage],
    title: str,
    assigned_name: str,
    unassigned_name: str,
    used_name: str,
    free_name: str,
    coverage_name: str = "coverage",
    width: int = 560,
    max_rows: int = 12,
) -> Markup:
    """A stacked bar of the cohort (assigned vs not) above one bar per vacancy (seats used vs free).

    A vacancy over its headcount would draw past its track; the plan never does that, and the chart
    makes it visible if it ever did.
    """
    total = max(assigned + unassigned, 1)
    label_width = 170
    track = width - label_width - 60
    row_h = 18
    shown = list(usage[:max_rows])
    height = 64 + row_h * len(shown) + 8
    share = assigned / total
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>',
        f'<text x="0" y="14" font-size="12" fill="{TEXT}">{escape(assigned_name)} {assigned} · '
        f"{escape(unassigned_name)} {unassigned} · {escape(coverage_name)} {percent(share)}</text>",
        f'<rect x="0" y="22" width="{width - 60}" height="16" rx="3" fill="{TRACK}"/>',
        f'<rect x="0" y="22" width="{_num((width - 60) * share)}" height="16" rx="3" fill="{OK}"/>',
        f'<rect x="0" y="46" width="10" height="10" fill="{PRIMARY}"/>'
        f'<text x="14" y="55" font-size="11" fill="{TEXT}">{escape(used_name)}</text>'
        f'<rect x="80" y="46" width="10" height="10" fill="{TRACK}" stroke="{MUTED}" stroke-width="0.5"/>'
        f'<text x="94" y="55" font-size="11" fill="{TEXT}">{escape(free_name)}</text>',
    ]
    max_capacity = max([max(u.capacity, u.used) for u in shown] + [1])
    for i, item in enumerate(shown):
        y = 64 + i * row_h
        label = item.label if len(item.label) <= 20 else item.label[:19] + "…"
        cap_w = track * item.capacity / max_capacity
        used_w = track * item.used / max_capacity
        over = item.used > item.capacity
        parts.append(
            f"<g><title>{escape(item.label)}: {item.used} / {item.capacity}</title>"
            f'<text x="0" y="{y + 11}" font-size="11" fill="{TEXT}">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{_num(cap_w)}" height="12" fill="{TRACK}" '
            f'stroke="{MUTED}" stroke-width="0.5"/>'
            f'<rect x="{label_width}" y="{y}" width="{_num(used_w)}" height="12" '
            f'fill="{"#b91c1c" if over else PRIMARY}"/>'
            f'<text x="{_num(label_width + max(cap_w, used_w) + 4)}" y="{y + 10}" font-size="10" '
            f'fill="{MUTED}">{item.used}/{item.capacity}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
