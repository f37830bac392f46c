"""GPU check of the retriever trainer under torchrun DDP (issue 18): MiniLM on the mini-world's
human labels, ``--batch`` queries per GPU, in-batch negatives gathered over all GPUs; rank 0
prints steps, examples/s and the loss curve's ends. Compare 1 GPU at batch 2B with 2 at B::

    torchrun --standalone --nproc-per-node 1 benchmarks/gpu/ddp_retriever_gpu.py --batch 64
    torchrun --standalone --nproc-per-node 2 benchmarks/gpu/ddp_retriever_gpu.py --batch 32
    torchrun --standalone --nproc-per-node 2 benchmarks/gpu/ddp_retriever_gpu.py --tiny  # CPU

The P3 stage itself runs the same way: ``torchrun --standalone --nproc-per-node N
stages/train_retriever.py LOSS REGIME`` (``multipos.train.batch_size`` per GPU). NCCL on CUDA,
gloo on CPU (``trustir.retrieval.distributed.init_from_env``).
"""

from __future__ import annotations

import argparse
import json

import polars as pl

from trustir.retrieval.distributed import init_from_env
from trustir.retrieval.train import build_train_queries, corpus_text_map, train_biencoder
from trustir.retrieval.train_params import TrainParams
from trustir.sources.world import generate_world


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32, help="queries per rank")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--scale", type=float, default=1.0, help="mini-world size")
    parser.add_argument("--tiny", action="store_true", help="tiny-bert on CPU (a smoke test)")
    args = parser.parse_args()
    ranks = init_from_env()
    world = generate_world(0.15 if args.tiny else args.scale, 13)
    qrels = world["qrels"].filter(pl.col("relevance") > 0)
    positives: dict[str, list[tuple[str, int]]] = {}
    for q, d, r in qrels.select("query_id", "doc_id", "relevance").iter_rows():
        positives.setdefault(q, []).append((d, int(r)))
    train = build_train_queries(world["queries"], positives, None, 0)
    params = TrainParams(
        model="tiny-bert" if args.tiny else "minilm",
        batch_size=args.batch,
        epochs=args.epochs,
        max_length=64 if args.tiny else 256,
        device="cpu" if args.tiny else "auto",
        length_buckets=1,
    )
    result = train_biencoder(train, corpus_text_map(world["corpus"]), params, show_progress=False)
    if ranks.main:
        print(json.dumps({
            "ranks": ranks.world, "batch_per_rank": args.batch, "queries": len(train),
            "steps": result.steps, "examples_per_s": round(result.examples_per_second, 1),
            "loss_first": result.losses[0], "loss_last": result.losses[-1],
        }))  # fmt: skip


if __name__ == "__main__":
    main()
