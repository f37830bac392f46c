"""Scoring one embedding model on every task's evaluation subset (PAPERS.md P5).

The model is loaded once; per task, its corpus subset and test queries are embedded, documents
ranked by inner product (exact), and the measure computed with ir_measures
(``trustir.evaluate``). In-domain and out-of-domain scores are macro means over their tasks, as
MTEB averages over tasks.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from trustir.evaluate.measures import evaluate_run
from trustir.io.atomic import write_parquet
from trustir.io.runlog import read_run_record, write_run_record
from trustir.io.stable import round_values, write_metrics
from trustir.retrieval.bm25 import document_texts
from trustir.retrieval.runs import run_from_topk

if TYPE_CHECKING:
    from trustir.retrieval.multipos import EvalSet


@dataclass(frozen=True)
class RowResult:
    """One row of the BOOM table: scores per task, per-query values and the training cost."""

    row: str
    scores: dict[str, float]  # task -> measure
    per_query: pl.DataFrame  # task, query_id, value
    train_examples: int
    seconds: float  # training (+ merging) wall time: a run figure (NaN when not recorded here)
    info: dict[str, Any] = field(default_factory=dict)

    def save(self, out_dir: str | Path) -> None:
        """``metrics.json`` and ``per_query.parquet`` in ``out_dir`` (results only); the wall
        seconds (``seconds`` and every ``*_seconds`` info key) go to the run ledger."""
        out_dir = Path(out_dir)
        write_parquet(round_values(self.per_query), out_dir / "per_query.parquet")
        timing = {k: v for k, v in self.info.items() if k.endswith("seconds")}
        meta = {
            "row": self.row,
            "scores": self.scores,
            "train_examples": self.train_examples,
            **{k: v for k, v in self.info.items() if k not in timing},
        }
        write_metrics(meta, out_dir / "metrics.json")
        write_run_record(out_dir, {"seconds": round(self.seconds, 3), **timing})

    @classmethod
    def load(cls, out_dir: str | Path) -> RowResult:
        out_dir = Path(out_dir)
        for name in ("metrics.json", "per_query.parquet"):
            if not (out_dir / name).exists():
                raise FileNotFoundError(f"{out_dir / name} is missing: run its stage first")
        import json

        meta = json.loads((out_dir / "metrics.json").read_text())
        row, scores = meta.pop("row"), meta.pop("scores")
        examples = int(meta.pop("train_examples"))
        seconds = float(read_run_record(out_dir).get("seconds", math.nan))
        return cls(
            row, scores, pl.read_parquet(out_dir / "per_query.parquet"), examples, seconds, meta
        )


def rank_exact(
    q_emb: np.ndarray,  # [n_q, dim]
    d_emb: np.ndarray,  # [n_d, dim]
    query_ids: Sequence[str],
    doc_ids: Sequence[str],
    depth: int,
    name: str,
) -> pl.DataFrame:
    """The top ``depth`` documents per query by inner product, as a run table."""
    scores = q_emb @ d_emb.T  # [n_q, n_d]
    k = min(depth, scores.shape[1])
    idx = np.argsort(-scores, axis=1, kind="stable")[:, :k]  # [n_q, k]
    return run_from_topk(query_ids, doc_ids, idx, np.take_along_axis(scores, idx, 1), name)


def score_tasks(
    model: str,
    evals: Mapping[str, EvalSet],
    measure: str,
    pooling: str = "mean",
    max_length: int = 256,
    batch_size: int = 64,
    device: str = "auto",
    depth: int = 100,
) -> tuple[dict[str, float], pl.DataFrame]:
    """``({task: mean measure}, per_query[task, query_id, value])`` of ``model`` (an id, alias
    or folder) on each task's evaluation subset."""
    from trustir.retrieval.encoders import Encoder

    encoder = Encoder(model, pooling, max_length, device)
    scores, parts = {}, []
    for task, ev in evals.items():
        d_emb = encoder.encode(document_texts(ev.corpus), batch_size, False)  # [n_d, dim]
        q_emb = encoder.encode(ev.queries["text"].to_list(), batch_size, False)  # [n_q, dim]
        run = rank_exact(
            q_emb,
            d_emb,
            ev.queries["query_id"].to_list(),
            ev.corpus["doc_id"].to_list(),
            depth,
            task,
        )
        agg, per_query = evaluate_run(run, ev.qrels, [measure], min_rel=1)
        scores[task] = agg[measure]
        parts.append(
            per_query.select(pl.lit(task).alias("task"), "query_id", "value").sort("query_id")
        )
    return scores, pl.concat(parts)


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    """``(fn(*args, **kwargs), seconds)``."""
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0
