"""Restructured attention as explicit 4-D masks over segmented sequences (P2 CoCoA, P7 CoMa).

A sequence is laid out in segments (``segment[b, j]`` an integer label per position) with a
validity mask (padding is invalid). ``RULES`` say which segment may attend to which, causally
(``k <= q``) or not at all; every position may attend to itself, so no row is fully masked
(a fully masked row gives NaN through sdpa).

- plain encoding: ``INPUT -> INPUT``;
- CoCoA: the input attends causally to itself, its ``<EOS>`` (``EOS``) to the input and itself,
  and the reconstruction (``RECON``) only to ``EOS`` and causally to itself — never to the input;
- CoMa: the ``K`` compression tokens (``COMP``) attend to the input and causally to themselves;
  the question and answer (``QA``) attend only to ``COMP`` and causally to themselves.
"""

from __future__ import annotations

import torch

INPUT, EOS, RECON, COMP, QA = 0, 1, 2, 3, 4
#: (query segment, key segment) pairs that may attend (always causally: k <= q).
RULES: dict[str, set[tuple[int, int]]] = {
    "plain": {(INPUT, INPUT), (EOS, INPUT), (EOS, EOS)},
    "cocoa": {(INPUT, INPUT), (EOS, INPUT), (EOS, EOS), (RECON, EOS), (RECON, RECON)},
    "coma": {
        (INPUT, INPUT),
        (EOS, INPUT),
        (EOS, EOS),
        (COMP, INPUT),
        (COMP, EOS),
        (COMP, COMP),
        (QA, COMP),
        (QA, QA),
    },
}


def allowed(segment: torch.Tensor, valid: torch.Tensor, rules: set[tuple[int, int]]):
    """Boolean ``(B, 1, L, L)``: may query ``q`` attend to key ``k``."""
    qs, ks = segment[:, :, None], segment[:, None, :]
    length = segment.shape[1]
    pair = torch.zeros(segment.shape[0], length, length, dtype=torch.bool, device=segment.device)
    for q, k in rules:
        pair |= (qs == q) & (ks == k)
    causal = torch.ones(length, length, dtype=torch.bool, device=segment.device).tril()
    ok = pair & causal & valid[:, None, :].bool()
    ok |= torch.eye(length, dtype=torch.bool, device=segment.device)
    return ok[:, None]


def additive(ok: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """A boolean mask as the additive float mask attention adds to its scores (0 / min)."""
    zero = torch.zeros((), dtype=dtype, device=ok.device)
    return torch.where(ok, zero, torch.finfo(dtype).min)
