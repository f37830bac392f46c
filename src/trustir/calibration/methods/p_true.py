"""P(True) self-evaluation (Kadavath et al. 2022): the model asked whether its greedy answer
is correct; confidence = P(Yes) / (P(Yes) + P(No)) from the option log-probs (lm-polygraph's
PTrue reads P(True) unnormalised). Higher = more confident."""

from __future__ import annotations

import math

from trustir.calibration.items import Item
from trustir.calibration.methods import register


@register("p_true")
def judge(item: Item, params: object) -> tuple[str, float]:
    """(greedy answer, P(Yes) normalised over Yes/No)."""
    y, n = item.logp_yes, item.logp_no
    m = max(y, n)
    if m == float("-inf"):
        return item.greedy.text, 0.5
    return item.greedy.text, math.exp(y - m) / (math.exp(y - m) + math.exp(n - m))
