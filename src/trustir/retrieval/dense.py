"""Dense retrieval: encode corpus and queries, search a faiss inner-product index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from trustir.retrieval.bm25 import document_texts
from trustir.retrieval.encoders import Encoder
from trustir.retrieval.params import DenseParams
from trustir.retrieval.runs import run_from_topk


def build_index(emb: np.ndarray, factory: str = "Flat", nprobe: int = 16, ef_search: int = 128):
    """A faiss inner-product index from a factory string ("Flat", "HNSW32", "IVF256,PQ16np")."""
    import faiss

    emb = np.ascontiguousarray(emb, dtype=np.float32)  # [n_docs, dim]
    index = faiss.index_factory(emb.shape[1], factory, faiss.METRIC_INNER_PRODUCT)
    if not index.is_trained:
        index.train(emb)
    index.add(emb)
    ps = faiss.ParameterSpace()
    if "IVF" in factory:
        ps.set_index_parameter(index, "nprobe", nprobe)
    if "HNSW" in factory:
        ps.set_index_parameter(index, "efSearch", ef_search)
    return index


def search(index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores [n_q, k], positions [n_q, k]; -1 where fewer than k exist)."""
    k = min(k, index.ntotal)
    scores, idx = index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
    return scores, idx


def dense_run(
    corpus: pl.DataFrame,
    queries: pl.DataFrame,
    params: DenseParams,
    depth: int = 100,
    index_path: str | Path | None = None,
    show_progress: bool = True,
) -> pl.DataFrame:
    """Encode, index and search; optionally save the faiss index to ``index_path``."""
    encoder = Encoder(params.model, params.pooling, params.max_length, params.device)
    doc_emb = encoder.encode(
        document_texts(corpus), params.batch_size, show_progress, desc="encoding corpus"
    )  # [n_docs, dim]
    q_emb = encoder.encode(
        queries["text"].to_list(), params.batch_size, show_progress, desc="encoding queries"
    )  # [n_queries, dim]
    index = build_index(doc_emb, params.faiss, params.nprobe, params.ef_search)
    if index_path is not None:
        import faiss

        from trustir.io.atomic import write_with

        write_with(index_path, lambda p: faiss.write_index(index, str(p)))
    scores, idx = search(index, q_emb, depth)
    return run_from_topk(
        queries["query_id"].to_list(), corpus["doc_id"].to_list(), idx, scores, params.name
    )
