"""SumMargLH: the likelihood that some positive is chosen, marginalised over D+ (PAPERS.md P3)."""

from __future__ import annotations

from torch import Tensor

from trustir.retrieval.losses.base import check_masks, masked_logsumexp, register_loss


@register_loss("summarglh", positives="all")
def summarglh(scores: Tensor, pos_mask: Tensor, neg_mask: Tensor) -> Tensor:
    """-log Σ_{d+ ∈ D+} P(d+) = LSE_{D+ ∪ D-}(s) - LSE_{D+}(s), mean over queries (P3).

    scores, pos_mask, neg_mask: [B, N].
    """
    check_masks(scores, pos_mask, neg_mask)
    lse_all = masked_logsumexp(scores, pos_mask | neg_mask)  # [B]
    lse_pos = masked_logsumexp(scores, pos_mask)  # [B]
    return (lse_all - lse_pos).mean()
