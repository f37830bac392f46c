"""Listwise losses of the neural ranker (P8), on padded lists; each returns one loss per query.

``fn(scores [Q, L], labels [Q, L], mask [Q, L], **options) -> [Q]``; ``mask`` marks real
documents (padding takes no part).
- ``listnet`` (Cao et al. 2007): cross-entropy between the top-one distributions
  softmax(labels) and softmax(scores).
- ``approxndcg`` (Qin, Liu and Li 2010): minus NDCG with each rank replaced by its smooth
  approximation 1 + sum_{j != i} sigmoid((s_j - s_i) / T); gains 2^y - 1, full-list IDCG.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from trustir.registry import Registry

ListwiseLoss = Callable[..., Tensor]
LISTWISE_LOSSES: Registry[ListwiseLoss] = Registry("listwise loss")
#: the logit of a padded list position: exp(-1e9) is exactly 0 in float32, so padding takes no
#: probability (a finite value keeps an all-padding row free of NaN; it is masked out after)
NEG = -1e9


@LISTWISE_LOSSES.register("listnet")
def listnet(scores: Tensor, labels: Tensor, mask: Tensor) -> Tensor:
    target = torch.softmax(labels.float().masked_fill(~mask, NEG), dim=1)  # [Q, L]
    log_p = torch.log_softmax(scores.masked_fill(~mask, NEG), dim=1)  # [Q, L]
    return -(target * log_p).masked_fill(~mask, 0.0).sum(dim=1)  # [Q]


@LISTWISE_LOSSES.register("approxndcg")
def approxndcg(scores: Tensor, labels: Tensor, mask: Tensor, temperature: float = 0.1) -> Tensor:
    diff = (scores.unsqueeze(1) - scores.unsqueeze(2)) / temperature  # [Q, i, j] = (s_j - s_i) / T
    pair = mask.unsqueeze(2) & mask.unsqueeze(1)
    pair = pair & ~torch.eye(scores.shape[1], dtype=torch.bool, device=scores.device)
    approx_rank = 1.0 + (torch.sigmoid(diff) * pair).sum(dim=2)  # [Q, L]
    gains = (2.0 ** labels.float() - 1.0) * mask  # [Q, L]
    dcg = (gains / torch.log2(1.0 + approx_rank)).sum(dim=1)  # [Q]
    ideal, _ = torch.sort(gains, dim=1, descending=True)
    discounts = torch.log2(torch.arange(2, scores.shape[1] + 2, device=scores.device).float())
    idcg = (ideal / discounts).sum(dim=1)  # [Q]
    return torch.where(idcg > 0, -dcg / idcg.clamp_min(1e-12), torch.zeros_like(dcg))
