"""Predictive entropy, Monte-Carlo: PE = -mean_i log p(s_i) over the samples (lm-polygraph's
MonteCarloSequenceEntropy); confidence exp(-PE), the geometric mean of the samples'
probabilities. Higher = more confident."""

from __future__ import annotations

import math

from trustir.calibration.items import Item
from trustir.calibration.methods import register


@register("predictive_entropy")
def judge(item: Item, params: object) -> tuple[str, float]:
    """(greedy answer, exp(mean_i log p(s_i)))."""
    pe = -sum(s.logprob for s in item.samples) / len(item.samples)
    return item.greedy.text, math.exp(-pe)
