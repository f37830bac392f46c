"""Agreement of LLM labels with ground truth: Cohen's kappa, precision and recall of positives."""

from __future__ import annotations

import numpy as np
import polars as pl


def cohen_kappa(a: np.ndarray, b: np.ndarray, n_classes: int) -> float:
    """Cohen's kappa of two integer labelings on 0..n_classes-1 (1 = perfect, 0 = chance)."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)  # [n], [n]
    if a.size == 0:
        return float("nan")
    conf = np.zeros((n_classes, n_classes))
    np.add.at(conf, (a, b), 1.0)
    conf /= conf.sum()
    p_obs = np.trace(conf)
    p_exp = float(conf.sum(1) @ conf.sum(0))
    return float((p_obs - p_exp) / (1 - p_exp)) if p_exp < 1 else 1.0


def agreement(
    llm_qrels: pl.DataFrame, truth_qrels: pl.DataFrame, min_rel: int, n_grades: int = 4
) -> dict[str, float]:
    """Kappa on the grade scale and precision/recall of positives (grade >= ``min_rel``).

    Every judged pair counts; a pair with no ground-truth row has grade 0.
    """
    truth = truth_qrels.group_by("query_id", "doc_id").agg(pl.col("relevance").max().alias("truth"))
    j = (
        llm_qrels.select("query_id", "doc_id", "relevance")
        .join(truth, on=["query_id", "doc_id"], how="left")
        .with_columns(pl.col("truth").fill_null(0).clip(0, n_grades - 1))
    )
    llm = j["relevance"].clip(0, n_grades - 1).to_numpy()
    gt = j["truth"].to_numpy()
    llm_pos, gt_pos = llm >= min_rel, gt >= min_rel
    tp = int((llm_pos & gt_pos).sum())
    kappa = cohen_kappa(llm, gt, n_grades)
    return {  # None where undefined (no positives), so the metrics file stays valid JSON
        "kappa": None if np.isnan(kappa) else kappa,
        "precision": tp / int(llm_pos.sum()) if llm_pos.any() else None,
        "recall": tp / int(gt_pos.sum()) if gt_pos.any() else None,
        "pairs": int(j.height),
    }
