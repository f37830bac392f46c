"""Retriever training throughput and memory: trustir's trainer vs sentence-transformers (P3).

Peer: sentence-transformers' MultipleNegativesRankingLoss trained by its classic loop
(``SentenceTransformer.old_fit``; ``SentenceTransformerTrainer`` needs the ``datasets`` package,
which is not a dependency here). Same model (packaged all-MiniLM-L6-v2), same data (BENCH_N
(query, human positive) pairs of the mini-world's train queries), the same batches in the same
order (the peer's loader follows trustir's seeded epoch order), batch 32, max length 256,
temperature 0.05 (= MNRL scale 20), in-batch negatives only (trustir: ``infonce`` with
``hard_negatives: 0``, which is MNRL's objective), AdamW lr 2e-5 with 10% warmup, grad-norm
clipping at 1, one epoch, CPU fp32, dropout on.

Method. Throughput: one process loads both sides, then calls the training function
(``BiEncoderTrainer.fit`` vs ``old_fit``; each builds its own optimizer) alternately, ABBA order,
BENCH_REPEAT times each; pairs / the fastest call's wall seconds (model load excluded). The 2 cores
are shared with other work, so alternating and best-of keep the neighbours out of the ratio.
Memory added by training: per side a fresh subprocess loads the model and data, runs
``gc.collect()``, resets the kernel's peak-RSS mark (``5`` written to ``/proc/self/clear_refs``
sets VmHWM to the current VmRSS), runs one training call and reports VmHWM - the RSS before it;
where clear_refs is unavailable a 1 ms VmRSS sampling thread gives the peak instead. RSS covers
torch's CPU allocations, which tracemalloc does not see.
Goals: ≥ 1.0× throughput, ≤ 1.1× memory.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable

N_PAIRS = int(os.environ.get("BENCH_N", 96))
REPEAT = int(os.environ.get("BENCH_REPEAT", 3))
BATCH, MAX_LEN, LR, SEED = 32, 256, 2e-5, 0


def status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def peak_added_mb(train: Callable[[], None]) -> tuple[float, str]:
    """(MB of peak RSS added while ``train()`` runs, the method used)."""
    gc.collect()
    stop, peak, sampler = threading.Event(), [0], None
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        method = "VmHWM reset"
    except OSError:
        method = "1 ms VmRSS sampling"

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], status_kb("VmRSS"))
                time.sleep(0.001)

        sampler = threading.Thread(target=sample, daemon=True)
    base = status_kb("VmRSS")
    if sampler is not None:
        sampler.start()
    train()
    if sampler is not None:
        stop.set()
        sampler.join()
        top = max(peak[0], status_kb("VmRSS"))
    else:
        top = status_kb("VmHWM")
    return (top - base) / 1024, method


def bench_data():
    """(train queries, corpus texts, pairs in trustir's epoch-0 order)."""
    import numpy as np
    import polars as pl

    from trustir.retrieval.train import TrainQuery, corpus_text_map
    from trustir.sources.world import generate_world

    world = generate_world(1.0, 13)
    texts = corpus_text_map(world["corpus"])
    human = world["qrels"].filter(pl.col("source") == "human").sort("query_id").head(N_PAIRS)
    qtext = dict(world["queries"].select("query_id", "text").iter_rows())
    train = [TrainQuery(q, qtext[q], [(d, int(r))]) for q, d, r, _ in human.iter_rows()]
    order = np.random.default_rng([SEED, 0]).permutation(len(train)).tolist()  # = trainer's
    pairs = [(train[i].text, texts[train[i].positives[0][0]]) for i in order]
    return train, texts, pairs


def setup_trustir(train: list, texts: dict[str, str], pairs: list) -> Callable[[], None]:
    from trustir.retrieval.train import BiEncoderTrainer, TrainParams, TrainPhase

    params = TrainParams(
        model="minilm",
        loss="infonce",
        batch_size=BATCH,
        max_length=MAX_LEN,
        lr=LR,
        warmup_ratio=0.1,
        hard_negatives=0,
        epochs=1,
        seed=SEED,
        device="cpu",
    )
    trainer = BiEncoderTrainer(params, texts)
    phases = [TrainPhase("train", train, 1)]
    return lambda: trainer.fit(phases, show_progress=False)


def setup_st(train: list, texts: dict[str, str], pairs: list) -> Callable[[], None]:
    import torch
    from sentence_transformers import InputExample, SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from torch.utils.data import DataLoader

    from trustir.retrieval.encoders import resolve_model

    torch.manual_seed(SEED)
    model = SentenceTransformer(resolve_model("minilm"), device="cpu")
    model.max_seq_length = MAX_LEN
    loader = DataLoader([InputExample(texts=[q, d]) for q, d in pairs], batch_size=BATCH)
    loss = MultipleNegativesRankingLoss(model, scale=20.0)
    steps = -(-len(pairs) // BATCH)

    def fit() -> None:
        model.old_fit(
            [(loader, loss)],
            epochs=1,
            warmup_steps=int(round(0.1 * steps)),
            optimizer_params={"lr": LR},
            show_progress_bar=False,
        )

    return fit


SETUP = {"trustir": setup_trustir, "st": setup_st}


def child(side: str) -> dict:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE"),
    }
    out = subprocess.run(  # noqa: S603  this interpreter on a benchmark script
        [sys.executable, __file__, "--memory", side],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    import warnings

    warnings.filterwarnings("ignore")
    if len(sys.argv) == 3 and sys.argv[1] == "--memory":
        mb, method = peak_added_mb(SETUP[sys.argv[2]](*bench_data()))
        print(json.dumps({"added_mb": mb, "method": method}))
        return
    memory = {side: child(side) for side in SETUP}
    data = bench_data()
    fits = {side: setup(*data) for side, setup in SETUP.items()}
    seconds: dict[str, list[float]] = {side: [] for side in SETUP}
    for i in range(REPEAT):
        for side in ("trustir", "st") if i % 2 == 0 else ("st", "trustir"):
            t = time.perf_counter()
            fits[side]()
            seconds[side].append(time.perf_counter() - t)
    n = len(data[0])
    for side in SETUP:
        print(
            f"  {side:8s} pairs/s per call: {', '.join(f'{n / s:.2f}' for s in seconds[side])};"
            f"  +{memory[side]['added_mb']:.1f} MB peak RSS ({memory[side]['method']})"
        )
    eps, st_eps = n / min(seconds["trustir"]), n / min(seconds["st"])
    mem, st_mem = memory["trustir"]["added_mb"], memory["st"]["added_mb"]
    print(
        f"{n} pairs, batch {BATCH}, max length {MAX_LEN}, "
        f"OMP threads {os.environ.get('OMP_NUM_THREADS', 'default')}, best of {REPEAT}:"
    )
    print(
        f"throughput: trustir {eps:.2f} pairs/s  sentence-transformers {st_eps:.2f} pairs/s  "
        f"ratio trustir/st = {eps / st_eps:.2f}x (goal >= 1.0)"
    )
    print(
        f"memory added by training: trustir {mem:.1f} MB  sentence-transformers {st_mem:.1f} MB  "
        f"ratio trustir/st = {mem / st_mem:.2f}x (goal <= 1.1)"
    )


if __name__ == "__main__":
    main()
