"""Mini-world difficulty: BM25 nDCG@10 (test queries) vs a name-only ranker, over a few seeds.

The name-only peer ranks every document that names the queried entity (all judged documents) in
random order: what a retriever gets from the entity name alone. DESIGN.md wants BM25 well inside
0.3-0.8 on the default world. ``WORLD_SEEDS`` (default "13,1,2") and ``WORLD_SCALE`` (1.0).
"""

from __future__ import annotations

import os
import time

import numpy as np
import polars as pl

from trustir.sources.world import generate_world


def ndcg10(qrels: pl.DataFrame, run: list[tuple[str, str, float]]) -> float:
    import ir_measures

    q = [
        ir_measures.Qrel(a, b, c)
        for a, b, c in qrels.select("query_id", "doc_id", "relevance").rows()
    ]
    r = [ir_measures.ScoredDoc(a, b, s) for a, b, s in run]
    return ir_measures.calc_aggregate([ir_measures.nDCG @ 10], q, r)[ir_measures.nDCG @ 10]


def bm25(corpus: pl.DataFrame, queries: pl.DataFrame) -> list[tuple[str, str, float]]:
    import bm25s

    texts = [f"{t} {x}" for t, x in corpus.select("title", "text").rows()]
    retriever = bm25s.BM25(k1=0.9, b=0.4)
    retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
    tokens = bm25s.tokenize(queries["text"].to_list(), stopwords="en", show_progress=False)
    idx, scores = retriever.retrieve(tokens, k=100, show_progress=False, n_threads=1)
    ids = corpus["doc_id"].to_list()
    return [
        (q, ids[i], float(s))
        for q, row_i, row_s in zip(queries["query_id"].to_list(), idx, scores, strict=True)
        for i, s in zip(row_i.tolist(), row_s.tolist(), strict=True)
        if s > 0
    ]


def name_only(qrels: pl.DataFrame, seed: int) -> list[tuple[str, str, float]]:
    rng = np.random.default_rng(seed)
    return [(q, d, float(rng.random())) for q, d in qrels.select("query_id", "doc_id").rows()]


def main() -> None:
    seeds = [int(s) for s in os.environ.get("WORLD_SEEDS", "13,1,2").split(",")]
    scale = float(os.environ.get("WORLD_SCALE", "1.0"))
    for seed in seeds:
        t = time.perf_counter()
        world = generate_world(scale=scale, seed=seed)
        gen_s = time.perf_counter() - t
        test = world["queries"].filter(pl.col("split") == "test")
        qrels = (
            world["qrels"].filter(pl.col("source") == "world").join(test, on="query_id", how="semi")
        )
        ours, peer = (
            ndcg10(qrels, bm25(world["corpus"], test)),
            ndcg10(qrels, name_only(qrels, seed)),
        )
        print(
            f"seed {seed} scale {scale}: {world['corpus'].height} docs, {test.height} test queries,"
            f" generated in {gen_s:.2f}s; nDCG@10 bm25 {ours:.3f}  name-only {peer:.3f}  "
            f"ratio bm25/name-only = {ours / peer:.2f}"
        )


if __name__ == "__main__":
    main()
