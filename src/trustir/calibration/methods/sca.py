"""SCA, Semantic Confidence Aggregation (P4, MACE): cluster the samples by meaning; a
cluster's probability is the sum of exp(sequence log-prob) over its DISTINCT sequences (a
sequence sampled twice counts once); the confidence is the sum of the probabilities of the
clusters at or above ``tau``, min-max normalised over the dataset (fitted on the split
``calibration.sca.fit_on`` names). Not in lm-polygraph. Higher = more confident."""

from __future__ import annotations

import math

from trustir.calibration.items import Item
from trustir.calibration.methods import register


def cluster_probabilities(item: Item) -> dict[int, float]:
    """Each cluster's probability: exp(log-prob) summed over its distinct sample texts."""
    seen: set[str] = set()
    probs: dict[int, float] = {}
    for s, c in zip(item.samples, item.clusters, strict=True):
        probs.setdefault(c, 0.0)
        if s.text not in seen:
            seen.add(s.text)
            probs[c] += math.exp(s.logprob)
    return probs


@register("sca", minmax=True)
def judge(item: Item, params: object) -> tuple[str, float]:
    """(greedy answer, the raw SCA score, before the dataset's min-max normalisation)."""
    tau = params.sca.tau  # type: ignore[attr-defined]
    probs = cluster_probabilities(item)
    return item.greedy.text, sum(p for p in probs.values() if p >= tau)
