"""InfoNCE with one positive per query: the single-positive baseline of P3 (PAPERS.md P3)."""

from __future__ import annotations

from torch import Tensor

from trustir.retrieval.losses.base import check_masks, first_true, masked_logsumexp, register_loss


@register_loss("infonce", positives="best")
def infonce(scores: Tensor, pos_mask: Tensor, neg_mask: Tensor) -> Tensor:
    """-log P(d+ | {d+} ∪ D-) = LSE_{{d+} ∪ D-}(s) - s(q, d+), mean over queries (P3).

    d+ is the query's one positive: the data layer hands the highest-graded one (ties by doc id);
    given several, the first True column of ``pos_mask`` is used and the others take no part.
    scores, pos_mask, neg_mask: [B, N].
    """
    check_masks(scores, pos_mask, neg_mask)
    pos = first_true(pos_mask)  # [B, N], one True per row
    s_pos = scores.masked_fill(~pos, 0.0).sum(dim=1)  # [B]
    lse_all = masked_logsumexp(scores, pos | neg_mask)  # [B]
    return (lse_all - s_pos).mean()
