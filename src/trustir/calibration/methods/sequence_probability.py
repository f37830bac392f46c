"""Sequence probability: exp of the greedy answer's log-probability (lm-polygraph's
MaximumSequenceProbability, negated and exponentiated). Higher = more confident."""

from __future__ import annotations

import math

from trustir.calibration.items import Item
from trustir.calibration.methods import register


@register("sequence_probability")
def judge(item: Item, params: object) -> tuple[str, float]:
    """(greedy answer, p(answer) = exp(sum of its token log-probs))."""
    return item.greedy.text, math.exp(item.greedy.logprob)
