"""Typed params of the ``vision`` section: the visual world, the VLM and P2/P7 training."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from trustir.section import Section

VARIANTS = ("none", "cocoa", "coma")


class TinyVLMParams(Section):
    """A Qwen2-VL architecture at toy size, built from a config (``vision.model: tiny``)."""

    hidden_size: int = Field(64, gt=0)
    layers: int = Field(2, gt=0)
    heads: int = Field(4, gt=0)
    kv_heads: int = Field(2, gt=0)
    vision_depth: int = Field(2, gt=0)
    vision_dim: int = Field(64, gt=0)
    vision_heads: int = Field(2, gt=0)
    #: seeds the random initialisation: every variant starts from the same weights.
    seed: int = 13


class VisionParams(Section):
    """The visual mini-world (renders, MMEB-like tasks) and the multimodal embedders (P2, P7)."""

    section_name: ClassVar[str] = "vision"

    #: "tiny" (a Qwen2-VL config at toy size, a word-level tokenizer built on the world), a hub
    #: id (``Qwen/Qwen2-VL-2B-Instruct``) or a local folder holding one.
    model: str = "tiny"
    revision: str | None = None
    tiny: TinyVLMParams = TinyVLMParams()
    #: "auto": bf16 on a GPU, fp32 on CPU.
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    device: str = "auto"
    #: renders are square, this many pixels (a multiple of 28: patch 14 x merge 2).
    image_size: int = Field(112, gt=0)
    #: world pages rendered (a seeded choice of the corpus); null = every document.
    max_pages: int | None = Field(400, gt=0)
    #: candidates per retrieval item (one positive); cls has the four labels, vqa-level five.
    candidates: int = Field(4, ge=2)
    test_fraction: float = Field(0.3, gt=0, lt=1)
    #: the mm_train matrix.
    variants: list[str] = list(VARIANTS)
    #: training examples of each pre-training (images); "none" trains contrastively on these
    #: too, so every variant sees pretrain_examples + contrastive_examples in all.
    pretrain_examples: int = Field(256, ge=0)
    contrastive_examples: int = Field(1024, gt=0)
    batch_size: int = Field(16, gt=0)
    #: AdamW's peak learning rate of InfoNCE (2e-3 without warm-up collapsed every embedding).
    lr: float = Field(5e-4, gt=0)
    #: share of the steps with a linear warm-up (then a linear decay to lr / 10).
    #: AdamW's peak learning rate of pre-training (a next-token NLL: stable higher up).
    pretrain_lr: float = Field(2e-3, gt=0)
    warmup: float = Field(0.1, ge=0, lt=1)
    max_grad_norm: float = Field(1.0, gt=0)
    #: InfoNCE temperature (0.02 in CoMa).
    tau: float = Field(0.02, gt=0)
    #: CoMa's compression tokens (K = 32 in the paper).
    compression_tokens: int = Field(32, gt=0)
    #: test items scored per task (a seeded, stable choice); null = all.
    eval_max_items: int | None = Field(80, gt=0)
    seed: int = 13

    @model_validator(mode="after")
    def _known(self) -> VisionParams:
        for v in self.variants:
            if v not in VARIANTS:
                raise ValueError(f"vision.variants: unknown {v!r}; known: {', '.join(VARIANTS)}")
        if "none" not in self.variants:
            raise ValueError("vision.variants must include none (the contrastive-only baseline)")
        if self.image_size % 28:
            raise ValueError(f"vision.image_size {self.image_size} must be a multiple of 28")
        return self

    def contrastive_for(self, variant: str) -> int:
        """Contrastive examples of ``variant``: equal totals across variants."""
        return self.contrastive_examples + (self.pretrain_examples if variant == "none" else 0)
