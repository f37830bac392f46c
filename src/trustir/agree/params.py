"""Typed params of the ``agree`` section: ViDoRe-like pages, the late-interaction retriever and
AGREE's local supervision (PAPERS.md P6)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from trustir.section import Section
from trustir.vision.params import TinyVLMParams


class AgreeParams(Section):
    """ViDoRe-like visual retrieval and AGREE training (P6)."""

    section_name: ClassVar[str] = "agree"

    #: "world": pages rendered from the mini-world (answer regions known); "folder": ``path``
    #: holds ``pages/<doc_id>.<png|jpg>``, ``queries.jsonl`` and ``qrels/test.tsv`` (+ train.tsv).
    source: Literal["world", "folder"] = "world"
    path: str | None = None
    #: square pages, this many pixels (a multiple of 28): (size / 28)^2 visual tokens.
    image_size: int = Field(224, gt=0)
    #: fact blocks per page side (2 -> a 2 x 2 layout; each block is one answer region).
    blocks_per_side: int = Field(2, ge=1)
    pages: int = Field(60, gt=0)
    #: the entity pool the pages draw from (each page shows distinct ones; they recur).
    entities: int = Field(40, gt=0)
    test_fraction: float = Field(0.3, gt=0, lt=1)
    #: the retriever: "tiny" (a toy Qwen2-VL from ``tiny``) or a hub id / folder of a Qwen2-VL.
    model: str = "tiny"
    tiny: TinyVLMParams = TinyVLMParams()
    #: the MLLM whose attention is the target: "tiny" (a separately seeded toy Qwen2-VL, not a
    #: trained MLLM) or a hub id (the paper's frozen MLLM).
    target_model: str = "tiny"
    target_seed: int = 29
    #: where Ã comes from (registry ``agree target``): mllm_attention is the paper's.
    target: str = "mllm_attention"
    #: projection dimension of the token / patch embeddings (ColPali: 128).
    dim: int = Field(32, gt=0)
    #: rows of the table: "global" (no local loss) and AGREE with each local-loss variant.
    local_losses: list[str] = ["kl", "topk_ce", "cos"]
    lambdas: list[float] = [1.0]
    #: top-K % of patches (by Ã) that are the positives of topk_ce.
    top_k_percent: float = Field(10.0, gt=0, le=100)
    #: softmax temperatures of the local loss: of the target (on Ã / max Ã) and of s.
    target_temperature: float = Field(0.1, gt=0)
    score_temperature: float = Field(0.1, gt=0)
    #: temperature of the global softplus loss (on length-normalised MaxSim, as colpali-engine);
    #: at 0.05 and above the toy backbone collapsed (every score equal, loss ln 2: README).
    global_temperature: float = Field(0.02, gt=0)
    epochs: int = Field(5, gt=0)
    batch_size: int = Field(16, ge=2)
    lr: float = Field(5e-4, gt=0)
    max_grad_norm: float = Field(1.0, gt=0)
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    device: str = "auto"
    seed: int = 13

    @model_validator(mode="after")
    def _check(self) -> AgreeParams:
        if self.image_size % 28:
            raise ValueError(f"agree.image_size {self.image_size} must be a multiple of 28")
        if (self.image_size // 28) % self.blocks_per_side:
            raise ValueError(
                f"agree.blocks_per_side {self.blocks_per_side} must divide the patch grid "
                f"side {self.image_size // 28} (agree.image_size / 28)"
            )
        if self.source == "folder" and not self.path:
            raise ValueError("agree.source folder needs agree.path")
        return self

    def rows(self) -> list[tuple[str, str | None, float]]:
        """(row name, local loss or None, λ) of every table row; ``global`` first."""
        out: list[tuple[str, str | None, float]] = [("global", None, 0.0)]
        out += [(f"agree-{v}-l{lam:g}", v, lam) for v in self.local_losses for lam in self.lambdas]
        return out
