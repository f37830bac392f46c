"""Semantic sample consistency: the share of samples in the greedy answer's semantic cluster.
Higher = more confident."""

from __future__ import annotations

from trustir.calibration.items import Item
from trustir.calibration.methods import register


@register("semantic_consistency")
def judge(item: Item, params: object) -> tuple[str, float]:
    """(greedy answer, share of samples clustered with it)."""
    same = sum(c == item.greedy_cluster for c in item.clusters)
    return item.greedy.text, same / len(item.clusters)
