"""Clicks facet: a query log of search sessions with simulated clicks (P8, DESIGN.md).

Each query is searched ``round(freq * sessions_per_freq)`` times (at least once, at most
``max_sessions_per_query``); its frequencies are the queries facet's Zipf ``freq`` (a source
without them gets Zipf frequencies over a seeded order, :func:`assign_frequencies`).

What a session shows: the query's *production ranking* is a plain Okapi BM25 over lowercased
words of title + text, computed here (k1 0.9, b 0.4, no stemming, a few stopwords): its top
``pool`` documents. A session shows the top ``list_size`` of them, or, with probability
``explore``, ``list_size`` documents drawn from the pool in random order (the log's
randomisation, which lets click models separate position from relevance).

Who clicks: a cascade user (the DBN of Chapelle and Zhang 2009). At rank 1 the user examines
the result; an examined result is clicked with its attractiveness, a clicked one satisfies with
its satisfaction (the user stops), otherwise the user moves on with probability
``continuation``. Attractiveness depends on the hidden true grade (0-3) *and* on the authority
of the document's domain: ``attractiveness[grade] * (1 + authority_boost * (level - 3))``,
capped at 0.99 — so clicks carry a document-level authority signal (as P8 finds), and since
wrong facts concentrate on low-authority domains, they separate grade 3 from grade 2 a little.
Satisfaction depends on the grade only. Documents the truth does not grade are grade 0.

Draws come from the ``clicks`` stream (``facet_rng(seed, "clicks")``), queries in id order; the
facet only reads the other facets' tables, so it changes none of their bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy import sparse

from trustir.sources.world.queries import FREQ_EXPONENT, FREQ_TOP
from trustir.text import words

#: sessions table (DESIGN.md contract) plus ``seq``, the session's order within its query.
SESSIONS = {
    "session_id": pl.String,
    "query_id": pl.String,
    "rank": pl.Int64,
    "doc_id": pl.String,
    "clicked": pl.Boolean,
    "seq": pl.Int64,
}
#: the production ranker's BM25 settings (its words: :func:`trustir.text.words`).
K1, B = 0.9, 0.4
#: cap of attractiveness after the authority factor.
MAX_ATTRACTIVENESS = 0.99
NEUTRAL_LEVEL = 3


def assign_frequencies(queries: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """(query_id, freq): the queries' own ``freq``, or Zipf frequencies (as the queries facet
    draws them: ``FREQ_TOP * rank ** -FREQ_EXPONENT``) over a random order when it is missing."""
    if "freq" in queries.columns and queries["freq"].null_count() == 0:
        return queries.select("query_id", pl.col("freq").cast(pl.Int64))
    ids = sorted(queries["query_id"].to_list())
    order = rng.permutation(len(ids))
    freq = [max(1, int(round(FREQ_TOP * (int(r) + 1) ** -FREQ_EXPONENT))) for r in order]
    return pl.DataFrame(
        {"query_id": ids, "freq": freq}, schema={"query_id": pl.String, "freq": pl.Int64}
    )


def production_ranking(
    queries: pl.DataFrame, corpus: pl.DataFrame, depth: int, chunk: int = 256
) -> dict[str, list[str]]:
    """query_id -> the top ``depth`` doc ids of the facet's own BM25 (ties by corpus order)."""
    doc_ids = corpus["doc_id"].to_list()
    texts = [f"{t or ''} {x or ''}" for t, x in corpus.select("title", "text").iter_rows()]
    vocab: dict[str, int] = {}
    rows, cols, vals = [], [], []
    lengths = np.zeros(len(texts), dtype=np.float64)
    for i, text in enumerate(texts):
        toks = words(text)
        lengths[i] = len(toks)
        counts: dict[int, int] = {}
        for w in toks:
            j = vocab.setdefault(w, len(vocab))
            counts[j] = counts.get(j, 0) + 1
        rows += [i] * len(counts)
        cols += list(counts)
        vals += list(counts.values())
    n_docs = len(texts)
    tf = sparse.csr_matrix(
        (vals, (rows, cols)), shape=(n_docs, max(len(vocab), 1)), dtype=np.float64
    )
    df = np.bincount(tf.indices, minlength=tf.shape[1])
    idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5))
    norm = K1 * (1 - B + B * lengths / max(lengths.mean(), 1e-9))  # [n_docs]
    weights = tf.copy()
    row_of = np.repeat(np.arange(n_docs), np.diff(tf.indptr))
    weights.data = idf[tf.indices] * tf.data * (K1 + 1) / (tf.data + norm[row_of])
    weights = weights.astype(np.float32).tocsr()  # [n_docs, vocab]
    qids = queries["query_id"].to_list()
    out: dict[str, list[str]] = {}
    depth = min(depth, n_docs)
    for start in range(0, len(qids), chunk):
        part = queries[start : start + chunk]
        q_rows, q_cols = [], []
        for k, text in enumerate(part["text"].to_list()):
            js = sorted({vocab[w] for w in words(text) if w in vocab})
            q_rows += [k] * len(js)
            q_cols += js
        qmat = sparse.csr_matrix(
            (np.ones(len(q_rows), dtype=np.float32), (q_rows, q_cols)),
            shape=(part.height, weights.shape[1]),
        )
        scores = np.asarray((weights @ qmat.T).todense())  # [n_docs, queries in chunk]
        for k, qid in enumerate(part["query_id"].to_list()):
            top = np.argsort(-scores[:, k], kind="stable")[:depth]
            out[qid] = [doc_ids[i] for i in top]
    return out


def _cascade(
    alpha: np.ndarray, sigma: np.ndarray, continuation: float, rng: np.random.Generator
) -> np.ndarray:
    """Clicks [n, L] of the DBN cascade given attractiveness and satisfaction [n, L]."""
    n, length = alpha.shape
    u_click, u_sat, u_go = rng.random((3, n, length))
    examined = np.ones(n, dtype=bool)
    clicks = np.zeros((n, length), dtype=bool)
    for r in range(length):
        c = examined & (u_click[:, r] < alpha[:, r])
        clicks[:, r] = c
        satisfied = c & (u_sat[:, r] < sigma[:, r])
        examined = examined & ~satisfied & (u_go[:, r] < continuation)
    return clicks


def simulate_click_log(
    queries: pl.DataFrame,
    corpus: pl.DataFrame,
    truth: pl.DataFrame,
    levels: pl.DataFrame | None,
    rng: np.random.Generator,
    *,
    sessions_per_freq: float = 1.0,
    max_sessions_per_query: int = 2000,
    list_size: int = 10,
    pool: int = 20,
    explore: float = 0.3,
    attractiveness: Sequence[float] = (0.05, 0.2, 0.55, 0.7),
    authority_boost: float = 0.15,
    satisfaction: Sequence[float] = (0.0, 0.1, 0.4, 0.7),
    continuation: float = 0.9,
) -> pl.DataFrame:
    """The query log: one row per shown result (``SESSIONS``), sessions in log order.

    ``queries``: query_id, text, freq (see :func:`assign_frequencies`); ``truth``: query_id,
    doc_id, relevance (0-3, the hidden grades); ``levels``: doc_id, level (1-5) of the
    document's domain, or None (every document at the neutral level 3).
    """
    if queries.height == 0 or corpus.height == 0:
        raise ValueError("simulate_click_log: no queries or no documents")
    queries = queries.sort("query_id")
    ranking = production_ranking(queries, corpus, pool)
    grades = {
        (q, d): int(r) for q, d, r in truth.select("query_id", "doc_id", "relevance").iter_rows()
    }
    level_of = dict(levels.select("doc_id", "level").iter_rows()) if levels is not None else {}
    attr = np.asarray(attractiveness, dtype=np.float64)
    sat = np.asarray(satisfaction, dtype=np.float64)
    parts = []
    for qid, freq in queries.select("query_id", "freq").iter_rows():
        docs = ranking[qid]
        size = min(list_size, len(docs))
        n = int(min(max_sessions_per_query, max(1, round(freq * sessions_per_freq))))
        g = np.array([min(3, max(0, grades.get((qid, d), 0))) for d in docs])
        lv = np.array([level_of.get(d, NEUTRAL_LEVEL) or NEUTRAL_LEVEL for d in docs], dtype=float)
        a_doc = np.minimum(
            attr[g] * (1 + authority_boost * (lv - NEUTRAL_LEVEL)), MAX_ATTRACTIVENESS
        )
        shown = np.tile(np.arange(size), (n, 1))  # [n, size] indices into docs
        explored = rng.random(n) < explore
        if explored.any():
            keys = rng.random((int(explored.sum()), len(docs)))
            shown[explored] = np.argsort(keys, axis=1)[:, :size]
        clicks = _cascade(a_doc[shown], sat[g][shown], continuation, rng)
        doc_arr = np.asarray(docs, dtype=object)[shown]
        seq = np.repeat(np.arange(n), size)
        parts.append(
            pl.DataFrame(
                {
                    "session_id": [f"{qid}:{k}" for k in seq.tolist()],
                    "query_id": [qid] * (n * size),
                    "rank": np.tile(np.arange(1, size + 1), n),
                    "doc_id": doc_arr.ravel().tolist(),
                    "clicked": clicks.ravel(),
                    "seq": seq,
                },
                schema=SESSIONS,
            )
        )
    return pl.concat(parts)
