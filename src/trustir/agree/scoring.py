"""Late-interaction scores (ColBERT / ColPali MaxSim) and AGREE's per-patch similarity s_j.

Token and patch embeddings are zero on padding (as colpali-engine requires), so a padded query
token adds 0 to MaxSim and padded patches never win a max over real ones with positive scores.
"""

from __future__ import annotations

import torch


def maxsim(queries: torch.Tensor, pages: torch.Tensor, chunk: int = 256) -> torch.Tensor:
    """MaxSim ``S(q, d) = sum_i max_j <E_q^i, E_d^j>``: ``(Nq, Lq, D) x (Nd, P, D) -> (Nq, Nd)``,
    computed ``chunk`` pages at a time (bounds the (Nq, chunk, Lq, P) intermediate)."""
    out = []
    for start in range(0, pages.shape[0], chunk):
        block = pages[start : start + chunk]  # (c, P, D)
        sim = torch.einsum("qld,cpd->qclp", queries, block)  # (Nq, c, Lq, P)
        out.append(sim.amax(dim=3).sum(dim=2))  # (Nq, c)
    return torch.cat(out, dim=1)


def query_lengths(query_mask: torch.Tensor) -> torch.Tensor:
    """Real tokens per query ``(B,)`` from a ``(B, Lq)`` bool mask (at least 1)."""
    return query_mask.sum(dim=1).clamp(min=1)


def patch_similarity(
    queries: torch.Tensor, query_mask: torch.Tensor, pages: torch.Tensor
) -> torch.Tensor:
    """AGREE's s_j = mean over the query's tokens of ``<E_q, E_d^j>`` for paired rows:
    ``(B, Lq, D), (B, Lq) bool, (B, P, D) -> (B, P)``."""
    sim = torch.einsum("bld,bpd->blp", queries, pages)  # (B, Lq, P)
    sim = sim * query_mask[..., None]
    return sim.sum(dim=1) / query_lengths(query_mask)[:, None]
