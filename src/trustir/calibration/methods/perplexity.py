"""Perplexity: 1 / perplexity of the greedy answer = exp(mean token log-prob) (lm-polygraph's
Perplexity, -mean log-prob, mapped by exp(-x)). Higher = more confident."""

from __future__ import annotations

import math

from trustir.calibration.items import Item
from trustir.calibration.methods import register


@register("perplexity")
def judge(item: Item, params: object) -> tuple[str, float]:
    """(greedy answer, exp(mean token log-prob)); an empty answer has confidence 0."""
    lps = item.greedy.token_logprobs
    return item.greedy.text, math.exp(sum(lps) / len(lps)) if lps else 0.0
