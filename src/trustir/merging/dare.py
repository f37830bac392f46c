"""DARE: drop each task-vector entry with probability 1 - density and rescale the kept ones by
1 / density, then combine linearly (task arithmetic) or by TIES' sign election (PAPERS.md P5).

The drop mask is seeded and chunk-independent: entry j of tensor ``key`` of model i is kept when
a counter-based hash (splitmix64) of (seed, key, i, j) maps below ``density``, so a streamed,
row-chunked merge draws exactly the mask of an in-memory one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import torch
from torch import Tensor

from trustir.merging.base import (
    Stats,
    register_merge,
    sign_consensus,
    task_vectors,
    weighted_sum,
)

_MASK64 = (1 << 64) - 1


def _signed(x: int) -> int:
    """A uint64 constant as the int64 with the same bits."""
    x &= _MASK64
    return x - (1 << 64) if x >= 1 << 63 else x


_GOLDEN = _signed(0x9E3779B97F4A7C15)
_MIX1 = _signed(0xBF58476D1CE4E5B9)
_MIX2 = _signed(0x94D049BB133111EB)


def _lsr(x: Tensor, k: int) -> Tensor:
    """Logical right shift of int64 bits (torch's >> is arithmetic)."""
    return (x >> k) & ((1 << (64 - k)) - 1)


def uniform_hash(stream: int, index: Tensor) -> Tensor:  # [n] float64 in [0, 1)
    """splitmix64(stream + index * golden) >> 11 / 2**53: a counter-based uniform per index."""
    z = index.to(torch.int64) * _GOLDEN + stream  # int64 arithmetic wraps around
    z = (z ^ _lsr(z, 30)) * _MIX1
    z = (z ^ _lsr(z, 27)) * _MIX2
    z = z ^ _lsr(z, 31)
    return _lsr(z, 11).to(torch.float64) / float(1 << 53)


def stream_id(seed: int, key: str, model: int) -> int:
    """A 63-bit stream number for (seed, tensor name, model index)."""
    digest = hashlib.sha256(f"{seed}:{key}:{model}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def keep_mask(shape: torch.Size, offset: int, density: float, seed: int, key: str, model: int):
    """Bool [*shape]: the entries of a chunk (first flat index ``offset``) that DARE keeps."""
    n = 1
    for s in shape:
        n *= s
    index = torch.arange(offset, offset + n, dtype=torch.int64)  # [n]
    return (uniform_hash(stream_id(seed, key, model), index) < density).reshape(shape)


@register_merge("dare", needs_base=True)
def dare(
    chunks: Sequence[Tensor],  # N x [*chunk]
    base: Tensor | None,  # [*chunk]
    weights: Sequence[float],
    stats: Stats,
    offset: int,
    key: str,
    *,
    density: float = 0.5,
    combine: str = "linear",
    scale: float = 1.0,
    seed: int = 0,
) -> Tensor:  # [*chunk]
    """base + scale * combine_i(mask_i * tau_i / density); combine: "linear" | "ties"."""
    if not 0 < density <= 1:
        raise ValueError(f"DARE density must be in (0, 1], got {density}")
    if combine not in ("linear", "ties"):
        raise ValueError(f"DARE combine must be 'linear' or 'ties', got {combine!r}")
    taus = task_vectors(chunks, base)
    if density < 1:
        taus = [
            torch.where(keep_mask(t.shape, offset, density, seed, key, i), t / density, 0.0)
            for i, t in enumerate(taus)
        ]
    merged = weighted_sum(taus, weights) if combine == "linear" else sign_consensus(taus, weights)
    assert base is not None  # noqa: S101  type narrowing: needs_base methods always get a base
    return base + scale * merged
