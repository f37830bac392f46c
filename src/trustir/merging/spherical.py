"""Spherical interpolation in the span of the models: SLERP and the spherical weighted mean
work on Gram matrices, so a merge is sum_i c_i v_i with coefficients from N x N numbers
(PAPERS.md P5).

The vectors are the flattened tensors (or, ``relative``, their task vectors theta_i - base).
Both methods interpolate the direction on the unit sphere and the norm linearly:
slerp(v0, v1, t) = ((1 - t)|v0| + t|v1|) * geodesic(v0/|v0|, v1/|v1|, t), which is Shoemake's
formula when |v0| = |v1|; the multi-model mean is the weighted Frechet (Karcher) mean of the
directions (Buss & Fillmore's fixed point), which is that geodesic point for two models.
Degenerate cases (a zero vector, parallel or opposite directions) fall back to the linear mix.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from trustir.merging.base import Stats, TensorSource

EPS = 1e-12


def gram_stats(source: TensorSource, weights: Sequence[float], **options: Any) -> Stats:
    """G[i, j] = <v_i, v_j> (float64, accumulated over row chunks)."""
    if options.get("relative") and not source.has_base:
        raise ValueError("relative spherical merges need the base model")
    n = source.n
    gram = np.zeros((n, n))
    for chunks, base in source.chunks():
        vecs = [(c - base if options.get("relative") else c).double().reshape(-1) for c in chunks]
        mat = torch.stack(vecs)  # [N, numel_chunk]
        gram += (mat @ mat.T).numpy()
    return {"gram": gram}


def _norm(c: np.ndarray, gram: np.ndarray) -> float:
    return math.sqrt(max(float(c @ gram @ c), 0.0))


def slerp_pair(a: np.ndarray, b: np.ndarray, t: float, gram: np.ndarray) -> np.ndarray:
    """Coefficients of slerp(A, B, t) where A = sum a_i v_i, B = sum b_i v_i."""
    na, nb = _norm(a, gram), _norm(b, gram)
    lerp = (1 - t) * a + t * b
    if na < EPS or nb < EPS:
        return lerp
    cos = float(np.clip(a @ gram @ b / (na * nb), -1.0, 1.0))
    omega = math.acos(cos)
    if math.sin(omega) < 1e-6:  # parallel or opposite: no unique great circle
        return lerp
    radius = (1 - t) * na + t * nb
    s0 = math.sin((1 - t) * omega) / math.sin(omega)
    s1 = math.sin(t * omega) / math.sin(omega)
    return radius * (s0 * a / na + s1 * b / nb)


def slerp_coefficients(gram: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """Fold SLERP over the models: m <- slerp(m, v_i, w_i / (w_1 + ... + w_i)); for two models
    with weights (1 - t, t) this is slerp(v_0, v_1, t)."""
    n = len(weights)
    eye = np.eye(n)
    coef, total = eye[0].copy(), float(weights[0])
    for i in range(1, n):
        total += float(weights[i])
        if total <= 0:
            raise ValueError("SLERP weights must have positive partial sums")
        coef = slerp_pair(coef, eye[i], float(weights[i]) / total, gram)
    return coef


def karcher_coefficients(
    gram: np.ndarray, weights: Sequence[float], iters: int = 200, tol: float = 1e-14
) -> np.ndarray:
    """Coefficients of r * mean, where mean is the weighted spherical mean of the directions
    v_i/|v_i| and r = sum p_i |v_i| (p = normalised weights)."""
    p = np.asarray(weights, dtype=np.float64)
    if p.sum() <= 0:
        raise ValueError("spherical mean weights must sum to a positive number")
    p = p / p.sum()
    norms = np.sqrt(np.clip(np.diag(gram), 0.0, None))  # [N]
    if np.any(norms < EPS):
        return p.copy()  # a zero vector has no direction: the linear mix
    unit = gram / np.outer(norms, norms)  # [N, N] Gram of the unit vectors
    mu = p.copy()  # coefficients of the mean on the unit vectors
    length = _norm(mu, unit)
    if length < 1e-9:
        return p.copy()  # directions cancel out: no spherical mean
    mu /= length
    for _ in range(iters):
        cos = np.clip(unit @ mu, -1.0, 1.0)  # [N] <u_i, m>
        theta = np.arccos(cos)
        sin = np.sin(theta)
        factor = np.where(sin > 1e-12, theta / np.where(sin > 1e-12, sin, 1.0), 1.0)
        # log map at m: log_i = factor_i * (u_i - cos_i m); step = sum_i p_i log_i
        step = p * factor - float(np.sum(p * factor * cos)) * mu
        size = _norm(step, unit)
        if size < tol:
            break
        mu = math.cos(size) * mu + math.sin(size) * step / size
        mu /= _norm(mu, unit)
    radius = float(p @ norms)
    return radius * mu / norms


def combine_span(
    chunks: Sequence[Tensor], base: Tensor | None, coef: np.ndarray, relative: bool
) -> Tensor:  # [*chunk]
    """sum_i c_i v_i (+ base when the vectors are task vectors)."""
    out = torch.zeros_like(chunks[0])
    for c, x in zip(coef.tolist(), chunks, strict=True):
        out.add_(x - base if relative and base is not None else x, alpha=c)
    if relative:
        if base is None:
            raise ValueError("relative spherical merges need the base model")
        out += base
    return out
