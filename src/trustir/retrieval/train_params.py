"""Typed retriever-training params: ``TrainParams`` (P3, reused by BOOM) and the ``multipos``
section (P3). Loss names are checked against ``LOSSES``, which imports torch: every stage that
reads these sections trains or scores an encoder anyway."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

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
        from trustir.retrieval.losses.base import LOSSES

        LOSSES.check(self.loss, "loss")
        return self


class MultiposParams(Section):
    """Multi-positive retriever training (P3): a loss x label-regime grid, each variant trained
    from ``train.model`` and scored on the test queries against ``train.model`` untrained."""

    section_name: ClassVar[str] = "multipos"

    #: the ``train_retriever`` matrix: every loss (``trustir.retrieval.losses``) under every
    #: label regime (human | llm | mixed | curriculum, ``trustir.retrieval.regimes``).
    losses: list[str] = ["infonce", "rand1lh", "jointlh", "summarglh", "lsepair"]
    regimes: list[str] = ["human", "llm"]
    #: per-loss options, e.g. ``lsepair: {negatives: max}``; a loss not named takes its defaults.
    loss_options: dict[str, dict[str, Any]] = {
        "jointlh": {"normalize": True},
        "lsepair": {"negatives": "all", "positives": "all"},
    }
    #: mixed: the share of training queries that take their LLM positives (the rest human).
    mixed_ratio: float = Field(0.5, ge=0, le=1)
    #: curriculum: the share of the epochs on LLM labels before the human ones.
    curriculum_share: float = Field(0.5, gt=0, lt=1)
    #: the ``llm:<model>`` qrels source of the annotate stage; null = the only one present.
    llm_source: str | None = None
    #: train every regime on the same queries: those with both a human and an LLM positive (so
    #: regimes differ by their labels only); false = each regime on every query it has labels for.
    same_queries: bool = True
    #: at most this many training queries (a seeded, stable choice); null = all.
    max_train_queries: int | None = Field(32, gt=0)
    #: hard negatives: skip this many top BM25 ranks (often unlabelled relevant documents).
    skip_top: int = Field(3, ge=0)
    #: training settings; ``loss``/``loss_options`` are set per variant from the two keys above.
    train: TrainParams = TrainParams(
        batch_size=8, max_length=128, lr=1e-4, max_positives=3, hard_negatives=1, epochs=1
    )
    #: evaluation on a subset (for speed): at most this many test queries (seeded, stable)...
    eval_max_queries: int | None = Field(30, gt=0)
    #: ...against their relevant documents, their top ``eval_pool_depth`` BM25 documents (hard
    #: distractors) and a seeded corpus sample up to this many documents (qrels restricted to
    #: the subset); null = the whole corpus.
    eval_max_docs: int | None = Field(400, gt=0)
    eval_pool_depth: int = Field(10, ge=0)
    eval_seed: int = 13

    @model_validator(mode="after")
    def _known_names(self) -> MultiposParams:
        from trustir.retrieval.losses.base import LOSSES
        from trustir.retrieval.regimes import REGIMES

        LOSSES.check([*self.losses, *self.loss_options], "multipos")
        REGIMES.check(self.regimes, "multipos.regimes")
        if not self.losses or not self.regimes:
            raise ValueError("losses and regimes must each name at least one")
        return self
