"""The retriever's patch grid: answer regions as patch masks, attention maps pooled onto it."""

from __future__ import annotations

import numpy as np
import torch


def region_mask(box: tuple[int, int, int, int], size: int, grid: int) -> np.ndarray:
    """``(grid * grid,)`` bool, row-major: the patches whose centre lies in ``box`` =
    (x0, y0, x1, y1) pixels of a ``size`` x ``size`` page."""
    x0, y0, x1, y1 = box
    centres = (np.arange(grid) + 0.5) * size / grid
    cols = (centres >= x0) & (centres < x1)
    rows = (centres >= y0) & (centres < y1)
    return (rows[:, None] & cols[None, :]).reshape(-1)


def pool_to_grid(maps: torch.Tensor, grid: int) -> torch.Tensor:
    """Attention maps ``(B, h, w)`` average-pooled to ``(B, grid * grid)``, each row summing
    to 1 (an MLLM's visual-token grid onto the retriever's)."""
    pooled = torch.nn.functional.adaptive_avg_pool2d(maps[:, None].float(), grid)[:, 0]
    flat = pooled.reshape(maps.shape[0], -1)
    return flat / flat.sum(dim=1, keepdim=True).clamp(min=1e-12)


def mass_inside(target: np.ndarray, mask: np.ndarray) -> float:
    """Share of a target map's mass (``(P,)``, non-negative) on the ``mask`` patches."""
    total = float(target.sum())
    return float(target[mask].sum()) / total if total > 0 else 0.0
