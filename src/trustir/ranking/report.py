"""P8's tables: the ranker x supervision table by frequency bucket, paired bootstrap contrasts
(clicks vs LLM labels per bucket, FAMOL vs the schedules), the plot layout and the report.

Contrasts resample the queries of a bucket with replacement (``n`` times, seeded) and report
the mean paired difference with its 2.5-97.5 % percentile interval.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from trustir.ranking.experiment import BASELINE, MEASURE, LtrInputs, LtrResult, row_name
from trustir.ranking.params import BUCKETS, LtrParams
from trustir.report import Provenance, Table

COLUMNS = [*(f"{MEASURE}/{b}" for b in BUCKETS), MEASURE]


def paired_bootstrap(a: np.ndarray, b: np.ndarray, n: int, seed: int) -> tuple[float, float, float]:
    """Mean of a - b and its 95 % percentile bootstrap interval over paired items."""
    d = np.asarray(a, float) - np.asarray(b, float)
    if d.size == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, d.size, size=(n, d.size))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(d.mean()), float(lo), float(hi)


def contrast_pairs(rankers: list[str], supervisions: list[str]) -> list[tuple[str, str, str]]:
    """(label, row a, row b): click vs llm, and FAMOL vs each schedule, per ranker."""
    out = []
    for r in rankers:
        wanted = [("click", "llm")] + [("famol", s) for s in ("click_then_llm", "llm_then_click")]
        for a, b in wanted:
            if a in supervisions and b in supervisions:
                out.append((f"{r}: {a} − {b}", row_name(r, a), row_name(r, b)))
    return out


def contrasts(
    per_query: pl.DataFrame, pairs: list[tuple[str, str, str]], n: int, seed: int
) -> dict[str, dict[str, list[float] | None]]:
    """{label: {column: [mean diff, lo, hi]}} over the queries both rows scored (None when
    they share none: a row was not trained)."""
    out: dict[str, dict[str, list[float] | None]] = {}
    for label, a, b in pairs:
        out[label] = {}
        for col in COLUMNS:
            pa = per_query.filter((pl.col("row") == a) & (pl.col("column") == col))
            pb = per_query.filter((pl.col("row") == b) & (pl.col("column") == col))
            j = pa.join(pb, on="query_id", suffix="_b")
            pair = (j["value"].to_numpy(), j["value_b"].to_numpy())
            out[label][col] = list(paired_bootstrap(*pair, n, seed)) if j.height else None
    return out


def _interval(found: list[float] | None) -> str:
    if found is None:
        return "–"
    m, lo, hi = found
    return f"{m:+.3f} [{lo:+.3f}, {hi:+.3f}]"


def contrast_markdown(found: dict[str, dict[str, list[float] | None]], n: int) -> str:
    """The contrasts as a Markdown table: "Δ [lo, hi]" per bucket column."""
    lines = [
        "## Paired differences in nDCG@10 (test queries), 95 % bootstrap intervals",
        "",
        "| contrast | " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * (len(COLUMNS) + 1),
    ]
    for label, cols in found.items():
        lines.append(f"| {label} | " + " | ".join(_interval(cols.get(c)) for c in COLUMNS) + " |")
    lines += [
        "",
        f"_Queries resampled with replacement, {n} times; an interval excluding 0 is a "
        "difference beyond resampling noise._",
    ]
    return "\n".join(lines) + "\n"


def ltr_table(
    cells: dict[str, dict[str, float | None]],
    per_query: pl.DataFrame,
    notes: list[str],
    provenance: Provenance | None = None,
) -> Table:
    return Table(
        name="ltr",
        title="Learning to rank from clicks vs LLM labels (P8): nDCG@10 by query frequency",
        cells=cells,  # type: ignore[arg-type]
        per_query=per_query,
        row_label="ranker/supervision",
        provenance=provenance or Provenance(),
        notes=notes,
    )


def ltr_notes(result: LtrResult, inputs: LtrInputs, p: LtrParams) -> list[str]:
    """What the numbers are: test queries per bucket, training lists per source, settings."""
    base = result.per_query.filter(pl.col("row") == BASELINE)
    n_test = {b: base.filter(pl.col("column") == f"{MEASURE}/{b}").height for b in BUCKETS}
    freq = inputs.frequencies
    ranges = {
        b: (
            freq.filter(pl.col("bucket") == b)["freq"].min(),
            freq.filter(pl.col("bucket") == b)["freq"].max(),
        )
        for b in BUCKETS
    }
    train = result.info["training"]

    def by_bucket(src: str) -> str:
        c = train[src]["queries_by_bucket"]
        return "/".join(str(c[b]) for b in BUCKETS)

    notes = [
        f"Test queries re-ranked (top {p.depth} BM25 candidates), high/medium/low: "
        + "/".join(str(n_test[b]) for b in BUCKETS)
        + " (query frequency "
        + ", ".join(f"{b} {lo}-{hi}" for b, (lo, hi) in ranges.items())
        + f"; buckets = top {p.buckets.high:.0%} / next {p.buckets.medium:.0%} / rest of queries "
        "by frequency). nDCG@10 against the ground-truth grades; bm25/none = the candidates' "
        "BM25 order.",
        f"Training lists (train queries with >= 2 labelled documents of different grades), "
        f"high/medium/low: click ({p.click_model} click model on the log's label share) "
        f"{by_bucket('click')}, LLM {by_bucket('llm')}. Schedules give the first source "
        f"{p.schedule_share:.0%} of the rounds/epochs; FAMOL's click weight w(freq) runs from "
        f"{p.famol.w_min} (low) to {p.famol.w_max} (high).",
        f"Features ({len(result.info['features'])}): "
        + ", ".join(result.info["features"])
        + " (trustir.ranking.features).",
    ]
    notes += [f"{row}: not trained ({why})." for row, why in result.info["skipped"].items()]
    return notes


def _plot_column(ranker: str, column: str) -> str:
    return f"{ranker} {column.split('/')[-1] if '/' in column else 'all'}"


def plot_table(table: Table, rankers: list[str], supervisions: list[str]) -> Table:
    """Rows = supervisions (and the baseline), columns = "<ranker> <bucket>": the plot layout."""
    cells: dict[str, dict[str, float]] = {}
    for sup in supervisions:
        cells[sup] = {
            _plot_column(r, c): table.cells[row_name(r, sup)][c]
            for r in rankers
            for c in COLUMNS
            if table.cells.get(row_name(r, sup), {}).get(c) is not None
        }
    base = table.cells.get(BASELINE, {})
    cells["bm25"] = {
        _plot_column(r, c): base[c] for r in rankers for c in COLUMNS if base.get(c) is not None
    }
    return Table(name="ltr_plot", title=table.title, cells=cells, row_label="supervision")


def report_markdown(table: Table, contrast_md: str, clickmodels: Table | None) -> str:
    """reports/ltr.md: the main table, the contrasts, the click-model table."""
    parts = [table.to_markdown(), "", contrast_md]
    if clickmodels is not None:
        parts += ["", clickmodels.to_markdown()]
    return "\n".join(parts)
