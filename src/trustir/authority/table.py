"""The AuthorityBench table (P1) through ``trustir.report``: metrics/authority.json rows
``<bench>/<judge>/<format>/<text|notext>`` (spearman, kendall, pair_acc, calls_per_item,
tokens_per_item, errors) and ``ragauth/<all|judged|oracle>`` (accuracy, errors); ``errors`` counts
the LLM answers that gave no reading, which every other measure leaves out (a failed call is
never a score). Per-pair and per-question values
for paired tests; a Markdown report laid out like the paper's table, and a plot."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import polars as pl

from trustir.authority.metrics import (
    correlations,
    mean_ci,
    mean_or_none,
    pair_values,
    spearman_ci,
)
from trustir.authority.ragauth import CONDITIONS
from trustir.report import Provenance, Table

MEASURES = ("spearman", "kendall", "pair_acc", "calls_per_item", "tokens_per_item", "errors")
#: wall seconds are a property of a run, not of a judge: they go to the run ledger (runs/).
COST_COLUMNS = {"calls_per_item": False, "tokens_per_item": False}
#: columns where lower is better: the costs, and ``errors`` (answers that gave no reading; their
#: items are left out of every measure of the row, and counted here)
LOWER_IS_BETTER = (*COST_COLUMNS, "errors")
NO_TEXT_NOTE = (
    "Real domain lists (tranco, majestic, moz) and PopQA are judged from names only: no page "
    "text is available offline. Their ground truth is a rank-based proxy of authority (list "
    "rank, referring subnets, Domain Authority, page views), not PageRank over a link graph."
)


#: the params sections (and keys) that shape this table, for its provenance line.
PROVENANCE_KEYS = ("data.", "llm.", "authority.", "annotate.store")


def provenance_params(flat: dict[str, Any]) -> dict[str, Any]:
    """The non-default params that matter to this table (``non_default(params)`` filtered)."""
    return {k: v for k, v in flat.items() if k.startswith(PROVENANCE_KEYS)}


@dataclass
class AuthorityReport:
    table: Table  # the saved table (metrics/authority.json)
    details: dict[str, dict[str, Any]]  # per row: easy/hard accuracy, CIs, coverage, seconds
    items: pl.DataFrame  # row, item_id, score, authority, level: for later bootstraps


def _round(v: float | None, digits: int = 6) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), digits)


def judge_rows(
    items: pl.DataFrame,
    pairs: pl.DataFrame,
    scores: pl.DataFrame,
    prefs: pl.DataFrame,
    costs: pl.DataFrame,
) -> tuple[dict, dict, list[pl.DataFrame], list[pl.DataFrame]]:
    """Cells, details, per-pair values and per-item scores of every judge row."""
    cells: dict[str, dict[str, float | None]] = {}
    details: dict[str, dict[str, Any]] = {}
    per_pair, per_item = [], []
    for c in costs.iter_rows(named=True):
        row, bench = c["row"], c["bench"]
        got = scores.filter(pl.col("row") == row).select("item_id", "score")
        truth = items.filter(pl.col("bench") == bench).select("item_id", "authority", "level")
        joined = got.join(truth, on="item_id", how="left")
        corr = correlations(joined["score"].to_list(), joined["authority"].to_list())
        bench_pairs = pairs.filter(pl.col("bench") == bench)
        if c["judge"].startswith("pair/"):
            pr = prefs.filter(pl.col("row") == row)
            pv = pair_values(bench_pairs, prefs=dict(pr.select("pair_id", "pref").iter_rows()))
        else:
            pv = pair_values(bench_pairs, item_scores=dict(got.iter_rows()))
        n = max(c["items"], 1)
        cells[row] = {
            "spearman": _round(corr["spearman"]),
            "kendall": _round(corr["kendall"]),
            "pair_acc": _round(mean_or_none(pv["value"].to_list())),
            "calls_per_item": _round(c["calls"] / n),
            "tokens_per_item": _round((c["tokens_in"] + c["tokens_out"]) / n),
            "errors": int(c["errors"]),  # no score: left out of the measures above
        }
        lo, hi = spearman_ci(joined["score"].to_list(), joined["authority"].to_list())
        plo, phi = mean_ci(pv["value"].to_list())
        details[row] = {
            "bench": bench,
            "judge": c["judge"],
            "text": c["text"],
            "pair_acc_easy": _round(mean_or_none(pv.filter(pl.col("kind") == "easy")["value"])),
            "pair_acc_hard": _round(mean_or_none(pv.filter(pl.col("kind") == "hard")["value"])),
            "coverage": _round(joined["score"].is_not_null().mean()),  # None with no item
            "spearman_ci": [_round(lo), _round(hi)],
            "pair_acc_ci": [_round(plo), _round(phi)],
            "lists": {k: c[k] for k in ("valid", "repaired", "partial", "invalid")},
        }
        per_pair.append(
            pv.drop_nulls("value").select(
                pl.lit(row).alias("row"), pl.lit("pair_acc").alias("column"),
                pl.col("pair_id").alias("query_id"), "value",
            )
        )  # fmt: skip
        per_item.append(joined.with_columns(pl.lit(row).alias("row")))
    return cells, details, per_pair, per_item


def rag_rows(answers: pl.DataFrame) -> tuple[dict, dict, list[pl.DataFrame]]:
    cells, details, per_q = {}, {}, []
    for cond in CONDITIONS:
        a = answers.filter(pl.col("condition") == cond)
        row = f"ragauth/{cond}"
        cells[row] = {
            "accuracy": _round(mean_or_none(a["correct"].to_list())),  # answered questions only
            "errors": int(a["p_yes"].null_count()),  # answers with no reading (no P(yes))
        }
        lo, hi = mean_ci(a["correct"].to_list())
        details[row] = {
            "accuracy_ci": [_round(lo), _round(hi)],
            "questions": a.height,
            "docs_per_question": _round(a["n_docs"].mean()),
            "wrong_docs_per_question": _round(a["wrong_docs"].mean()),
            "yes_rate": _round(mean_or_none([float(p == "yes") for p in a["predicted"] if p])),
        }
        per_q.append(
            a.drop_nulls("correct").select(
                pl.lit(row).alias("row"), pl.lit("accuracy").alias("column"),
                pl.col("qid").alias("query_id"), pl.col("correct").alias("value"),
            )
        )  # fmt: skip
    return cells, details, per_q


def authority_report(
    truth: dict[str, pl.DataFrame],
    judged: dict[str, pl.DataFrame],
    answers: pl.DataFrame,
    provenance: Provenance,
    title: str = "AuthorityBench (P1)",
) -> AuthorityReport:
    """The saved table, its details and per-item scores from the stages' outputs."""
    cells, details, per_pair, per_item = judge_rows(
        truth["items"], truth["pairs"], judged["scores"], judged["prefs"], judged["costs"]
    )
    rcells, rdetails, per_q = rag_rows(answers)
    notes = (
        [NO_TEXT_NOTE]
        if set(truth["benches"]["bench"]) - {"world-domains", "world-entities"}
        else []
    )
    table = Table(
        name="authority",
        title=title,
        cells={**cells, **rcells},
        higher_is_better={c: c not in LOWER_IS_BETTER for c in (*MEASURES, "accuracy")},
        per_query=pl.concat(per_pair + per_q),
        row_label="bench/judge/format/text",
        provenance=provenance,
        notes=notes,
    )
    items = pl.concat(per_item) if per_item else pl.DataFrame()
    return AuthorityReport(table, {**details, **rdetails}, items)


# -- rendering ----------------------------------------------------------------------------------
def _pivot(report: AuthorityReport, measure: str, benches: list[str], title: str) -> Table:
    """Rows <judge>/<format>/<text>, one column per bench: the paper's layout."""
    cells: dict[str, dict[str, float]] = {}
    for row, d in report.details.items():
        if "bench" not in d:
            continue
        v = report.table.cells[row].get(measure)
        cells.setdefault(f"{d['judge']}/{d['text']}", {})[d["bench"]] = v
    ordered = {r: {b: cells[r].get(b) for b in benches} for r in cells}  # None shows as "–"
    return Table(
        name=f"authority-{measure}", title=title, cells=ordered, row_label="judge/format/text"
    )


def _cost_table(report: AuthorityReport) -> Table:
    """Cost per judged item, averaged over the benches a judge ran on."""
    acc: dict[str, dict[str, list[float]]] = {}
    for row, d in report.details.items():
        if "bench" not in d:
            continue
        cell = report.table.cells[row]
        got = acc.setdefault(f"{d['judge']}/{d['text']}", {c: [] for c in COST_COLUMNS})
        got["calls_per_item"].append(cell["calls_per_item"])
        got["tokens_per_item"].append(cell["tokens_per_item"])
    cells = {r: {c: float(sum(v) / len(v)) for c, v in cols.items()} for r, cols in acc.items()}
    return Table(
        name="authority-cost",
        title="Cost per judged item (mean over benches; calls and tokens billed)",
        cells=cells,
        higher_is_better=dict.fromkeys(COST_COLUMNS, False),
        row_label="judge/format/text",
    )


def _ci(ci: list) -> str:
    return "–" if ci[0] is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def detail_markdown(report: AuthorityReport) -> str:
    """Per row: easy/hard pair accuracy, bootstrap 95% intervals, coverage and list parses."""
    lines = [
        "## Details per row",
        "",
        "| row | spearman 95% CI | pair_acc easy | pair_acc hard | pair_acc 95% CI | coverage | "
        "lists valid/repaired/partial/invalid |",
        "|---|---|---|---|---|---|---|",
    ]
    fmt = lambda v: "–" if v is None else f"{v:.3f}"  # noqa: E731
    for row, d in report.details.items():
        if "bench" not in d:
            continue
        li = d["lists"]
        lists = "/".join(str(li[k]) for k in ("valid", "repaired", "partial", "invalid"))
        lines.append(
            f"| {row} | {_ci(d['spearman_ci'])} | {fmt(d['pair_acc_easy'])} | "
            f"{fmt(d['pair_acc_hard'])} | {_ci(d['pair_acc_ci'])} | {fmt(d['coverage'])} | "
            f"{lists if d['judge'].startswith('list/') else '–'} |"
        )
    lines += [
        "",
        "## RAGAuth",
        "",
        "| condition | accuracy | 95% CI | docs shown | wrong docs shown | yes rate |",
        "|---|---|---|---|---|---|",
    ]
    for cond in CONDITIONS:
        row = f"ragauth/{cond}"
        d = report.details[row]
        lines.append(
            f"| {cond} | {fmt(report.table.cells[row]['accuracy'])} | {_ci(d['accuracy_ci'])} | "
            f"{fmt(d['docs_per_question'])} | {fmt(d['wrong_docs_per_question'])} | "
            f"{fmt(d['yes_rate'])} |"
        )
    return "\n".join(lines) + "\n"


def report_markdown(report: AuthorityReport, benches: pl.DataFrame) -> str:
    """The whole report: paper-style pivots, cost, details, RAGAuth, then the flat table."""
    names = benches["bench"].to_list()
    head = [
        f"# {report.table.title}",
        "",
        "Benches (ground truth; levels over the population):",
        "",
    ]
    for b, kind, text_label, signal, n in benches.select(
        "bench", "kind", "text_label", "signal", "population"
    ).iter_rows():
        text = f"page text: {text_label}" if text_label else "names only (no page text)"
        head.append(f"- **{b}** ({kind}, {n} items; {text}): {signal}")
    parts = [
        "\n".join(head) + "\n",
        _pivot(report, "spearman", names, "Spearman with the ground truth").to_markdown(
            provenance=False
        ),
        _pivot(report, "pair_acc", names, "Pair accuracy (easy and hard pairs)").to_markdown(
            provenance=False
        ),
        _cost_table(report).to_markdown(provenance=False),
        detail_markdown(report),
        report.table.to_markdown(),
    ]
    return "\n".join(parts)


def plot_table(report: AuthorityReport, benches: list[str]) -> Table:
    """Spearman per judge/format/text (columns) and bench (bars): the PNG plot."""
    piv = _pivot(report, "spearman", benches, "Spearman with the ground truth by judge")
    nan = float("nan")
    cells = {b: {r: nan if piv.cells[r][b] is None else piv.cells[r][b] for r in piv.cells}
             for b in benches}  # fmt: skip
    return Table(name="authority-plot", title=piv.title, cells=cells, row_label="bench")
