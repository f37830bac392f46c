"""GPU check of P2/P7 at real size: a few hundred steps of each variant (none / CoCoA / CoMa) on a
2B-class Qwen2-VL in bf16; prints examples/s and peak memory per phase (issue 16).

    python benchmarks/gpu/mm_pretrain_gpu.py                       # CUDA: Qwen2-VL-2B (or random)
    python benchmarks/gpu/mm_pretrain_gpu.py --model Qwen/Qwen2-VL-2B-Instruct
    python benchmarks/gpu/mm_pretrain_gpu.py --tiny --steps 2      # CPU smoke test (the unit test)

With ``--model`` unset it loads ``Qwen/Qwen2-VL-2B-Instruct`` from the local HF cache, and when
that is not there (no hub here) builds the same architecture at its real size (Qwen2-VL-2B's
config: 1.5k-wide 28-layer text model, 32-layer 1280-wide vision tower) randomly initialised, with
a word-level tokenizer over the visual world. The same library code as the DVC stages runs.
Budget: the defaults (200 steps per phase, batch 8) finish well inside 8 minutes on one H200.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import polars as pl
import torch

from trustir.sources.world import Sizes, build_world
from trustir.sources.world.visual import records_table, render_world
from trustir.vision.images import ImageStore
from trustir.vision.model import (
    VLM,
    ImageQwen2VLProcessor,
    build_tiny,
    image_processor,
    load_vlm,
    pick_device,
    pick_dtype,
    tiny_config,
    word_tokenizer,
)
from trustir.vision.objectives import compression_tokens
from trustir.vision.params import TinyVLMParams, VisionParams
from trustir.vision.pipeline import vocabulary
from trustir.vision.tasks import build_tasks
from trustir.vision.training import contrastive, pretrain

#: Qwen2-VL-2B-Instruct's architecture (its config.json), for the random real-size start.
QWEN2VL_2B_TEXT = {
    "vocab_size": 151936,
    "hidden_size": 1536,
    "intermediate_size": 8960,
    "num_hidden_layers": 28,
    "num_attention_heads": 12,
    "num_key_value_heads": 2,
    "rope_parameters": {"rope_type": "default", "mrope_section": [16, 24, 24], "rope_theta": 1e6},
}
QWEN2VL_2B_VISION = {
    "depth": 32,
    "embed_dim": 1280,
    "num_heads": 16,
    "hidden_size": 1536,
    "mlp_ratio": 4,
}


def real_size_config(tok, p: VisionParams):
    """Qwen2-VL-2B's config over ``tok`` (input and output embeddings tied, as in the 2B)."""
    cfg = tiny_config(tok, p, QWEN2VL_2B_TEXT, QWEN2VL_2B_VISION)
    cfg.tie_word_embeddings = True
    cfg.text_config.tie_word_embeddings = True
    return cfg


def real_size_random(p: VisionParams, texts: list[str]) -> VLM:
    """Qwen2-VL-2B's architecture, randomly initialised (no hub), on the device in bf16."""
    from transformers import Qwen2VLForConditionalGeneration

    tok = word_tokenizer(texts, compression_tokens(p.compression_tokens))
    cfg = real_size_config(tok, p)
    cfg._attn_implementation = "sdpa"
    device = pick_device(p.device)
    torch.manual_seed(p.tiny.seed)
    with torch.device(device):
        model = Qwen2VLForConditionalGeneration(cfg).to(pick_dtype(p.dtype, device))
    proc = ImageQwen2VLProcessor(image_processor=image_processor(p.image_size), tokenizer=tok)
    return VLM(model=model, processor=proc, device=device, model_id="qwen2-vl-2b-random")


def start(args, p: VisionParams, texts: list[str]) -> VLM:
    if args.tiny:
        return build_tiny(texts, p, compression_tokens(p.compression_tokens))
    try:
        return load_vlm(args.model, p)
    except OSError as exc:  # not in the local cache and no hub
        print(f"{args.model}: not available ({type(exc).__name__}); random init at real size")
        return real_size_random(p, texts)


def phase(name: str, fn) -> dict:
    """Run one training phase; examples/s and peak memory."""
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    log = fn()
    if cuda:
        torch.cuda.synchronize()
    secs = time.perf_counter() - t0
    out = {
        "phase": name,
        "examples": log.examples,
        "steps": log.steps,
        "seconds": round(secs, 2),
        "examples_per_s": round(log.examples / secs, 2) if secs else None,
        "peak_mem_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None,
        "first_loss": log.to_dict()["first_loss"],
        "last_loss": log.to_dict()["last_loss"],
    }
    print(json.dumps(out), flush=True)
    return out


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="Qwen/Qwen2-VL-2B-Instruct")
    ap.add_argument("--tiny", action="store_true", help="toy-size model (CPU smoke test)")
    ap.add_argument("--steps", type=int, default=200, help="steps per phase")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-5)
    ap.add_argument("--scale", type=float, default=0.3, help="world scale")
    args = ap.parse_args(argv)
    small = {"hidden_size": 32, "heads": 2, "kv_heads": 1, "vision_dim": 32}
    p = VisionParams(
        model=args.model,
        tiny=TinyVLMParams(**small) if args.tiny else TinyVLMParams(),
        image_size=56 if args.tiny else 112,
        max_pages=20 if args.tiny else 200,
        compression_tokens=4 if args.tiny else 32,
        batch_size=args.batch,
        lr=args.lr,
        pretrain_lr=args.lr,
        pretrain_examples=args.steps * args.batch,
        contrastive_examples=args.steps * args.batch,
    )
    world = build_world(Sizes.at(args.scale))
    renders = render_world(world, 13, p.image_size, p.max_pages)
    records = records_table(renders)
    items = build_tasks(records, 13, 4 if args.tiny else p.candidates)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in renders:
            (Path(tmp) / f"{r.image_id}.png").write_bytes(r.png)
        store = ImageStore(tmp, records)
        train = items.filter(pl.col("split") == "train")
        train_recs = records.filter(
            pl.col("image_id").is_in(train["query_image"].unique().implode())
        )
        texts = vocabulary(records, items)
        print(f"device {pick_device(p.device)}, {len(renders)} images, {train.height} train items")
        for variant in p.variants:
            vlm = start(args, p, texts)
            n = sum(x.numel() for x in vlm.model.parameters())
            print(f"{variant}: {vlm.model_id}, {n / 1e9:.3f}B parameters", flush=True)
            if variant != "none":
                run = partial(pretrain, vlm, variant, train_recs, store, p)
                results.append(phase(f"{variant}/pretrain", run))
            run = partial(contrastive, vlm, train, store, p.contrastive_for(variant), p)
            results.append(phase(f"{variant}/contrastive", run))
            vlm = run = None  # free the model before the next variant
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
