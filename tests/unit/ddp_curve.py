"""Train tiny-bert on a toy multi-positive set and write its per-step loss curve and final
weights' digest (run by tests/unit/test_ddp.py: plainly for 1 rank, under torchrun for 2).

``python tests/unit/ddp_curve.py OUT.json BATCH [LOSS]``: BATCH queries per rank. Dropout is
switched off: with it the ranks would draw other masks than one process does, and the curves
could only agree in distribution.
"""

from __future__ import annotations

import json
import sys

import torch

from trustir.retrieval.distributed import init_from_env
from trustir.retrieval.train import BiEncoderTrainer, TrainPhase, TrainQuery
from trustir.retrieval.train_params import TrainParams

TOPICS = ["apples", "rivers", "engines", "violins", "glaciers", "markets", "comets", "forests"]


def toy_set() -> tuple[list[TrainQuery], dict[str, str]]:
    """Per topic: 3 queries with 2 positives each and 2 hard negatives of other topics."""
    corpus = {
        f"{t}-{i}": f"A note on {t}, part {i}: {' '.join([t] * (i + 1))} and more words."
        for t in TOPICS
        for i in range(4)
    }
    queries = []
    for k, t in enumerate(TOPICS):
        other = TOPICS[(k + 1) % len(TOPICS)]
        for j in range(3):
            queries.append(
                TrainQuery(
                    f"{t}-q{j}",
                    f"what about {t} {j}?",
                    [(f"{t}-{j}", 2), (f"{t}-{j + 1}", 1)],
                    [f"{other}-{j}", f"{other}-3"],
                )
            )
    return queries, corpus


def main(out: str, batch: int, loss: str = "infonce") -> None:
    ranks = init_from_env()
    params = TrainParams(
        model="tiny-bert", loss=loss, batch_size=batch, epochs=3, lr=1e-3, max_length=32,
        hard_negatives=2, max_positives=2, length_buckets=1, device="cpu", warmup_ratio=0.0,
    )  # fmt: skip
    queries, corpus = toy_set()
    trainer = BiEncoderTrainer(params, corpus)
    for module in trainer.encoder.model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    result = trainer.fit([TrainPhase("train", queries, params.epochs)], show_progress=False)
    weights = torch.cat([w.detach().flatten() for w in trainer.encoder.model.parameters()])
    if ranks.main:
        record = {
            "world": ranks.world,
            "batch_per_rank": batch,
            "steps": result.steps,
            "examples": result.examples,
            "losses": result.losses,
            "weights": weights[:: max(1, weights.numel() // 4096)].tolist(),
        }
        with open(out, "w") as fh:
            json.dump(record, fh)
    if ranks.world > 1:
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), *sys.argv[3:4])
