"""JointLH: the joint likelihood of every positive of the query (PAPERS.md P3)."""

from __future__ import annotations

from torch import Tensor

from trustir.retrieval.losses.base import check_masks, masked_logsumexp, register_loss


@register_loss("jointlh", positives="all")
def jointlh(scores: Tensor, pos_mask: Tensor, neg_mask: Tensor, normalize: bool = True) -> Tensor:
    """-Σ_{d+ ∈ D+} log P(d+), P(d) = exp s(q,d) / Σ_{d' ∈ D+ ∪ D-} exp s(q,d') (P3).

    Per query: |D+|·LSE_{D+ ∪ D-}(s) - Σ_{D+} s, divided by |D+| when ``normalize`` (default);
    mean over queries. scores, pos_mask, neg_mask: [B, N].
    """
    check_masks(scores, pos_mask, neg_mask)
    n_pos = pos_mask.sum(dim=1).to(scores.dtype)  # [B]
    lse_all = masked_logsumexp(scores, pos_mask | neg_mask)  # [B]
    sum_pos = scores.masked_fill(~pos_mask, 0.0).sum(dim=1)  # [B]
    per_query = n_pos * lse_all - sum_pos  # [B]
    if normalize:
        per_query = per_query / n_pos
    return per_query.mean()
