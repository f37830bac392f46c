"""The ``calibration`` stage's work (P4): confidences of every method, their metrics by answer
count, the reliability diagram, the Markdown report (issue 14).

Per question and method: the method's answer, its confidence and whether the answer is right
(``calibration.match``). Table cells are ECE (``ece`` over all questions, ``ece/<k>`` over those
with k answers), AUROC, Brier, accuracy and mean confidence; the per-question value behind each
cell has the cell as its mean (ECE: the gap of the question's bin; AUROC: the share of the
other class it is ranked correctly against, ties 1/2; Brier: the squared error).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from trustir.calibration import metrics as M
from trustir.calibration.clusters import assign
from trustir.calibration.items import Item, Sample
from trustir.calibration.methods import METHODS
from trustir.calibration.params import CalibrationParams
from trustir.calibration.qa import is_correct
from trustir.report.table import PER_QUERY_SCHEMA, Table

JUDGED = {
    "method": pl.String,
    "qid": pl.String,
    "n_answers": pl.Int64,
    "split": pl.String,
    "answer": pl.String,
    "raw_confidence": pl.Float64,
    "confidence": pl.Float64,
    "correct": pl.Int64,
}


def build_items(samples: pl.DataFrame, ptrue: pl.DataFrame) -> list[Item]:
    """One :class:`Item` per question from ``calibration_sample``'s tables."""
    by: dict[str, dict[str, list[tuple[str, str, list[float]]]]] = {}
    for qid, kind, index, text, lps in samples.select(
        "qid", "kind", "index", "text", "token_logprobs"
    ).iter_rows():
        by.setdefault(qid, {}).setdefault(kind, []).append((index, text, list(lps)))
    pt = {q: (y, n) for q, _, y, n in ptrue.iter_rows()}
    items = []
    for qid, kinds in by.items():

        def pick(kind: str, greedy: bool, kinds=kinds) -> list[tuple[str, str, list[float]]]:
            rows = [r for r in kinds.get(kind, []) if (r[0] == "greedy") == greedy]
            return sorted(rows, key=lambda r: int(r[0]) if r[0] != "greedy" else -1)

        g = pick("answer", True)[0]
        items.append(
            Item(
                qid=qid,
                greedy=Sample(g[1], tuple(g[2])),
                samples=[Sample(t, tuple(lp)) for _, t, lp in pick("answer", False)],
                verbalized=pick("verbalized", True)[0][1],
                verbalized_samples=[t for _, t, _ in pick("verbalized", False)],
                topk=pick("topk", True)[0][1],
                logp_yes=pt.get(qid, (float("-inf"),) * 2)[0],
                logp_no=pt.get(qid, (float("-inf"),) * 2)[1],
            )
        )
    return items


def minmax(values: np.ndarray, fit: np.ndarray) -> np.ndarray:
    """(v - min) / (max - min) with min/max over ``values[fit]``, clipped to [0, 1]; a constant
    fit set maps everything to 0.5."""
    lo, hi = float(values[fit].min()), float(values[fit].max())
    if hi <= lo:
        return np.full_like(values, 0.5)
    return np.clip((values - lo) / (hi - lo), 0.0, 1.0)


def judge_all(items: list[Item], qa: pl.DataFrame, params: CalibrationParams) -> pl.DataFrame:
    """Every method's answer, confidence and correctness on every question (JUDGED)."""
    meta = {r[0]: r[1:] for r in qa.select("qid", "answers", "n_answers", "split").iter_rows()}
    rows = []
    for name in params.methods:
        method = METHODS.get(name)
        out = [method.judge(it, params) for it in items]
        raw = np.array([c for _, c in out], dtype=np.float64)
        conf = raw
        if method.minmax:
            splits = np.array([meta[it.qid][2] for it in items])
            fit = np.ones(len(items), bool) if params.sca.fit_on == "all" else (
                splits == params.sca.fit_on
            )  # fmt: skip
            if not fit.any():
                raise ValueError(f"calibration.sca.fit_on={params.sca.fit_on!r}: no questions")
            conf = minmax(raw, fit)
        for it, (ans, _), r, c in zip(items, out, raw, conf, strict=True):
            refs, k, split = meta[it.qid]
            ok = is_correct(ans, refs, params.match)
            rows.append((name, it.qid, k, split, ans, float(r), float(np.clip(c, 0, 1)), int(ok)))
    return pl.DataFrame(rows, schema=JUDGED, orient="row")


def per_question_ece(conf: np.ndarray, correct: np.ndarray, n_bins: int) -> np.ndarray:
    """Each question's bin gap |accuracy - confidence| (their mean is the ECE)."""
    bins = M.bin_index(conf, n_bins)
    out = np.empty(len(conf))
    for b in np.unique(bins):
        m = bins == b
        out[m] = abs(correct[m].mean() - conf[m].mean())
    return out


def per_question_auroc(conf: np.ndarray, correct: np.ndarray) -> np.ndarray:
    """Each question's share of the other class it is ordered rightly against (ties 1/2)."""
    pos, neg = conf[correct == 1], conf[correct == 0]
    if len(pos) == 0 or len(neg) == 0:
        return np.full(len(conf), np.nan)
    out = np.empty(len(conf))
    for i, (c, y) in enumerate(zip(conf, correct, strict=True)):
        other = neg if y == 1 else pos
        wins = (c > other) if y == 1 else (c < other)
        out[i] = (wins.sum() + 0.5 * (c == other).sum()) / len(other)
    return out


@dataclass
class CalibrationReport:
    table: Table
    judged: pl.DataFrame
    details: dict[str, Any]


def metrics_table(
    judged: pl.DataFrame, params: CalibrationParams, title: str, provenance: Any
) -> CalibrationReport:
    """The paper table (method x metric) with the per-question values behind each cell."""
    if params.eval_on != "all":
        judged = judged.filter(pl.col("split") == params.eval_on)
    counts = sorted(judged["n_answers"].unique().to_list())
    cells: dict[str, dict[str, float]] = {}
    pq: list[tuple[str, str, str, float]] = []
    for name in params.methods:
        sub = judged.filter(pl.col("method") == name).sort("qid")
        qids = sub["qid"].to_list()
        c = sub["confidence"].to_numpy()
        y = sub["correct"].to_numpy().astype(np.float64)
        k = sub["n_answers"].to_numpy()
        row = {"ece": M.ece(c, y, params.n_bins)}
        vals: dict[str, tuple[np.ndarray, np.ndarray]] = {
            "ece": (per_question_ece(c, y, params.n_bins), np.ones(len(c), bool))
        }
        for n in counts:
            m = k == n
            row[f"ece/{n}"] = M.ece(c[m], y[m], params.n_bins)
            v = np.full(len(c), np.nan)
            v[m] = per_question_ece(c[m], y[m], params.n_bins)
            vals[f"ece/{n}"] = (v, m)
        row["auroc"] = M.auroc(c, y)
        row["brier"] = M.brier(c, y)
        row["accuracy"] = M.accuracy(y)
        row["confidence"] = M.mean_confidence(c)
        vals["auroc"] = (per_question_auroc(c, y), np.ones(len(c), bool))
        vals["brier"] = ((c - y) ** 2, np.ones(len(c), bool))
        vals["accuracy"] = (y, np.ones(len(c), bool))
        vals["confidence"] = (c, np.ones(len(c), bool))
        for n in counts:
            m = k == n
            row[f"accuracy/{n}"] = M.accuracy(y[m])
            row[f"confidence/{n}"] = M.mean_confidence(c[m])
            vals[f"accuracy/{n}"] = (np.where(m, y, np.nan), m)
            vals[f"confidence/{n}"] = (np.where(m, c, np.nan), m)
        cells[name] = {c: None if np.isnan(v) else v for c, v in row.items()}  # undefined: null
        for col, (v, m) in vals.items():
            pq += [
                (name, col, q, float(x))
                for q, x, keep in zip(qids, v, m, strict=True)
                if keep and not np.isnan(x)
            ]
    lower = {"brier"} | {c for c in next(iter(cells.values())) if c.startswith("ece")}
    table = Table(
        name="calibration",
        title=title,
        cells=cells,
        higher_is_better={c: c not in lower for r in cells.values() for c in r},
        per_query=pl.DataFrame(pq, schema=PER_QUERY_SCHEMA, orient="row"),
        row_label="method",
        provenance=provenance,
        notes=[
            f"correctness: SQuAD-normalised {params.match} match against any reference; "
            f"{judged['qid'].n_unique()} questions ({params.eval_on}), answer counts {counts}; "
            f"ECE with {params.n_bins} equal-width bins; SCA min-max fitted on "
            f"{params.sca.fit_on!r}."
        ],
    )
    details = {
        "match": params.match,
        "questions": judged["qid"].n_unique(),
        "counts": counts,
        "reliability": {
            name: M.reliability(
                judged.filter(pl.col("method") == name)["confidence"].to_numpy(),
                judged.filter(pl.col("method") == name)["correct"].to_numpy(),
                params.n_bins,
            )
            for name in params.methods
        },
    }
    return CalibrationReport(table, judged, details)


def calibrate(
    samples: pl.DataFrame,
    ptrue: pl.DataFrame,
    qa: pl.DataFrame,
    params: CalibrationParams,
    embed: Callable[[list[str]], np.ndarray],
    title: str,
    provenance: Any,
) -> CalibrationReport:
    """Clusters, every method, the metrics table."""
    items = build_items(samples, ptrue)
    assign(items, embed, params.cluster.distance_threshold)
    return metrics_table(judge_all(items, qa, params), params, title, provenance)


def plot_reliability(report: CalibrationReport, target: Any) -> None:
    """Reliability diagrams (accuracy against confidence per bin), one panel per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from trustir.io.atomic import write_with

    rel = report.details["reliability"]
    names = list(rel)
    cols = min(5, len(names))
    rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(2.4 * cols, 2.4 * rows), dpi=100, squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        bins = rel[name]
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
        ax.bar(
            [(b["lo"] + b["hi"]) / 2 for b in bins],
            [b["accuracy"] for b in bins],
            width=[b["hi"] - b["lo"] for b in bins],
            edgecolor="black",
            lw=0.5,
            alpha=0.7,
        )
        ece = report.table.cells[name]["ece"]
        ax.set_title(f"{name}\nECE {ece:.3f}", fontsize=8)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    fig.supxlabel("confidence", fontsize=8)
    fig.supylabel("accuracy", fontsize=8)
    fig.tight_layout()
    write_with(target, lambda p: fig.savefig(p, format="png"))
    plt.close(fig)


def report_markdown(report: CalibrationReport) -> str:
    """reports/calibration.md: the table, accuracy/confidence by answer count, the plot."""
    t = report.table
    counts = report.details["counts"]
    lines = [t.to_markdown(), "", "### Accuracy and confidence by answer count", ""]
    lines.append("| method | " + " | ".join(f"acc/{k} | conf/{k}" for k in counts) + " |")
    lines.append("|---|" + "---|---|" * len(counts))
    for name, row in t.cells.items():
        vals = " | ".join(
            f"{row[f'accuracy/{k}']:.3f} | {row[f'confidence/{k}']:.3f}" for k in counts
        )
        lines.append(f"| {name} | {vals} |")
    lines += ["", "![reliability diagrams](plots/calibration.png)", ""]
    return "\n".join(lines)
