"""Verbalized confidence: the model's own number in its greedy "answer | 0.8" reply (an
unreadable number counts 0.5). Higher = more confident."""

from __future__ import annotations

from trustir.calibration.items import Item
from trustir.calibration.methods import register
from trustir.calibration.methods._common import verbal


@register("verbalized")
def judge(item: Item, params: object) -> tuple[str, float]:
    """(the reply's answer, its stated confidence)."""
    return verbal([item.verbalized])[0]
