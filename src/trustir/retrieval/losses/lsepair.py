"""LSEPair: a smooth max over every (positive, negative) pair's margin (PAPERS.md P3)."""

from __future__ import annotations

from typing import Literal

import torch.nn.functional as F
from torch import Tensor

from trustir.retrieval.losses.base import check_masks, masked_logsumexp, masked_max, register_loss


@register_loss("lsepair", positives="all")
def lsepair(
    scores: Tensor,
    pos_mask: Tensor,
    neg_mask: Tensor,
    negatives: Literal["all", "max"] = "all",
    positives: Literal["all", "min"] = "all",
) -> Tensor:
    """log(1 + Σ_{p ∈ D+, n ∈ D-} exp(s_n - s_p)) = softplus(LSE_{D-}(s) + LSE_{D+}(-s)) (P3).

    ``negatives="max"`` keeps only the hardest negative (LSE_{D-} → max_{D-} s);
    ``positives="min"`` only the lowest-scoring positive (LSE_{D+}(-s) → -min_{D+} s).
    A query with no negative contributes 0. Mean over queries. scores, masks: [B, N].
    """
    check_masks(scores, pos_mask, neg_mask)
    if negatives not in ("all", "max") or positives not in ("all", "min"):
        raise ValueError(
            f"lsepair: negatives in (all, max), positives in (all, min); got "
            f"{negatives!r}, {positives!r}"
        )
    if negatives == "all":
        neg_term = masked_logsumexp(scores, neg_mask)  # [B]
    else:
        neg_term = masked_max(scores, neg_mask)  # [B]
    if positives == "all":
        pos_term = masked_logsumexp(-scores, pos_mask)  # [B]
    else:
        pos_term = masked_max(-scores, pos_mask)  # [B] = -min_{D+} s
    return F.softplus(neg_term + pos_term).mean()
