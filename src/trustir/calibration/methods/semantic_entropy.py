"""Semantic entropy (Kuhn et al. 2023, P4's "semantic entropy"): a meaning class's probability
is the sum of exp(sequence log-prob) over its *distinct* sequences (a sequence sampled twice
counts once), renormalised over the classes sampled, as Kuhn et al. do; SE = -mean_j log
p(C(s_j)) (the Monte-Carlo estimate over the samples); confidence exp(-SE), in (0, 1]. Higher =
more confident.

lm-polygraph's SemanticEntropy ("sum", not renormalised, repeats included) is not a probability:
with repeated likely samples its exp(-SE) exceeds 1 (3.27 on four identical samples at log-prob
-0.2), which no ECE can bin; the registry contract test checks the [0, 1] range.
"""

from __future__ import annotations

import math

import numpy as np

from trustir.calibration.items import Item
from trustir.calibration.methods import register


@register("semantic_entropy")
def judge(item: Item, params: object) -> tuple[str, float]:
    """(greedy answer, exp(mean_j log p(C(s_j)))) with p over classes of distinct sequences."""
    distinct: dict[int, dict[str, float]] = {}
    for sample, cls in zip(item.samples, item.clusters, strict=True):
        distinct.setdefault(cls, {})[sample.text] = sample.logprob
    class_lp = {c: float(np.logaddexp.reduce(list(seqs.values()))) for c, seqs in distinct.items()}
    total = float(np.logaddexp.reduce(list(class_lp.values())))
    se = -float(np.mean([class_lp[c] - total for c in item.clusters]))
    return item.greedy.text, math.exp(-se)
