"""The three objectives on bare tensors: next-token NLL on target tokens and InfoNCE."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def next_token_nll(logits: torch.Tensor, ids: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean NLL of every target token given the column before it.

    ``logits`` (B, L, V), ``ids`` (B, L), ``target`` (B, L) bool: token ``ids[b, j]`` with
    ``target[b, j]`` is predicted by ``logits[b, j - 1]``.
    """
    pred, gold, mask = logits[:, :-1], ids[:, 1:], target[:, 1:]
    if not bool(mask.any()):
        raise ValueError("next_token_nll: no target tokens")
    return F.cross_entropy(pred[mask].float(), gold[mask])


def info_nce(
    queries: torch.Tensor, candidates: torch.Tensor, positive: torch.Tensor, tau: float
) -> torch.Tensor:
    """InfoNCE over each query's own candidates: ``queries`` (B, D), ``candidates`` (B, k, D),
    both L2-normalised; ``positive`` (B,) the index of each positive; temperature ``tau``."""
    scores = torch.einsum("bd,bkd->bk", queries, candidates) / tau
    return F.cross_entropy(scores, positive)
