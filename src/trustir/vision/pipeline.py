"""What the P2/P7 stages do, as functions of params and folders (the stage scripts stay thin).

``vision_world`` -> ``data/vision_world/`` (images/, records.parquet, items.parquet);
``mm_train@<variant>`` -> ``data/mm_train/<variant>/`` (model/, metrics.json, per_item.parquet,
log.json): pre-training, contrastive training and scoring in one process; ``mmeb`` aggregates
them into the ``mmeb`` table.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import polars as pl
import torch

from trustir.io.atomic import write_json, write_parquet
from trustir.sources.world import Sizes, build_world
from trustir.sources.world.visual import records_table, render_world
from trustir.vision.cache import EmbeddingCache, folder_fingerprint
from trustir.vision.evaluate import eval_items, precision_at_1, score_items
from trustir.vision.images import ImageStore
from trustir.vision.model import VLM, build_tiny, load_vlm
from trustir.vision.objectives import compression_tokens
from trustir.vision.params import VisionParams
from trustir.vision.tasks import LABELS, build_tasks
from trustir.vision.training import card_qa, content_text, contrastive, pretrain


def make_visual_world(scale: float, seed: int, p: VisionParams, out: Path) -> dict:
    """Render the world of ``scale``/``seed`` and build its tasks into ``out`` (atomically)."""
    world = build_world(Sizes.at(scale), seed=seed)
    renders = render_world(world, seed, p.image_size, p.max_pages)
    records = records_table(renders)
    items = build_tasks(records, seed, p.candidates, p.test_fraction)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        (tmp / "images").mkdir()
        for r in renders:
            (tmp / "images" / f"{r.image_id}.png").write_bytes(r.png)
        write_parquet(records, tmp / "records.parquet")
        write_parquet(items, tmp / "items.parquet")
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    counts = items.group_by("task", "split").len().sort("task", "split")
    return {f"{t}/{s}": n for t, s, n in counts.iter_rows()} | {"images": len(renders)}


def load_world(folder: Path) -> tuple[pl.DataFrame, pl.DataFrame, ImageStore]:
    records = pl.read_parquet(folder / "records.parquet")
    items = pl.read_parquet(folder / "items.parquet")
    return records, items, ImageStore(folder / "images", records)


def vocabulary(records: pl.DataFrame, items: pl.DataFrame) -> list[str]:
    """Every text the tiny model's word-level tokenizer must cover."""
    texts = [*records["title"], *records["text"], *records["name"], *LABELS.values()]
    texts += [*items["query_text"], *(c for cs in items["candidates"] for c in cs)]
    rng = np.random.default_rng(0)
    texts += [q + " " + a for r in records.to_dicts() for q, a in [card_qa(r, rng)]]
    texts += [content_text(r) for r in records.to_dicts()]
    texts += ["what name does this card show", "what is the title of this page"]
    return texts


def start_model(p: VisionParams, records: pl.DataFrame, items: pl.DataFrame) -> VLM:
    """The common start of every variant: the tiny model (seeded, its vocabulary holding the
    compression tokens already, so every variant starts from the same weights) or the named
    checkpoint."""
    if p.model == "tiny":
        extra = compression_tokens(p.compression_tokens)
        return build_tiny(vocabulary(records, items), p, extra)
    return load_vlm(p.model, p)


def run_train(variant: str, p: VisionParams, world: Path, out: Path) -> dict:
    """``mm_train@variant``: from the common start, pre-train (``none``: not at all, ``cocoa``,
    ``coma``), then InfoNCE (equal total examples), then P@1 on the test items; one process per
    variant, so the model never goes through disk between the two phases."""
    torch.manual_seed(p.seed)
    records, items, store = load_world(world)
    train_items = items.filter(pl.col("split") == "train")
    train_records = records.filter(pl.col("image_id").is_in(train_items["query_image"].implode()))
    vlm = start_model(p, records, items)
    pre = pretrain(vlm, variant, train_records, store, p)
    log = contrastive(vlm, train_items, store, p.contrastive_for(variant), p)
    vlm.save(out / "model")
    cache = EmbeddingCache(folder_fingerprint(out / "model"))
    per_item = score_items(vlm, eval_items(items, p.eval_max_items, p.seed), store, cache)
    cache.close()
    scores = precision_at_1(per_item)
    write_parquet(per_item, out / "per_item.parquet")
    write_json(scores, out / "metrics.json")
    write_json({"variant": variant, "pretrain": pre.to_dict(),
                "contrastive": log.to_dict()}, out / "log.json")  # fmt: skip
    return scores
