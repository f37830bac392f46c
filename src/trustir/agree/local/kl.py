"""KL(softmax Ã ‖ softmax s): AGREE's default local loss (PAPERS.md P6)."""

from __future__ import annotations

import torch

from trustir.agree.local.base import LOCAL_LOSSES, LocalOptions, normalised_target


@LOCAL_LOSSES.register("kl")
def kl_local(s: torch.Tensor, target: torch.Tensor, opts: LocalOptions) -> torch.Tensor:
    """Mean over pairs of ``sum_j p_j (log p_j - log q_j)``, ``p = softmax(Ã' / τ_t)`` (Ã' =
    Ã / max Ã), ``q = softmax(s / τ_s)``: ``(B, P), (B, P) -> ()``."""
    log_p = torch.log_softmax(normalised_target(target) / opts.target_temperature, dim=1)
    log_q = torch.log_softmax(s / opts.score_temperature, dim=1)
    return (log_p.exp() * (log_p - log_q)).sum(dim=1).mean()
