"""Typed retriever-training params (P3, reused by BOOM), light to import (no torch at load)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from trustir.section import Section


class TrainParams(Section):
    """Retriever training settings (one ``params.yaml`` section per variant)."""

    #: "minilm" (packaged all-MiniLM-L6-v2) or any HF encoder id / local directory.
    model: str = "minilm"
    pooling: Literal["mean", "cls"] = "mean"
    temperature: float = Field(0.05, gt=0)
    #: a name in ``trustir.retrieval.losses.LOSSES`` and its options (e.g. lsepair negatives: max).
    loss: str = "infonce"
    loss_options: dict[str, Any] = {}
    epochs: int = Field(1, ge=1)
    #: queries per micro-batch (in-batch negatives are shared within one micro-batch).
    batch_size: int = Field(32, ge=1)
    grad_accum: int = Field(1, ge=1)
    lr: float = Field(2e-5, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    max_grad_norm: float | None = Field(1.0, gt=0)
    max_length: int = Field(256, gt=0)
    #: BM25 hard negatives per query per step (drawn from the query's mined list when longer).
    hard_negatives: int = Field(1, ge=0)
    #: cap on the positives per query that multi-positive losses use (best grades first).
    max_positives: int = Field(4, ge=1)
    seed: int = 13
    device: str = "auto"
    #: bf16 autocast on CUDA (CPU always trains in fp32).
    bf16: bool = True
    #: each side of a batch is encoded in this many forward passes over length-sorted chunks,
    #: each padded to its own longest text (same embeddings, less padding); 1 = one pass.
    length_buckets: int = Field(4, ge=1)

    @model_validator(mode="after")
    def _known_loss(self) -> TrainParams:
        known = loss_names()
        if self.loss not in known:
            raise ValueError(f"unknown loss {self.loss!r}; known: {', '.join(known)}")
        return self


def loss_names() -> list[str]:
    """Names of the registered losses, without importing torch: one module per loss (DESIGN.md).

    The loss options are checked against the loss itself when the trainer starts.
    """
    import importlib.util
    import pkgutil

    spec = importlib.util.find_spec("trustir.retrieval.losses")
    paths = list(spec.submodule_search_locations or []) if spec else []
    return sorted(m.name for m in pkgutil.iter_modules(paths) if m.name != "base")
