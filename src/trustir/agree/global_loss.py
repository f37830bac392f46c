"""AGREE's (and ColPali's) global loss: softplus(S(q, d⁻_hardest) − S(q, d⁺)) (PAPERS.md P6).

Written here rather than imported: colpali-engine's ``ColbertPairwiseCELoss`` computes the same
value (tests/unit/test_agree_losses.py checks it), but importing colpali-engine's package pulls
in its models, which need torchvision (trustir.agree.colpali_ref explains).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812


def hardest_negative_softplus(
    scores: torch.Tensor, temperature: float = 1.0, exclude: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean over queries of ``softplus((max_{j != i} S_ij − S_ii) / temperature)`` of an
    in-batch score matrix ``(B, B)`` whose diagonal holds the positives (pages distinct);
    ``exclude`` ``(B, B)`` bool marks further pages that are no negative of row i (another
    page relevant to the same query). A row left without negatives contributes 0."""
    b = scores.shape[0]
    if b < 2 or scores.shape[1] != b:
        raise ValueError(f"in-batch scores must be (B, B) with B >= 2, got {tuple(scores.shape)}")
    pos = scores.diagonal()  # (B,)
    eye = torch.eye(b, dtype=torch.bool, device=scores.device)
    skip = eye if exclude is None else eye | exclude
    neg = scores.masked_fill(skip, float("-inf")).amax(dim=1)  # (B,)
    has_neg = ~skip.all(dim=1)
    loss = F.softplus((neg - pos).where(has_neg, torch.zeros_like(pos)) / temperature)
    return (loss * has_neg).sum() / b
