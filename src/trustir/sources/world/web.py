"""Web facet: domains, a preferential-attachment link graph, PageRank and authority levels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import sparse

from trustir.schema import conform
from trustir.sources.world import lexicon as lx
from trustir.sources.world.entities import quantile_levels

DAMPING = 0.85
#: probability that a linked-to domain links back.
RECIPROCITY = 0.15
#: mean number of out-links of a new domain (Poisson; zero makes a dangling domain).
MEAN_OUT_LINKS = 1.8


@dataclass(frozen=True)
class Web:
    """The web facet: ``domains`` (domain, pagerank, level) and ``links`` (src, dst)."""

    domains: pl.DataFrame
    links: pl.DataFrame


def domain_names(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` distinct names such as "riverdale-health.org"."""
    names: list[str] = []
    taken: set[str] = set()
    for _ in range(n):
        tries = 0
        while True:
            head = lx.DOMAIN_HEAD[int(rng.integers(len(lx.DOMAIN_HEAD)))]
            tail = lx.DOMAIN_TAIL[int(rng.integers(len(lx.DOMAIN_TAIL)))]
            tld = lx.DOMAIN_TLD[int(rng.integers(len(lx.DOMAIN_TLD)))]
            sep = "-" if rng.random() < 0.5 else ""
            suffix = str(tries) if tries >= 20 else ""
            name = f"{head}{sep}{tail}{suffix}.{tld}"
            tries += 1
            if name not in taken:
                break
        taken.add(name)
        names.append(name)
    return names


def preferential_links(n: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """Directed edges (src, dst) among ``n`` nodes grown by preferential attachment.

    Node i links to a Poisson number of earlier nodes chosen with probability proportional to
    (in-degree + 1); each target links back with probability ``RECIPROCITY``. Early nodes
    collect many in-links (high PageRank); a node may have no out-link (dangling).
    """
    seeds = min(3, n)
    edges = {(i, j) for i in range(seeds) for j in range(seeds) if i != j}
    indeg = np.zeros(n, dtype=np.float64)
    for _, j in edges:
        indeg[j] += 1
    for i in range(seeds, n):
        m = min(i, int(rng.poisson(MEAN_OUT_LINKS)))
        weights = indeg[:i] + 1.0
        targets = sorted(rng.choice(i, size=m, replace=False, p=weights / weights.sum()).tolist())
        back = rng.random(m) < RECIPROCITY
        for t, b in zip(targets, back.tolist(), strict=True):
            edges.add((i, t))
            indeg[t] += 1
            if b:
                edges.add((t, i))
                indeg[i] += 1
    return sorted(edges)


def pagerank(
    n: int,
    src: np.ndarray,
    dst: np.ndarray,
    damping: float = DAMPING,
    tol: float = 1e-12,
    max_iter: int = 1000,
) -> np.ndarray:
    """PageRank of a directed graph by sparse power iteration (networkx's conventions).

    Duplicate edges count once; the rank of dangling nodes (no out-link) is spread uniformly;
    stops when the L1 change is below ``n * tol``. Returns a vector that sums to 1.
    """
    if n == 0:
        return np.zeros(0)
    adj = sparse.csr_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    adj.data[:] = 1.0  # duplicates were summed: count each edge once
    out = np.asarray(adj.sum(axis=1)).ravel()
    dangling = out == 0
    inv = np.divide(1.0, out, out=np.zeros(n), where=~dangling)
    trans = (sparse.diags(inv) @ adj).T.tocsr()  # column-stochastic except dangling columns
    x = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        prev = x
        x = damping * (trans @ prev + prev[dangling].sum() / n) + (1.0 - damping) / n
        if np.abs(x - prev).sum() < n * tol:
            break
    else:
        raise RuntimeError(f"PageRank did not converge in {max_iter} iterations")
    return x / x.sum()


def generate_web(n_domains: int, rng: np.random.Generator) -> Web:
    """The web facet: ``n_domains`` domains, their links, PageRank and levels 1 (low) .. 5."""
    names = domain_names(n_domains, rng)
    edges = preferential_links(n_domains, rng)
    src = np.array([s for s, _ in edges], dtype=np.int64)
    dst = np.array([d for _, d in edges], dtype=np.int64)
    pr = pagerank(n_domains, src, dst)
    domains = conform(
        pl.DataFrame({"domain": names, "pagerank": pr, "level": quantile_levels(pr)}),
        "domains",
    ).sort("domain")
    links = conform(
        pl.DataFrame(
            {"src": [names[s] for s in src.tolist()], "dst": [names[d] for d in dst.tolist()]},
            schema={"src": pl.String, "dst": pl.String},
        ),
        "links",
    ).sort(["src", "dst"])
    return Web(domains=domains, links=links)
