"""Verbalized + sampling: the majority answer of the sampled "answer | confidence" replies and
the mean stated confidence of the replies that give it. Higher = more confident."""

from __future__ import annotations

from trustir.calibration.items import Item
from trustir.calibration.methods import register
from trustir.calibration.methods._common import majority, verbal
from trustir.calibration.qa import normalize


@register("verbalized_sampling")
def judge(item: Item, params: object) -> tuple[str, float]:
    """(majority answer, mean confidence among the replies agreeing with it)."""
    pairs = verbal(item.verbalized_samples)
    best = majority([a for a, _ in pairs])
    agree = [c for a, c in pairs if normalize(a) == normalize(best)]
    return best, sum(agree) / len(agree)
