"""Length-normalised predictive entropy: LNE = -mean_i log p(s_i) / len(s_i) over the
non-empty samples (lm-polygraph's MonteCarloNormalizedSequenceEntropy); confidence exp(-LNE).
Higher = more confident."""

from __future__ import annotations

import math

from trustir.calibration.items import Item
from trustir.calibration.methods import register


@register("normalized_entropy")
def judge(item: Item, params: object) -> tuple[str, float]:
    """(greedy answer, exp(mean_i mean-token-log-prob(s_i))); no non-empty sample: 0."""
    per = [s.logprob / len(s.token_logprobs) for s in item.samples if s.token_logprobs]
    return item.greedy.text, math.exp(sum(per) / len(per)) if per else 0.0
