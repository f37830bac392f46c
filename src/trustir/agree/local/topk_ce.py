"""Top-K % multi-positive cross-entropy: the patches Ã ranks in its top K % are positives."""

from __future__ import annotations

import math

import torch

from trustir.agree.local.base import LOCAL_LOSSES, LocalOptions


def top_k_count(patches: int, percent: float) -> int:
    """How many patches the top K % holds: ceil(P * K / 100), at least 1."""
    return max(1, math.ceil(patches * percent / 100 - 1e-9))


@LOCAL_LOSSES.register("topk_ce")
def topk_ce_local(s: torch.Tensor, target: torch.Tensor, opts: LocalOptions) -> torch.Tensor:
    """Mean over pairs of ``-log sum_{j in top-K(Ã)} softmax(s / τ_s)_j`` (the multi-positive
    CE: the probability mass the patch scores put on the target's top patches); with K covering
    one patch it is the CE with label argmax Ã. ``(B, P), (B, P) -> ()``."""
    k = top_k_count(s.shape[1], opts.top_k_percent)
    top = target.topk(k, dim=1).indices  # (B, k)
    log_q = torch.log_softmax(s / opts.score_temperature, dim=1)  # (B, P)
    return -torch.logsumexp(log_q.gather(1, top), dim=1).mean()
