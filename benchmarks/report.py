"""The performance table of ``docs/performance.md``, from ``benchmarks/results/*-<scale>.json``.

    .venv/bin/python -m benchmarks.report            # markdown on stdout

Every cell is ``p50 / p99 ms`` (wall clock) unless the row says otherwise; ``cpu`` is the CPU time per call
(all threads), which on the shared, loaded machine is closer to what an idle one would show. Ratios are
``other way / ours`` (below 1: the other way is faster).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.ann_bench import SETTINGS as ANN_SETTINGS
from benchmarks.common import RESULTS_DIR

SCALES = ("small", "medium", "large")


def _load(name: str, scale: str, directory: Path) -> dict[str, Any] | None:
    path = directory / f"{name}-{scale}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 1000:
        return f"{value / 1000:.1f} s"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _serve_cell(payload: dict[str, Any] | None, case_prefix: str, way: str) -> str:
    if payload is None:
        return "–"
    for row in payload["rows"]:
        if row["case"].startswith(case_prefix) and row["way"] == way:
            text = f"{_ms(row['p50_ms'])} / {_ms(row['p99_ms'])} (cpu {_ms(row['cpu_ms'])})"
            if way != "ours":
                text += f" ×{row['vs_ours_p50']:.2g}"
            return text
    return "–"


def _row(label: str, cells: list[str], target: str = "") -> str:
    if all(c == "–" for c in cells):
        return ""
    return f"| {label} | " + " | ".join(cells) + f" | {target} |"


def table(directory: Path = RESULTS_DIR) -> str:
    res = {
        name: {s: _load(name, s, directory) for s in SCALES}
        for name in ("import", "train", "serve", "freshness", "http", "mixed", "replicas", "ann")
    }
    lines = [
        "| measure | small | medium | large | target |",
        "|---|---:|---:|---:|---|",
    ]

    def cells(name: str, pick: Any) -> list[str]:
        out = []
        for scale in SCALES:
            payload = res[name][scale]
            try:
                out.append(pick(payload) if payload is not None else "–")
            except (KeyError, IndexError, StopIteration, TypeError):
                out.append("–")
        return out

    def world(payload: dict[str, Any]) -> str:
        c = payload["counts"]
        return f"{c['graduates']:,} / {c['vacancies']:,} / {c['interactions']:,}"

    lines.append(_row("graduates / vacancies / interactions", cells("train", world)))

    def store(kind: str, key: str) -> Any:
        return lambda p: next(f"{r[key]}" for r in p["stores"] if r["store"] == kind)

    lines.append(_row("import into SQLite, s", cells("import", store("sqlite", "import_s"))))
    lines.append(
        _row(
            "… per 1M interactions, s",
            cells("import", store("sqlite", "s_per_1m_interactions")),
            "≤ 60 s per 1M (SQLite)",
        )
    )
    lines.append(_row("import into PostgreSQL, s", cells("import", store("postgresql", "import_s"))))
    t = "timings"
    lines.append(
        _row(
            "training (Matcher.fit) wall, s",
            cells("train", lambda p: f"{p[t]['total_s']:.0f}"),
            "≤ 600 s at large",
        )
    )
    lines.append(_row("… CPU, s", cells("train", lambda p: f"{p[t]['cpu_s']:.0f}")))
    lines.append(_row("… LightFM (4 fits), s", cells("train", lambda p: f"{p[t]['lightfm_s']:.0f}")))
    lines.append(
        _row("… LightFM pairs/s per epoch", cells("train", lambda p: f"{p[t]['lightfm_pairs_per_s']:,}"))
    )
    lines.append(_row("… ranker, s", cells("train", lambda p: f"{p[t]['ranker_s']:.0f}")))
    lines.append(_row("… peak RSS, MB", cells("train", lambda p: f"{p['peak_rss_mb']:,}")))
    lines.append(_row("artifact, MB", cells("train", lambda p: f"{p['artifact_mb']}")))
    lines.append(_row("index build (service pool), s", cells("serve", lambda p: f"{p['index_build_s']}")))
    for label, prefix, target in (
        ("candidates, top 20", "candidates (", "p99 ≤ 10 ms at large"),
        ("candidates, top 20, approximate retrieval", "candidates, approximate", ""),
        ("candidates, cold vacancy", "candidates, cold", ""),
        ("recommendations, top 10", "recommendations (", ""),
        ("recommendations, cold graduate", "recommendations, cold", ""),
        ("cohort placement, 500 graduates", "cohort placement", "≤ 1 s (500 × 5,000)"),
        ("… of which the plan alone", "  of which", ""),
    ):
        for way in ("ours", "keyword", "lightfm_predict"):
            cells_ = cells("serve", lambda p, prefix=prefix, way=way: _serve_cell(p, prefix, way))
            if all(c == "–" for c in cells_):
                continue
            name = {
                "ours": label,
                "keyword": "… keyword matcher",
                "lightfm_predict": "… LightFM predict, all pairs",
            }
            lines.append(_row(name[way], cells_, target if way == "ours" else ""))

    def http(which: int, key: str) -> Any:
        def pick(p: dict[str, Any]) -> str:
            row = next(r for r in p["rows"] if r["clients"] == which)
            if key == "latency":
                return f"{_ms(row['p50_ms'])} / {_ms(row['p99_ms'])}"
            if key == "rps":
                return f"{row['requests_per_s']:.0f} ({row['errors']} errors)"
            return str(row[key])

        return pick

    lines.append(
        _row("HTTP candidates, concurrency 1", cells("http", http(1, "latency")), "p99 ≤ 30 ms at large")
    )
    lines.append(_row("HTTP candidates, concurrency 8", cells("http", http(8, "latency"))))
    lines.append(
        _row("… requests/s at concurrency 8", cells("http", http(8, "rps")), "≥ 300 req/s, 0 errors")
    )

    def update(change: str) -> Any:
        def pick(p: dict[str, Any]) -> str:
            rows = p["at_large_size"]["changes"]
            now = next(r for r in rows if r["change"] == change and r.get("updates", "now") == "now")
            text = f"{_ms(now['p50_ms'])} / {_ms(now['p99_ms'])}"
            before = next((r for r in rows if r["change"] == change and r.get("updates") == "before"), None)
            return (
                text
                if before is None
                else f"{text} (before {_ms(before['p50_ms'])} / {_ms(before['p99_ms'])})"
            )

        return pick

    for change, target in (
        ("post a vacancy", "≤ 10 ms per write at large"),
        ("upload a graduate", ""),
        ("edit a graduate", ""),
        ("erase a graduate", ""),
    ):
        lines.append(
            _row(f"index update at 170k graduates: {change}", cells("freshness", update(change)), target)
        )

    def mixed(key: str) -> Any:
        def pick(p: dict[str, Any]) -> str:
            read_only, with_writer, two = p["rows"]
            if key == "writer":
                ratios = p["ratios"]
                return (
                    f"{with_writer['requests_per_s']:.0f} req/s, p99 {_ms(with_writer['p99_ms'])} "
                    f"(×{ratios['writer_throughput_ratio']:.2f} / ×{ratios['writer_p99_ratio']:.2f} of "
                    f"read-only {read_only['requests_per_s']:.0f} req/s, p99 {_ms(read_only['p99_ms'])})"
                )
            latency = f"{_ms(two['p50_ms'])} / {_ms(two['p99_ms'])}"
            return f"{two['requests_per_s']:.0f} req/s, {latency}, {two['errors']} errors"

        return pick

    lines.append(
        _row(
            "HTTP, 1 worker, 2 clients + a writer every 0.5 s",
            cells("mixed", mixed("writer")),
            "≥ 0.8× read-only req/s, p99 ≤ 2×",
        )
    )
    lines.append(
        _row("HTTP, 2 workers, 8 clients", cells("mixed", mixed("two")), "≥ 300 req/s, p99 ≤ 50 ms at medium")
    )

    def replicas(write: str) -> Any:
        def pick(p: dict[str, Any]) -> str:
            row = next(r for r in p["rows"] if r["write"] == write)
            return f"{_ms(row['p50_ms'])} / {_ms(row['p99_ms'])} (max {_ms(row['max_ms'])})"

        return pick

    for write in ("post a vacancy", "erase a graduate"):
        lines.append(
            _row(
                f"two replicas: {write} on one, seen on the other, ms",
                cells("replicas", replicas(write)),
                "≤ 2 s" if write == "post a vacancy" else "",
            )
        )

    def ann(way: str) -> Any:
        def pick(p: dict[str, Any]) -> str:
            row = next(r for r in p["rows"] if r["way"].startswith(way))
            return (
                f"{_ms(row['p50_ms'])} / {_ms(row['p99_ms'])} (cpu {_ms(row['cpu_ms'])}), "
                f"recall {row['recall_at_20']:.3f} at {p['graduates']:,}"
            )

        return pick

    lines.append(
        _row(
            "full query, exact, synthetic pool",
            cells("ann", ann("full query, exact")),
            "p99 ≤ 30 ms at 1M",
        )
    )
    for ef, shortlist in ANN_SETTINGS:
        lines.append(
            _row(
                f"full query, approximate ef={ef} shortlist={shortlist}",
                cells("ann", ann(f"full query, approximate ef={ef} shortlist={shortlist}")),
                "p99 ≤ 10 ms, recall@20 ≥ 0.95 at 1M" if ef == ANN_SETTINGS[0][0] else "",
            )
        )
    lines.append(_row("retrieval only, exact", cells("ann", ann("retrieval only, exact"))))
    for ef in (32, 64, 128, 256, 512):
        lines.append(
            _row(
                f"retrieval only, hnswlib ef={ef}",
                cells("ann", ann(f"retrieval only, hnswlib ef={ef}")),
                "",
            )
        )

    def load(p: dict[str, Any]) -> str:
        return f"{p['machine'].get('load_average', ['?'])[0]}"

    lines.append(_row("load average when serving was measured", cells("serve", load)))
    return "\n".join(line for line in lines if line)


def main() -> int:
    print(table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
