"""Rand1LH: InfoNCE on one positive drawn at random from D+ each epoch (PAPERS.md P3)."""

from __future__ import annotations

import torch
from torch import Tensor

from trustir.retrieval.losses.base import register_loss
from trustir.retrieval.losses.infonce import infonce


def sample_one(pos_mask: Tensor, generator: torch.Generator | None = None) -> Tensor:  # [B, N]
    """One True per row, drawn uniformly among the row's positives (seeded by ``generator``)."""
    pick = torch.multinomial(pos_mask.float(), 1, generator=generator)  # [B, 1]
    return torch.zeros_like(pos_mask).scatter_(1, pick, True)  # [B, N]


@register_loss("rand1lh", positives="sample")
def rand1lh(
    scores: Tensor, pos_mask: Tensor, neg_mask: Tensor, generator: torch.Generator | None = None
) -> Tensor:
    """-log P(d+ | {d+} ∪ D-) with d+ ~ Uniform(D+), mean over queries (P3).

    The trainer samples d+ once per epoch in the data layer (seeded) and passes one positive per
    row; given several, one is drawn here with ``generator``. The positives not drawn are in
    neither D+ nor D- for this step. scores, pos_mask, neg_mask: [B, N].
    """
    if bool((pos_mask.sum(dim=1) > 1).any()):
        pos_mask = sample_one(pos_mask, generator)  # [B, N]
    return infonce(scores, pos_mask, neg_mask)
