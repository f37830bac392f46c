"""PageRank over a directed graph by sparse power iteration (P1 DomainAuth ground truth).

networkx's conventions (so ``networkx.pagerank`` is the test peer, equal to 1e-8): a repeated edge
counts once, a self-loop is an ordinary edge, the rank of a dangling node (no out-link) is spread
uniformly over all nodes, teleportation is uniform, and iteration stops when the L1 change falls
below ``n * tol``. Returns a probability vector (sums to 1).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy import sparse


class PageRankError(RuntimeError):
    """PageRank did not converge within ``max_iter`` iterations."""


def pagerank(
    n: int,
    src: Sequence[int] | np.ndarray,
    dst: Sequence[int] | np.ndarray,
    damping: float = 0.85,
    tol: float = 1e-12,
    max_iter: int = 1000,
) -> np.ndarray:
    """PageRank ``[n]`` of the graph with edges ``src[i] -> dst[i]`` (node ids 0..n-1)."""
    if not 0.0 <= damping < 1.0:
        raise ValueError(f"damping must be in [0, 1), got {damping}")
    src = np.asarray(src, dtype=np.int64)  # [E]
    dst = np.asarray(dst, dtype=np.int64)  # [E]
    if src.shape != dst.shape:
        raise ValueError(f"src and dst differ in length: {src.shape} vs {dst.shape}")
    if n == 0:
        return np.zeros(0)
    if src.size and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n):
        raise ValueError(f"edge endpoints must lie in 0..{n - 1}")
    adj = sparse.csr_matrix((np.ones(src.size), (src, dst)), shape=(n, n))  # [n, n]
    adj.data[:] = 1.0  # duplicates were summed on construction: each edge counts once
    out_deg = np.asarray(adj.sum(axis=1)).ravel()  # [n]
    dangling = out_deg == 0  # [n]
    inv = np.divide(1.0, out_deg, out=np.zeros(n), where=~dangling)
    trans = (sparse.diags(inv) @ adj).T.tocsr()  # [n, n] column-stochastic but dangling columns
    x = np.full(n, 1.0 / n)  # [n]
    for _ in range(max_iter):
        prev = x
        x = damping * (trans @ prev + prev[dangling].sum() / n) + (1.0 - damping) / n
        if np.abs(x - prev).sum() < n * tol:
            return x / x.sum()
    raise PageRankError(f"PageRank did not converge in {max_iter} iterations (tol {tol})")


def pagerank_table(
    links: pl.DataFrame,
    nodes: Sequence[str] | None = None,
    damping: float = 0.85,
    tol: float = 1e-12,
    max_iter: int = 1000,
) -> pl.DataFrame:
    """``(node, pagerank)`` for a ``links`` table (src, dst names), sorted by node.

    ``nodes`` adds nodes without links (they are dangling); by default the nodes are those the
    links name.
    """
    for col in ("src", "dst"):
        if col not in links.columns:
            raise ValueError(f"links table lacks column {col!r}")
    names = sorted(set(nodes or []) | set(links["src"].to_list()) | set(links["dst"].to_list()))
    index = {name: i for i, name in enumerate(names)}
    src = [index[s] for s in links["src"].to_list()]
    dst = [index[d] for d in links["dst"].to_list()]
    pr = pagerank(len(names), src, dst, damping=damping, tol=tol, max_iter=max_iter)
    return pl.DataFrame(
        {"node": names, "pagerank": pr}, schema={"node": pl.String, "pagerank": pl.Float64}
    )
