"""The ``lvlm`` stage's work (P10): confidence signals of the VLM and of its text-only LLM
counterpart through the calibration registry, their ECE / AUROC / accuracy / mean confidence,
per-question values and reliability diagrams (issue 17).

Rows are ``<model>/<method>`` (each registered method on the greedy reply, the temperature
samples and the verbalized reply) and ``<model>/lexical_consistency@<set>`` (the share of the
greedy replies to the rephrased questions, or to the perturbed images, that agree with the
greedy answer: the calibration registry's ``lexical_consistency`` on an item whose samples are
those replies). Each row's correctness is that of the answer its method returns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from trustir.calibration import metrics as M
from trustir.calibration.items import Item, Sample, answer_text
from trustir.calibration.methods import METHODS
from trustir.calibration.qa import is_correct
from trustir.calibration.report import CalibrationReport, per_question_auroc, per_question_ece
from trustir.lvlm.params import LvlmParams
from trustir.report.table import PER_QUERY_SCHEMA, Table

JUDGED = {
    "row": pl.String,
    "model": pl.String,
    "qid": pl.String,
    "answer": pl.String,
    "confidence": pl.Float64,
    "correct": pl.Int64,
}
COLUMNS = ("ece", "auroc", "brier", "accuracy", "confidence")
CONSISTENCY = "lexical_consistency"


def _sample(row: dict) -> Sample:
    return Sample(row["text"], tuple(row["token_logprobs"]))


def build_items(samples: pl.DataFrame, model: str) -> dict[str, dict[str, Item]]:
    """qid -> {"sampled", "rephrased", "perturbed"} items of ``model``'s replies (a set the
    model has no replies for is left out)."""
    by: dict[str, dict[str, list[dict]]] = {}
    for r in samples.filter(pl.col("model") == model).iter_rows(named=True):
        by.setdefault(r["qid"], {}).setdefault(r["kind"], []).append(r)
    out: dict[str, dict[str, Item]] = {}
    for qid, kinds in sorted(by.items()):
        answers = kinds["answer"]
        greedy = _sample(next(r for r in answers if r["index"] == "greedy"))
        drawn = sorted(
            (r for r in answers if r["index"] != "greedy"), key=lambda r: int(r["index"])
        )
        verbal = kinds.get("verbalized", [{"text": ""}])[0]["text"]
        items = {"sampled": Item(qid, greedy, [_sample(r) for r in drawn], verbalized=verbal)}
        for kind, name in (("rephrased", "rephrased"), ("perturbed", "perturbed")):
            if kinds.get(kind):
                rows = sorted(kinds[kind], key=lambda r: r["index"])
                items[name] = Item(qid, greedy, [_sample(r) for r in rows])
        out[qid] = items
    return out


def judge_all(samples: pl.DataFrame, vqa: pl.DataFrame, p: LvlmParams) -> pl.DataFrame:
    """Every row's answer, confidence and correctness on every question (JUDGED)."""
    gold = dict(vqa.select("qid", "answers").iter_rows())
    rows = []
    for model in p.models:
        items = build_items(samples, model)
        plan = [(f"{model}/{m}", m, "sampled") for m in p.methods]
        plan += [(f"{model}/{CONSISTENCY}@{s}", CONSISTENCY, s) for s in p.consistency_sets]
        for row, method, set_name in plan:
            if not all(set_name in it for it in items.values()):
                continue  # e.g. perturbed images for the text model
            for qid, it in items.items():
                ans, conf = METHODS.get(method).judge(it[set_name], p)
                ok = is_correct(answer_text(ans), gold[qid], p.match)
                rows.append((row, model, qid, ans, float(np.clip(conf, 0, 1)), int(ok)))
    return pl.DataFrame(rows, schema=JUDGED, orient="row")


def metrics_table(judged: pl.DataFrame, p: LvlmParams, title: str, provenance: Any):
    """The table (row x ECE / AUROC / Brier / accuracy / confidence), per-question values."""
    cells: dict[str, dict[str, float | None]] = {}
    pq: list[tuple[str, str, str, float]] = []
    reliability = {}
    for row in dict.fromkeys(judged["row"].to_list()):
        sub = judged.filter(pl.col("row") == row).sort("qid")
        c = sub["confidence"].to_numpy()
        y = sub["correct"].to_numpy().astype(np.float64)
        vals = {
            "ece": per_question_ece(c, y, p.n_bins),
            "auroc": per_question_auroc(c, y),
            "brier": (c - y) ** 2,
            "accuracy": y,
            "confidence": c,
        }
        cell = {
            "ece": M.ece(c, y, p.n_bins),
            "auroc": M.auroc(c, y),
            "brier": M.brier(c, y),
            "accuracy": M.accuracy(y),
            "confidence": M.mean_confidence(c),
        }
        cells[row] = {k: None if np.isnan(v) else float(v) for k, v in cell.items()}
        for col, v in vals.items():
            qx = zip(sub["qid"], v, strict=True)
            pq += [(row, col, q, float(x)) for q, x in qx if not np.isnan(x)]
        reliability[row] = M.reliability(c, y, p.n_bins)
    table = Table(
        name="lvlm",
        title=title,
        cells=cells,
        higher_is_better={c: c not in ("ece", "brier") for c in COLUMNS},
        per_query=pl.DataFrame(pq, schema=PER_QUERY_SCHEMA, orient="row"),
        row_label="model/signal",
        provenance=provenance,
        notes=notes(cells, judged, p),
    )
    details = {"questions": judged["qid"].n_unique(), "match": p.match, "reliability": reliability}
    return CalibrationReport(table, judged, details)


def notes(cells: dict, judged: pl.DataFrame, p: LvlmParams) -> list[str]:
    """The signal check beside the table: each model's accuracy and its best AUROC."""
    out = [
        f"{judged['qid'].n_unique()} VQA questions on rendered world pages; correctness: "
        f"SQuAD-normalised {p.match} match; {p.n} samples, {p.rephrasings} rephrasings, "
        f"perturbations {p.perturbations}; ECE with {p.n_bins} equal-width bins; AUROC is "
        "empty where every answer is right or every answer is wrong."
    ]
    for model in p.models:
        rows = {r: v for r, v in cells.items() if r.startswith(f"{model}/")}
        if not rows:
            continue
        acc = rows.get(f"{model}/{p.methods[0]}", next(iter(rows.values())))["accuracy"]
        aucs = [v["auroc"] for v in rows.values() if v["auroc"] is not None]
        best = f"{max(aucs):.3f}" if aucs else "undefined (one class only)"
        out.append(f"signal check, {model}: greedy accuracy {acc:.3f}; best AUROC {best}.")
    return out


def report_markdown(report: CalibrationReport, vlm_note: str) -> str:
    """reports/lvlm.md: the table, the statement on the offline VLM, the diagrams."""
    plot = "![reliability diagrams](plots/lvlm.png)"
    return "\n".join([report.table.to_markdown(), "", vlm_note, "", plot, ""])
