"""Top-k verbalized confidence: the first of the model's k "guess | probability" lines (an
unreadable probability counts 0.5). Higher = more confident."""

from __future__ import annotations

from trustir.calibration.items import Item
from trustir.calibration.methods import register
from trustir.calibration.methods._common import UNPARSED
from trustir.calibration.prompts import parse_topk


@register("verbalized_topk")
def judge(item: Item, params: object) -> tuple[str, float]:
    """(the first guess, its stated probability); no guess: ("", 0)."""
    guesses = parse_topk(item.topk)
    if not guesses:
        return "", 0.0
    ans, conf = guesses[0]
    return ans, UNPARSED if conf is None else conf
