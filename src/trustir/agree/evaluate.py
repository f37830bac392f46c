"""ViDoRe-style evaluation: every test query against the searched pages by MaxSim, nDCG@1 and
nDCG@5 per query (ir_measures through ``trustir.evaluate.measures``)."""

from __future__ import annotations

import numpy as np
import polars as pl
import torch

from trustir.agree.retriever import LateInteractionRetriever
from trustir.agree.scoring import maxsim
from trustir.evaluate.measures import evaluate_run

MEASURES = ("nDCG@1", "nDCG@5")
DEPTH = 10


@torch.no_grad()
def embed_queries(model: LateInteractionRetriever, texts: list[str], batch_size: int = 64):
    """``(N, Lmax, D)`` zero-padded query embeddings of ``texts``."""
    starts = range(0, len(texts), batch_size)
    parts = [model.encode_queries(texts[i : i + batch_size])[0] for i in starts]
    width = max(e.shape[1] for e in parts)
    return torch.cat([torch.nn.functional.pad(e, (0, 0, width - e.shape[1], 0)) for e in parts])


@torch.no_grad()
def embed_pages(model: LateInteractionRetriever, features, grid_thw, batch_size: int = 32):
    """``(N, P, D)`` patch embeddings of pages given their frozen visual features."""
    return torch.cat([model.encode_pages(features[i : i + batch_size], grid_thw)
                      for i in range(0, features.shape[0], batch_size)])  # fmt: skip


def ranked_run(scores: np.ndarray, query_ids: list[str], page_ids: list[str], run: str):
    """The top ``DEPTH`` pages of each query as a run table (ties broken by page order)."""
    rows = []
    for qi, qid in enumerate(query_ids):
        order = np.argsort(-scores[qi], kind="stable")[:DEPTH]
        rows += [(qid, page_ids[j], float(scores[qi, j]), r + 1, run) for r, j in enumerate(order)]
    schema = {"query_id": pl.String, "doc_id": pl.String, "score": pl.Float64, "rank": pl.Int64,
              "run": pl.String}  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")


def evaluate_retriever(
    model: LateInteractionRetriever,
    queries: pl.DataFrame,
    qrels: pl.DataFrame,
    page_ids: list[str],
    features: torch.Tensor,
    grid_thw: torch.Tensor,
    row: str,
) -> tuple[dict[str, float], pl.DataFrame]:
    """Means and per-query values (query_id, measure, value) of ``MEASURES`` for ``queries``
    (the test split) over the pages ``page_ids`` (their features in that order)."""
    model.eval()
    scores = maxsim(embed_queries(model, queries["text"].to_list()),
                    embed_pages(model, features, grid_thw)).cpu().numpy()  # fmt: skip
    run = ranked_run(scores, queries["query_id"].to_list(), page_ids, row)
    judged = qrels.join(queries.select("query_id"), on="query_id", how="semi")
    return evaluate_run(run, judged, list(MEASURES), min_rel=1)
