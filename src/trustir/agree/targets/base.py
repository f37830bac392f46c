"""The target-source registry and the content-addressed cache of targets.

A source has ``fingerprint(ctx) -> str`` (what the targets depend on besides the pair: model,
seed, grid) and ``compute(ctx, pairs) -> (n, P)`` (non-negative rows summing to 1 over the
retriever's patch grid, row-major). ``cached_targets`` keys each (query, page) pair by the
page's content hash and the query text, in a persistent SQLite file per fingerprint
(``cache_dir("agree-targets")``, outside DVC's outputs like the label store), so a forced
re-run computes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import polars as pl

from trustir.agree.params import AgreeParams
from trustir.paths import cache_dir
from trustir.registry import Registry
from trustir.vision.cache import EmbeddingCache, embedding_key
from trustir.vision.images import ImageStore


@dataclass(frozen=True)
class Pair:
    """One (query, positive page) pair."""

    query_id: str
    text: str
    page_id: str


@dataclass
class TargetContext:
    """What a source may use: params, page images, the recorded regions, the tokenizer texts."""

    params: AgreeParams
    store: ImageStore
    regions: pl.DataFrame
    vocabulary: list[str] = field(default_factory=list)
    #: builds the MLLM from (params, vocabulary); None: ``agree.target_model`` (tiny or hub id)
    build_vlm: Callable[[AgreeParams, list[str]], Any] | None = None

    @property
    def grid(self) -> int:
        """The retriever's patch grid side (visual tokens after Qwen2-VL's 2 x 2 merge)."""
        return self.params.image_size // 28


class TargetSource(Protocol):
    """A registered source of Ã."""

    description: str

    def fingerprint(self, ctx: TargetContext) -> str: ...

    def compute(self, ctx: TargetContext, pairs: list[Pair]) -> np.ndarray: ...


TARGETS: Registry[TargetSource] = Registry("agree target", autoload="trustir.agree.targets")


def fingerprint_of(obj: object) -> str:
    """A short hash of a JSON-able description."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def cached_targets(name: str, ctx: TargetContext, pairs: list[Pair]) -> tuple[np.ndarray, dict]:
    """``(n, P)`` targets of ``pairs`` from source ``name`` through the cache; and the cache's
    hit / miss counts."""
    source = TARGETS.get(name)
    cache = EmbeddingCache(f"{name}-{source.fingerprint(ctx)}", cache_dir("agree-targets"))
    try:
        keys = [embedding_key(ctx.store.sha256(p.page_id), p.text) for p in pairs]
        found = cache.get(keys)
        todo = sorted({i for i, k in enumerate(keys) if k not in found})
        if todo:
            fresh = source.compute(ctx, [pairs[i] for i in todo]).astype(np.float32)
            cache.put([keys[i] for i in todo], fresh)
            found.update({keys[i]: v for i, v in zip(todo, fresh, strict=True)})
        counts = {"hits": cache.hits, "misses": cache.misses}
    finally:
        cache.close()
    return np.stack([found[k] for k in keys]), counts
