"""Holdout metrics as the admin page shows them: named and explained in the page's language, counts as
integers. A metric's name in a manifest is ``<base>[_accepted][_vacancy|_graduate]`` (training.metrics);
the words live in the catalogue (``quality.*`` in :mod:`service.web.i18n`)."""

from __future__ import annotations

from dataclasses import dataclass

from service.web.i18n import has, translate

# Longest first, so "oracle_share" is not read as "share".
BASES = (
    "calibration_pairs",
    "knowable_share",
    "oracle_share",
    "congestion",
    "precision",
    "coverage",
    "queries",
    "recall",
    "ndcg",
    "gini",
    "ties",
    "auc",
    "ece",
)
COUNTS = frozenset({"queries", "calibration_pairs"})
# The figures an administrator reads first; the rest are folded away on the page.
KEY_METRICS = ("ndcg", "ndcg_accepted", "auc_vacancy", "auc_graduate", "coverage_vacancy", "ece")
DIRECTIONS = ("vacancy", "graduate")
MATCHERS = ("new", "current", "keyword", "oracle", "knowable")


@dataclass(frozen=True)
class MetricName:
    """A metric as a person reads it."""

    key: str  # as in the manifest (kept for the API and a tooltip, never the label)
    label: str
    help: str
    count: bool  # printed as an integer

    def format(self, value: float) -> str:
        if self.count:
            return f"{round(value):,}"
        return f"{value:.3f}"


def _split(key: str) -> tuple[str, bool, str | None]:
    base = next((b for b in BASES if key == b or key.startswith(b + "_")), key)
    rest = key[len(base) :].strip("_").split("_") if key != base else []
    accepted = "accepted" in rest
    direction = next((d for d in DIRECTIONS if d in rest), None)
    return base, accepted, direction


def describe(key: str, lang: str) -> MetricName:
    """The name and explanation of the metric ``key`` in ``lang``; an unknown one keeps its key, spaced."""
    base, accepted, direction = _split(key)
    if not has(f"quality.{base}"):
        return MetricName(key, key.replace("_", " "), "", False)
    label = translate(f"quality.{base}", lang)
    notes = []
    if accepted:
        notes.append(translate("quality.accepted", lang))
    if direction:
        notes.append(translate(f"quality.direction.{direction}", lang))
    if notes:
        joined = translate("list.sep", lang).join(notes)
        label = translate("quality.qualified", lang, label=label, notes=joined)
    return MetricName(key, label, translate(f"quality.{base}.help", lang), base in COUNTS)


def matcher_label(name: str, lang: str) -> str:
    """``new`` -> "新模型" / "new model"; an unknown matcher keeps its name."""
    return translate(f"quality.matcher.{name}", lang) if has(f"quality.matcher.{name}") else name
