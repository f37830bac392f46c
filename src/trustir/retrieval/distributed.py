"""Data-parallel training under ``torchrun`` (issue 18): the process group, and in-batch
negatives gathered across ranks with their gradient.

Under ``torchrun --nproc-per-node N`` each rank encodes its share of a global batch (its
queries and its share of the batch's candidate documents); :func:`gather_rows` all-gathers the
embeddings with ``torch.distributed.nn.functional.all_gather`` (differentiable), so every rank
scores all the global batch's queries against all its candidates, and the loss is the loss of
one process with the whole batch: 2 ranks x B queries == 1 rank x 2B. The backward pass of the
gather sums the gradient of every rank's copy of the loss into the rank that encoded each row
(W times the single-process gradient); DDP's gradient averaging divides by W again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Ranks:
    """This process's rank and the world size (``rank 0 of 1`` outside torchrun)."""

    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def share(self, n: int) -> tuple[int, int]:
        """``[start, stop)`` of this rank's contiguous share of ``n`` rows (sizes differ by at
        most one: ``numpy.array_split``)."""
        bounds = split_bounds(n, self.world)
        return bounds[self.rank], bounds[self.rank + 1]


def split_bounds(n: int, world: int) -> list[int]:
    """Boundaries of ``n`` rows split into ``world`` contiguous shares: ``[0, ..., n]``."""
    sizes = [len(a) for a in np.array_split(np.arange(n), world)]
    return [0, *np.cumsum(sizes).tolist()]


def init_from_env() -> Ranks:
    """Join torchrun's process group when ``WORLD_SIZE`` > 1 (once; NCCL on CUDA, with this
    rank's GPU ``LOCAL_RANK``, else gloo); the ranks."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Ranks()
    if not dist.is_initialized():
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return Ranks(dist.get_rank(), dist.get_world_size())


def current() -> Ranks:
    """The ranks of the initialised process group (``rank 0 of 1`` when there is none)."""
    if dist.is_available() and dist.is_initialized():
        return Ranks(dist.get_rank(), dist.get_world_size())
    return Ranks()


def gather_rows(local: torch.Tensor, total: int) -> torch.Tensor:
    """Every rank's rows of a ``total``-row tensor, in rank order, with gradient.

    ``local``: [rows of this rank's share, dim] (shares as :meth:`Ranks.share` cuts them).
    Returns [total, dim]. Shares are padded to the largest for the collective and trimmed.
    """
    from torch.distributed.nn.functional import all_gather

    ranks = current()
    bounds = split_bounds(total, ranks.world)
    width = max(b - a for a, b in zip(bounds, bounds[1:], strict=False))
    pad = width - local.shape[0]
    padded = torch.nn.functional.pad(local, (0, 0, 0, pad)) if pad else local  # [width, dim]
    parts = all_gather(padded)  # world x [width, dim], differentiable
    return torch.cat(
        [p[: b - a] for p, a, b in zip(parts, bounds, bounds[1:], strict=False)]
    )  # [total, dim]
