"""GPU check of P6 AGREE at real size: global-only vs AGREE (KL local loss) on a 2B-class
Qwen2-VL retriever in bf16, the MLLM's attention as the target; prints seconds, examples/s, peak
memory, nDCG@1/@5 and the target's mass in the answer region per row (issue 17).

    python benchmarks/gpu/agree_gpu.py                      # CUDA: Qwen2-VL-2B (or random)
    python benchmarks/gpu/agree_gpu.py --model Qwen/Qwen2-VL-2B-Instruct \\
        --target-model Qwen/Qwen2-VL-7B-Instruct           # the paper's larger MLLM as teacher
    python benchmarks/gpu/agree_gpu.py --tiny               # CPU smoke test (the unit test)

Beside mm_pretrain_gpu.py (issue 16), whose random real-size start it reuses: with ``--model``
unset it loads ``Qwen/Qwen2-VL-2B-Instruct`` from the local HF cache, and when that is not
there (no hub) builds Qwen2-VL-2B's architecture randomly initialised, retriever and MLLM alike
(a random MLLM's attention is no grounding: the printed region mass says how much it finds).
The same library code as the DVC stages runs (``trustir.agree.pipeline.run_agree``), on world
fact pages at 448 px (16 x 16 = 256 patches per page). Not run in this task (no GPU was lent);
its CPU path is tests/unit/test_agree_gpu_bench.py. Budget: the defaults (120 pages, 2 epochs,
batch 16, two rows) are sized to finish inside 8 minutes on one H200.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

from trustir.agree.params import AgreeParams
from trustir.agree.pipeline import backbone, make_collection, run_agree
from trustir.vision.model import load_vlm
from trustir.vision.params import TinyVLMParams, VisionParams

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mm_pretrain_gpu import real_size_random  # noqa: E402


def factory(name: str, tiny: bool):
    """Builds a VLM from (params, vocabulary): the toy model, the checkpoint, or a random
    Qwen2-VL-2B when the checkpoint is not cached."""

    def build(p: AgreeParams, texts: list[str]):
        if tiny:
            return backbone(p, texts)
        vp = VisionParams(image_size=p.image_size, dtype=p.dtype, device=p.device)
        try:
            return load_vlm(name, vp)
        except OSError as exc:  # not in the local cache and no hub
            print(f"{name}: not available ({type(exc).__name__}); random init at real size")
            return real_size_random(vp, texts)

    return build


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="Qwen/Qwen2-VL-2B-Instruct")
    ap.add_argument("--target-model", default=None, help="the MLLM (default: --model)")
    ap.add_argument("--tiny", action="store_true", help="toy-size models (CPU smoke test)")
    ap.add_argument("--pages", type=int, default=120)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-5)
    ap.add_argument("--lam", type=float, default=1.0)
    ap.add_argument("--scale", type=float, default=1.0, help="world scale")
    args = ap.parse_args(argv)
    small = {"hidden_size": 32, "heads": 2, "kv_heads": 1, "vision_dim": 32}
    p = AgreeParams(
        model="tiny" if args.tiny else args.model,
        target_model="tiny" if args.tiny else (args.target_model or args.model),
        tiny=TinyVLMParams(**small) if args.tiny else TinyVLMParams(),
        image_size=112 if args.tiny else 448, pages=args.pages,
        entities=min(40, args.pages), epochs=args.epochs, batch_size=args.batch, lr=args.lr,
        dim=16 if args.tiny else 128, local_losses=["kl"], lambdas=[args.lam],
    )  # fmt: skip
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        data, out = Path(tmp) / "vidore_data", Path(tmp) / "agree_train"
        print(make_collection(args.scale, 13, p, Path(tmp), data), flush=True)
        build = factory(args.model, args.tiny)
        target = factory(args.target_model or args.model, args.tiny)
        means = run_agree(p, data, out, start_vlm=build, target_vlm=target)
        rows = {r: json.loads((out / "rows" / r / "log.json").read_text()) for r in means}
        quality = json.loads((out / "target_quality.json").read_text())
    result = {
        "device": str(torch.cuda.get_device_name() if cuda else "cpu"),
        "seconds": round(time.perf_counter() - t0, 1),
        "peak_mem_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None,
        "target": {k: quality.get(k) for k in ("mass_in_region", "region_share", "pairs")},
        "rows": {r: {**{k: round(v, 4) for k, v in means[r].items()},
                     "steps": rows[r]["steps"], "train_seconds": rows[r]["seconds"]}
                 for r in means},
    }  # fmt: skip
    print(json.dumps(result, indent=1), flush=True)
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
