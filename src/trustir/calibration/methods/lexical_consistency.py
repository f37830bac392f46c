"""Lexical sample consistency: the share of samples whose normalised answer equals the greedy
answer's (SQuAD normalisation of the first line). Higher = more confident."""

from __future__ import annotations

from trustir.calibration.items import Item
from trustir.calibration.methods import register
from trustir.calibration.methods._common import key


@register("lexical_consistency")
def judge(item: Item, params: object) -> tuple[str, float]:
    """(greedy answer, share of samples lexically equal to it)."""
    g = key(item.greedy.text)
    return item.greedy.text, sum(key(s.text) == g for s in item.samples) / len(item.samples)
