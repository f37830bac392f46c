"""Consistency weighted by verbalized confidence: the majority answer of the sampled
"answer | confidence" replies; confidence = the stated confidence of the replies agreeing with
it over that of all replies. Higher = more confident."""

from __future__ import annotations

from trustir.calibration.items import Item
from trustir.calibration.methods import register
from trustir.calibration.methods._common import majority, verbal
from trustir.calibration.qa import normalize


@register("verbalized_consistency")
def judge(item: Item, params: object) -> tuple[str, float]:
    """(majority answer, sum of agreeing confidences / sum of all); all zero: 0."""
    pairs = verbal(item.verbalized_samples)
    best = majority([a for a, _ in pairs])
    total = sum(c for _, c in pairs)
    agree = sum(c for a, c in pairs if normalize(a) == normalize(best))
    return best, agree / total if total > 0 else 0.0
