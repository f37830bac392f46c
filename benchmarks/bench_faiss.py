"""Top-k search: faiss flat inner-product index vs numpy brute force (matmul + argpartition).

Random unit vectors (MiniLM's 384 dimensions), same queries and k, one process, best of 3.
"""

from __future__ import annotations

import os

import numpy as np
from _common import best_times_interleaved, report

N_DOCS, N_QUERIES, DIM, K = int(os.environ.get("BENCH_DOCS", 50_000)), 1000, 384, 100


def numpy_topk(docs: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    scores = queries @ docs.T  # [n_q, n_docs]
    part = np.argpartition(-scores, k, axis=1)[:, :k]  # [n_q, k] unordered
    top = np.take_along_axis(scores, part, 1)
    order = np.argsort(-top, axis=1)
    return np.take_along_axis(top, order, 1), np.take_along_axis(part, order, 1)


def main() -> None:
    from trustir.retrieval.dense import build_index, search

    rng = np.random.default_rng(0)
    docs = rng.standard_normal((N_DOCS, DIM)).astype(np.float32)
    docs /= np.linalg.norm(docs, axis=1, keepdims=True)
    queries = rng.standard_normal((N_QUERIES, DIM)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    index = build_index(docs, "Flat")
    _, i_f = search(index, queries, K)
    _, i_n = numpy_topk(docs, queries, K)
    agree = np.mean([len(set(a) & set(b)) / K for a, b in zip(i_f, i_n, strict=True)])
    assert agree > 0.999, f"faiss and numpy disagree ({agree:.4f})"
    t_f, t_n = best_times_interleaved(
        lambda: search(index, queries, K), lambda: numpy_topk(docs, queries, K)
    )
    print(f"{N_DOCS} docs x {N_QUERIES} queries, dim {DIM}, k {K}")
    report("search", t_f, t_n, "numpy")


if __name__ == "__main__":
    main()
