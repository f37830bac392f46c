"""Semantic clusters of answers: MiniLM embeddings, agglomerative clustering (issue 14).

As the MACE authors' code: embed each distinct (normalised) answer, merge by average linkage on
cosine distance, cut at ``distance_threshold``. Answers equal after normalisation always share a
cluster. (Entailment-based clustering with an NLI model is not implemented.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from trustir.calibration.items import Item, answer_text
from trustir.calibration.qa import normalize

Embed = Callable[[list[str]], np.ndarray]  # texts -> [n, dim] unit rows


def cluster_ids(texts: Sequence[str], embed: Embed, threshold: float) -> list[int]:
    """A cluster id per text (0, 1, ... in order of first appearance)."""
    keys = [normalize(answer_text(t)) for t in texts]
    distinct = list(dict.fromkeys(keys))
    if len(distinct) == 1:
        return [0] * len(texts)
    emb = np.asarray(embed(distinct), dtype=np.float64)  # [d, dim]
    labels = fcluster(linkage(emb, method="average", metric="cosine"), threshold, "distance")
    first: dict[int, int] = {}
    by_key = {
        k: first.setdefault(int(lab), len(first)) for k, lab in zip(distinct, labels, strict=True)
    }
    return [by_key[k] for k in keys]


def assign(items: Sequence[Item], embed: Embed, threshold: float) -> None:
    """Fill each item's ``clusters`` (its samples) and ``greedy_cluster`` (with the greedy
    answer clustered together with them)."""
    for it in items:
        ids = cluster_ids([it.greedy.text] + [s.text for s in it.samples], embed, threshold)
        it.greedy_cluster, it.clusters = ids[0], ids[1:]


def minilm_embedder(model: str = "minilm") -> Embed:
    """An embedder over the packaged MiniLM (``retrieval.encoders.Encoder``), with a memo."""
    from trustir.retrieval.encoders import Encoder

    enc = Encoder(model, device="cpu")
    memo: dict[str, np.ndarray] = {}

    def embed(texts: list[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in memo]
        if todo:
            for t, v in zip(todo, enc.encode(todo, show_progress=False), strict=True):
                memo[t] = v
        return np.stack([memo[t] for t in texts])

    return embed
