"""What the P6 stages do, as functions of params and folders (the stage scripts stay thin).

``vidore_data`` -> ``data/vidore_data/`` (pages/, pages/queries/qrels/regions.parquet);
``agree_train`` -> ``data/agree_train/`` (targets.parquet, target_quality.json and
``rows/<row>/{metrics.json, per_query.parquet, log.json}``): the attention targets (cached), then
every table row trained from one start and evaluated, in one process; ``vidore`` aggregates.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import torch

from trustir.agree.evaluate import evaluate_retriever
from trustir.agree.features import visual_features
from trustir.agree.grid import mass_inside, region_mask
from trustir.agree.pages import (
    folder_collection,
    read_collection,
    world_collection,
    write_collection,
)
from trustir.agree.params import AgreeParams
from trustir.agree.retriever import LateInteractionRetriever
from trustir.agree.targets import Pair, TargetContext, cached_targets
from trustir.agree.train import TrainSet, train_row
from trustir.io.atomic import write_json, write_parquet
from trustir.vision.images import ImageStore
from trustir.vision.model import VLM, build_tiny, load_vlm
from trustir.vision.params import VisionParams


def make_collection(scale: float, seed: int, p: AgreeParams, root: Path, out: Path) -> dict:
    """``vidore_data``: the world's fact pages, or the folder ``agree.path`` (from ``root``)."""
    if p.source == "world":
        col = world_collection(scale, seed, p)
    else:
        col = folder_collection(root / str(p.path), p.image_size)
    return write_collection(col, out)


def backbone(p: AgreeParams, vocabulary: list[str]) -> VLM:
    """The retriever's start: the toy Qwen2-VL (seeded from ``agree.tiny.seed``) or a checkpoint."""
    vp = VisionParams(tiny=p.tiny, image_size=p.image_size, dtype=p.dtype, device=p.device)
    return build_tiny(vocabulary, vp) if p.model == "tiny" else load_vlm(p.model, vp)


def train_pairs(col) -> list[Pair]:
    """(train query, relevant page) pairs, one per qrel (world: train queries' pages are train
    pages; a folder's pages are all searched, as ViDoRe's training sets are other pages)."""
    texts = dict(col.queries.select("query_id", "text").iter_rows())
    train = col.queries.filter(pl.col("split") == "train").select("query_id")
    rel = col.qrels.filter(pl.col("relevance") > 0).join(train, on="query_id", how="semi")
    pairs = [
        Pair(q, texts[q], d)
        for q, d in rel.select("query_id", "doc_id").sort("query_id", "doc_id").iter_rows()
    ]
    if not pairs:
        raise ValueError("agree: no training pairs (no train queries with a relevant page)")
    return pairs


def target_quality(ctx: TargetContext, pairs: list[Pair], targets: np.ndarray) -> pl.DataFrame:
    """Per pair with a recorded region: Ã's mass inside it, the region's share of the page
    (the mass of a uniform map) and whether Ã's top patch lies in it."""
    boxes = {(r["query_id"], r["page_id"]): (r["x0"], r["y0"], r["x1"], r["y1"])
             for r in ctx.regions.iter_rows(named=True)}  # fmt: skip
    rows = []
    for pair, t in zip(pairs, targets, strict=True):
        if (pair.query_id, pair.page_id) in boxes:
            m = region_mask(boxes[pair.query_id, pair.page_id], ctx.params.image_size, ctx.grid)
            rows.append((pair.query_id, pair.page_id, mass_inside(t, m), float(m.mean()),
                         float(m[int(np.argmax(t))])))  # fmt: skip
    schema = ["query_id", "page_id", "mass_in_region", "region_share", "top_patch_in_region"]
    return pl.DataFrame(rows, schema=schema, orient="row")


VLMFactory = Callable[[AgreeParams, list[str]], VLM]


def run_agree(
    p: AgreeParams,
    data: Path,
    out: Path,
    start_vlm: VLMFactory = backbone,
    target_vlm: VLMFactory | None = None,
) -> dict:
    """``agree_train``: targets, then every row of ``p.rows()`` trained and evaluated.
    ``start_vlm`` / ``target_vlm`` build the retriever's backbone and the MLLM (the GPU script
    passes a random real-size Qwen2-VL when no checkpoint is cached)."""
    t0 = time.perf_counter()
    col = read_collection(data)
    store = ImageStore(data / "pages", col.pages.select(pl.col("page_id").alias("image_id"),
                                                        "sha256"))  # fmt: skip
    vocabulary = [*col.queries["text"], *col.pages["text"]]
    torch.manual_seed(p.seed)
    model = LateInteractionRetriever(start_vlm(p, vocabulary), p.dim)
    start = copy.deepcopy(model.state_dict())
    page_ids = col.pages["page_id"].to_list()
    feats, grid_thw = visual_features(model.vlm, [store.get(i) for i in page_ids])
    row_of = {pid: i for i, pid in enumerate(page_ids)}
    searched = col.pages.filter(pl.col("split").is_in(["test", "both"]))["page_id"].to_list()
    pairs = train_pairs(col)
    ctx = TargetContext(p, store, col.regions, vocabulary, target_vlm)
    needs_targets = any(local for _, local, _ in p.rows())
    targets, cache = (cached_targets(p.target, ctx, pairs) if needs_targets
                      else (None, {"hits": 0, "misses": 0}))  # fmt: skip
    if targets is not None:
        quality = target_quality(ctx, pairs, targets)
        write_parquet(quality, out / "targets.parquet")
        summary = {k: round(float(quality[k].mean()), 4) for k in quality.columns[2:]} if (
            quality.height) else {}  # fmt: skip
        write_json({"target": p.target, "pairs": len(pairs), "with_region": quality.height,
                    **summary, "cache": cache}, out / "target_quality.json")  # fmt: skip
    relevant: dict[str, set[int]] = {}
    for x in pairs:
        relevant.setdefault(x.query_id, set()).add(row_of[x.page_id])
    train = TrainSet([x.text for x in pairs], [row_of[x.page_id] for x in pairs], feats, grid_thw,
                     None if targets is None else torch.from_numpy(targets),
                     [frozenset(relevant[x.query_id]) for x in pairs])  # fmt: skip
    test_q = col.queries.filter(pl.col("split") == "test").sort("query_id")
    test_feats = feats[[row_of[i] for i in searched]]
    results = {}
    for row, local, lam in p.rows():
        model.load_state_dict(start)
        log = train_row(model, train, p, local, lam)
        means, per_query = evaluate_retriever(model, test_q, col.qrels, searched, test_feats,
                                              grid_thw, row)  # fmt: skip
        sub = out / "rows" / row
        write_json({k: round(v, 6) for k, v in means.items()}, sub / "metrics.json")
        write_parquet(per_query, sub / "per_query.parquet")
        write_json({"row": row, "local": local, "lambda": lam, **log.to_dict()}, sub / "log.json")
        results[row] = means
    write_json({"seconds": round(time.perf_counter() - t0, 2), "rows": len(results)},
               out / "run.json")  # fmt: skip
    return results
