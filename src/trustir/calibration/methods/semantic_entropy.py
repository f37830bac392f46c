"""Semantic entropy (Kuhn et al. 2023) as lm-polygraph's SemanticEntropy ("sum" class
probabilities, "mean" estimate): class log-prob lp(C) = logsumexp of its samples' log-probs
(every sample, repeats included, not renormalised); SE = -mean_j lp(C(s_j)); confidence
exp(-SE). Higher = more confident."""

from __future__ import annotations

import math

import numpy as np

from trustir.calibration.items import Item
from trustir.calibration.methods import register


@register("semantic_entropy")
def judge(item: Item, params: object) -> tuple[str, float]:
    """(greedy answer, exp(mean_j lp(C(s_j))))."""
    lps = np.array([s.logprob for s in item.samples])
    cls = np.array(item.clusters)
    class_lp = {c: float(np.logaddexp.reduce(lps[cls == c])) for c in set(item.clusters)}
    se = -float(np.mean([class_lp[c] for c in item.clusters]))
    return item.greedy.text, math.exp(-se)
