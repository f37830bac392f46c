"""The loss registry and the masked log-sum-exp that every P3 objective is built from.

A loss is ``fn(scores [B, N], pos_mask [B, N], neg_mask [B, N], **options) -> scalar``:
``scores[i, j]`` = s(q_i, d_j) / temperature for each query of the batch against every candidate
document of the batch (in-batch + hard negatives), ``pos_mask`` marks the positives D+ of each
query that the loss uses, ``neg_mask`` its negatives D- (never one of the query's positives).
Entries in neither mask take no part. Losses see tensors only, never the model (DESIGN.md).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor

from trustir.registry import Registry

LossFn = Callable[..., Tensor]
#: how many positives per query the data layer hands a loss: the best one (highest grade, ties
#: by doc id), one sampled per epoch, or all of them (up to the trainer's ``max_positives``).
PositiveUse = Literal["best", "sample", "all"]


@dataclass(frozen=True)
class Loss:
    """A registered loss: the function plus how many positives per query it consumes."""

    name: str
    fn: LossFn
    positives: PositiveUse
    #: the loss claims to equal InfoNCE when each query has exactly one positive (checked for
    #: every registered loss by tests/unit/test_registry_contract.py).
    reduces_to_infonce: bool = True

    def __call__(
        self, scores: Tensor, pos_mask: Tensor, neg_mask: Tensor, **options: Any
    ) -> Tensor:
        return self.fn(scores, pos_mask, neg_mask, **options)

    def check_options(self, options: dict[str, Any]) -> None:
        """Fail early (at config time) on an option the loss does not take."""
        params = inspect.signature(self.fn).parameters
        unknown = sorted(set(options) - set(list(params)[3:]))
        if unknown:
            known = ", ".join(list(params)[3:]) or "(none)"
            raise ValueError(f"loss {self.name!r} has no option(s) {unknown}; known: {known}")


LOSSES: Registry[Loss] = Registry("loss", autoload="trustir.retrieval.losses")


def register_loss(
    name: str, positives: PositiveUse, reduces_to_infonce: bool = True
) -> Callable[[LossFn], LossFn]:
    """Decorator: record ``fn`` in ``LOSSES`` under ``name``; the plain function is returned.

    ``reduces_to_infonce``: on one positive per query the loss equals InfoNCE (every P3 loss
    does; a loss that does not says False)."""

    def deco(fn: LossFn) -> LossFn:
        LOSSES.register(name)(Loss(name, fn, positives, reduces_to_infonce))
        return fn

    return deco


def check_masks(scores: Tensor, pos_mask: Tensor, neg_mask: Tensor) -> None:
    """Same shapes, boolean masks, ≥ 1 positive per row, and no document both D+ and D-."""
    if scores.dim() != 2 or pos_mask.shape != scores.shape or neg_mask.shape != scores.shape:
        raise ValueError(
            f"scores {tuple(scores.shape)}, pos_mask {tuple(pos_mask.shape)} and neg_mask "
            f"{tuple(neg_mask.shape)} must be the same [B, N] shape"
        )
    if pos_mask.dtype != torch.bool or neg_mask.dtype != torch.bool:
        raise TypeError("pos_mask and neg_mask must be boolean tensors")
    if not bool(pos_mask.any(dim=1).all()):
        raise ValueError("every query (row) needs at least one positive")
    if bool((pos_mask & neg_mask).any()):
        raise ValueError("a document is marked both positive and negative for the same query")


def masked_logsumexp(x: Tensor, mask: Tensor) -> Tensor:  # [B]
    """log Σ_{j: mask[i, j]} exp x[i, j] per row; -inf for an empty row, with finite gradients.

    x: [B, N], mask: [B, N] bool. Masked entries are filled with -inf (exp → 0); a row with no
    entry at all is computed on zeros and then set to -inf, so its gradient is 0, never NaN.
    """
    empty = ~mask.any(dim=1, keepdim=True)  # [B, 1]
    filled = x.masked_fill(~mask, float("-inf")).masked_fill(empty, 0.0)  # [B, N]
    lse = torch.logsumexp(filled, dim=1)  # [B]
    return lse.masked_fill(empty.squeeze(1), float("-inf"))  # [B]


def masked_max(x: Tensor, mask: Tensor) -> Tensor:  # [B]
    """max_{j: mask[i, j]} x[i, j] per row; -inf for an empty row (zero gradient)."""
    empty = ~mask.any(dim=1, keepdim=True)  # [B, 1]
    filled = x.masked_fill(~mask, float("-inf")).masked_fill(empty, 0.0)  # [B, N]
    return filled.max(dim=1).values.masked_fill(empty.squeeze(1), float("-inf"))  # [B]


def first_true(mask: Tensor) -> Tensor:  # [B, N] bool
    """Keep only the first True of each row (the data layer orders the best positive first)."""
    cum = mask.long().cumsum(dim=1)  # [B, N]
    return mask & (cum == 1)
