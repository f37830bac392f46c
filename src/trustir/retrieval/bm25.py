"""BM25 first-stage retrieval with bm25s (Lucene scoring, BEIR's k1=0.9, b=0.4 by default)."""

from __future__ import annotations

import numpy as np
import polars as pl

from trustir.retrieval.params import Bm25Params
from trustir.retrieval.runs import run_from_topk


def document_texts(corpus: pl.DataFrame) -> list[str]:
    """Documents as retrievers see them: title + " " + text (BEIR's convention)."""
    return (
        corpus.select(
            pl.concat_str(
                [pl.col("title").fill_null(""), pl.col("text")], separator=" "
            ).str.strip_chars()
        )
        .to_series()
        .to_list()
    )


def _tokenize(texts: list[str], params: Bm25Params, show_progress: bool):
    import bm25s

    stemmer = None
    if params.stemmer:
        import Stemmer

        stemmer = Stemmer.Stemmer(params.stemmer)
    return bm25s.tokenize(
        texts,
        stopwords=params.stopwords or [],
        stemmer=stemmer,
        show_progress=show_progress,
    )


def bm25_run(
    corpus: pl.DataFrame,
    queries: pl.DataFrame,
    params: Bm25Params,
    depth: int = 100,
    name: str = "bm25",
    show_progress: bool = True,
) -> pl.DataFrame:
    """Index ``corpus`` and retrieve the top ``depth`` documents for every query as a run table."""
    import bm25s

    doc_ids = corpus["doc_id"].to_list()
    retriever = bm25s.BM25(k1=params.k1, b=params.b, method=params.method)
    retriever.index(_tokenize(document_texts(corpus), params, show_progress), show_progress=False)
    q_tokens = _tokenize(queries["text"].to_list(), params, show_progress=False)
    k = min(depth, len(doc_ids))
    idx, scores = retriever.retrieve(q_tokens, k=k, show_progress=show_progress, n_threads=1)
    idx = np.asarray(idx, dtype=np.int64)  # [n_queries, k]
    scores = np.asarray(scores, dtype=np.float64)  # [n_queries, k]
    idx[scores <= 0] = -1  # bm25s pads with zero-score documents when few match
    return run_from_topk(queries["query_id"].to_list(), doc_ids, idx, scores, name)
