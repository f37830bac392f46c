"""Fan-out of the annotate stage's LLM judging on Dask: 2 workers x 1 thread vs 1 x 1 (issue 18).

The annotate stage's own work (``judge_shard``: the default query-likelihood judge, SmolLM2-135M
on CPU, the label store) on mini-world queries and their top BM25 documents, cut into shards of
whole flush batches. Each configuration gets its own LocalCluster (``OMP_NUM_THREADS=1`` per
worker, so two workers do not fight over the cores), warmed first (the model loaded once per
worker, as a stage's first shard would), then timed over a fresh label store each repeat (every
pair computed), best of ``BENCH_REPEAT`` (default 1). Checks that both give the same labels.
Goal: ratio >= 1.6. ``BENCH_QUERIES`` (default 4, x 8 documents) sets the size.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
N_QUERIES = int(os.environ.get("BENCH_QUERIES", 4))
REPEAT = int(os.environ.get("BENCH_REPEAT", 1))
DOCS_PER_QUERY = 8
SHARD = 8  # pairs per shard (= flush_every): 4 shards, 2 per worker of two


def pairs():
    """Mini-world queries and each one's top BM25 documents, as the stage pools them."""
    import polars as pl

    from trustir.retrieval.bm25 import bm25_run, document_texts
    from trustir.retrieval.params import Bm25Params
    from trustir.sources.world import generate_world

    world = generate_world(1.0, 13)
    queries = world["queries"].sort("query_id").head(N_QUERIES)
    run = bm25_run(world["corpus"], queries, Bm25Params(), DOCS_PER_QUERY, show_progress=False)
    texts = dict(zip(world["corpus"]["doc_id"], document_texts(world["corpus"]), strict=True))
    qtext = dict(zip(queries["query_id"], queries["text"], strict=True))
    rows = [(q, d, qtext[q], texts[d]) for q, d in run.select("query_id", "doc_id").rows()]
    return pl.DataFrame(rows, schema=["query_id", "doc_id", "query", "doc"], orient="row")


def _warm(llm) -> None:
    from trustir.llm.config import make_backend

    make_backend(llm)  # cached per worker process


def timed(workers: int, frame, llm, store_dir: Path) -> tuple[float, object]:
    """Best of REPEAT wall times of judging every pair on ``workers`` warmed workers; the labels."""
    from trustir.annotate.params import AnnotateParams
    from trustir.annotate.relevance_labels import judge_shard
    from trustir.scale.fanout import dask_client, fan_out
    from trustir.scale.params import FanoutParams

    fanout = FanoutParams(workers=workers, threads_per_worker=1, shard_size=SHARD)
    shards = [frame.slice(i, SHARD) for i in range(0, frame.height, SHARD)]
    best, labels = float("inf"), None
    with dask_client(fanout) as client:
        client.run(_warm, llm)
        for rep in range(REPEAT):
            store = store_dir / f"w{workers}-{rep}.sqlite"
            annotate = AnnotateParams(store=str(store), flush_every=SHARD)
            t0 = time.perf_counter()
            out = fan_out(judge_shard, shards, fanout, client=client, annotate=annotate, llm=llm)
            best = min(best, time.perf_counter() - t0)
            labels = [lab.drop("created_at", "latency_ms") for lab, _ in out]
    return best, labels


def main() -> None:
    from trustir.llm.config import LLMParams

    frame, llm = pairs(), LLMParams(device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        t1, one = timed(1, frame, llm, Path(tmp))
        t2, two = timed(2, frame, llm, Path(tmp))
    assert all(a.equals(b) for a, b in zip(one, two, strict=True)), "labels differ"
    print(f"{frame.height} pairs, {frame.height // SHARD} shards, cpus={os.cpu_count()}")
    print(f"1 worker x 1 thread: {t1:.1f} s; 2 workers x 1 thread: {t2:.1f} s")
    print(f"speed-up of 2 workers: {t1 / t2:.2f}x (goal >= 1.6)")


if __name__ == "__main__":
    main()
