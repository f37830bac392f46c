"""MMEB-style scoring: Precision@1 of each test item (is the positive the top candidate), per task
and averaged over tasks (MMEB's overall score is the mean of its task scores)."""

from __future__ import annotations

import numpy as np
import polars as pl
import torch

from trustir.vision.cache import EmbeddingCache, embedding_key
from trustir.vision.images import ImageStore
from trustir.vision.model import VLM
from trustir.vision.sequences import eos_embeddings
from trustir.vision.tasks import TASKS


def eval_items(items: pl.DataFrame, max_items: int | None, seed: int) -> pl.DataFrame:
    """The test items scored: per task, a seeded stable choice of at most ``max_items``."""
    test = items.filter(pl.col("split") == "test").sort("task", "item_id")
    if max_items is None:
        return test
    parts = []
    for task in TASKS:
        sub = test.filter(pl.col("task") == task)
        if sub.height > max_items:
            pick = np.random.default_rng([seed, TASKS.index(task)]).permutation(sub.height)
            sub = sub[np.sort(pick[:max_items]).tolist()]
        parts.append(sub)
    return pl.concat(parts)


def embed_inputs(
    vlm: VLM,
    inputs: list[tuple[str, str]],
    store: ImageStore,
    cache: EmbeddingCache | None,
    batch_size: int = 32,
) -> dict[tuple[str, str], np.ndarray]:
    """EOS embeddings of (image id or "", text) inputs, through the cache by image hash."""
    keys = {x: embedding_key(store.sha256(x[0]) if x[0] else "", x[1]) for x in inputs}
    found = cache.get(list(keys.values())) if cache is not None else {}
    out = {x: found[k] for x, k in keys.items() if k in found}
    todo = [x for x in inputs if x not in out]
    for with_image in (True, False):
        group = [x for x in todo if bool(x[0]) == with_image]
        for i in range(0, len(group), batch_size):
            chunk = group[i : i + batch_size]
            images = [store.get(x[0]) for x in chunk] if with_image else None
            with torch.inference_mode():
                vecs = eos_embeddings(vlm, images, [x[1] for x in chunk]).cpu().numpy()
            out.update(zip(chunk, vecs, strict=True))
            if cache is not None:
                cache.put([keys[x] for x in chunk], vecs)
    return out


def score_items(
    vlm: VLM, items: pl.DataFrame, store: ImageStore, cache: EmbeddingCache | None = None
) -> pl.DataFrame:
    """Precision@1 of every item: (task, item_id, value) with value 1.0 or 0.0."""
    rows = items.to_dicts()

    def cands(r: dict) -> list[tuple[str, str]]:
        if r["candidate_kind"] == "image":
            return [(c, "") for c in r["candidates"]]
        return [("", c) for c in r["candidates"]]

    wanted = {(r["query_image"], r["query_text"]) for r in rows}
    wanted |= {c for r in rows for c in cands(r)}
    emb = embed_inputs(vlm, sorted(wanted), store, cache)
    out = []
    for r in rows:
        q = emb[(r["query_image"], r["query_text"])]
        scores = np.array([float(q @ emb[c]) for c in cands(r)])
        top = int(np.argmax(scores))
        out.append((r["task"], r["item_id"], 1.0 if top == r["positive"] else 0.0))
    return pl.DataFrame(
        out, schema={"task": pl.String, "item_id": pl.String, "value": pl.Float64}, orient="row"
    )


def precision_at_1(per_item: pl.DataFrame) -> dict[str, float]:
    """``{"P@1": mean over tasks, "P@1/<task>": mean over its items}``."""
    by_task = {
        t: round(float(per_item.filter(pl.col("task") == t)["value"].mean()), 4)
        for t in TASKS
        if per_item.filter(pl.col("task") == t).height
    }
    out = {"P@1": round(float(np.mean(list(by_task.values()))), 4)}
    out.update({f"P@1/{t}": v for t, v in by_task.items()})
    return out
