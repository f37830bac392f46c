"""Training on a batch schedule with the P3 trainer, and the samples BOOM trains on (P5).

A schedule's batches become one ``TrainPhase`` each (one micro-batch of a single set), run in
order under one optimizer and LR schedule by ``trustir.retrieval.train.BiEncoderTrainer``; the
trainer's checkpoints stay safetensors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from trustir.multitask.schedules import SCHEDULES, Batch
from trustir.retrieval.train_params import TrainParams

if TYPE_CHECKING:
    from trustir.retrieval.train import TrainQuery, TrainResult

T = TypeVar("T")


def sample_sets(
    sets: Mapping[str, Sequence[T]], ratio: float, seed: int, salt: int = 0
) -> dict[str, list[T]]:
    """A ``ratio`` share (rounded, at least one item) of every set, drawn without replacement
    (seeded by ``seed``, ``salt`` and the set's position); items keep their order. ratio 0 = {}."""
    if not 0 <= ratio <= 1:
        raise ValueError(f"sample ratio must be in [0, 1], got {ratio}")
    if ratio == 0:
        return {}
    out = {}
    for i, (task, items) in enumerate(sets.items()):
        k = max(1, int(round(ratio * len(items))))
        pick = np.random.default_rng([seed, salt, i]).choice(len(items), k, replace=False)
        out[task] = [items[j] for j in sorted(pick.tolist())]
    return out


def schedule_batches(
    name: str, sets: Mapping[str, Sequence[TrainQuery]], params: TrainParams, **options: Any
) -> list[Batch[TrainQuery]]:
    """The batches of schedule ``name`` over ``sets`` with the trainer's batch size, epochs
    and seed."""
    return SCHEDULES.get(name)(sets, params.batch_size, params.epochs, params.seed, **options)


def schedule_summary(batches: Sequence[Batch[Any]]) -> dict[str, Any]:
    """Batches per task and the task order, run-length encoded (``qa×3 dupq×2 ...``)."""
    counts: dict[str, int] = {}
    runs: list[list[Any]] = []
    for b in batches:
        counts[b.task] = counts.get(b.task, 0) + 1
        if runs and runs[-1][0] == b.task:
            runs[-1][1] += 1
        else:
            runs.append([b.task, 1])
    return {"batches": counts, "order": " ".join(f"{t}×{n}" for t, n in runs)}


def train_on_batches(
    batches: Sequence[Batch[TrainQuery]],
    corpus_texts: dict[str, str],
    params: TrainParams,
    out_dir: Path,
    init: str | None = None,
    meta: dict[str, Any] | None = None,
    show_progress: bool = True,
) -> TrainResult:
    """Train ``params.model`` (or ``init``) on ``batches`` in order, one optimizer step per
    batch; save the model (safetensors) to ``out_dir``."""
    from trustir.retrieval.train import BiEncoderTrainer, TrainPhase, TrainResult

    if not batches:
        raise ValueError("no batch to train on")
    if params.grad_accum != 1:
        raise ValueError("multi-task schedules take one optimizer step per batch: grad_accum 1")
    too_big = [b.task for b in batches if len(b.items) > params.batch_size]
    if too_big:
        raise ValueError(f"batches larger than batch_size {params.batch_size}: {too_big[:3]}")
    phases = [TrainPhase(b.task, list(b.items), 1) for b in batches]
    trainer = BiEncoderTrainer(params, corpus_texts, init)
    result = trainer.fit(phases, show_progress)
    info = {
        "init": init or params.model,
        "schedule": schedule_summary(batches),
        "result": {"steps": result.steps, "examples": result.examples},  # no seconds: per run
        **(meta or {}),
    }
    saved = trainer.save(out_dir, info)
    return TrainResult(
        saved, result.steps, result.examples, result.seconds, result.final_loss, result.losses
    )
