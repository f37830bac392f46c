"""Typed ``prag`` params (P9 Parametric RAG, issue 15), light to import (no torch, no polars)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from trustir.section import Section

MODES = ("vanilla", "textual", "parametric", "combined")


class PragDataParams(Section):
    """Which questions, which corpus, how many documents are retrieved."""

    #: world (the mini-world's queries; answers are its synthetic facts), jsonl (any file of
    #: {"id", "question", "answers"} lines), popqa (the PopQA long-tail CSV; opt-in profile)
    source: Literal["world", "jsonl", "popqa"] = "world"
    #: jsonl: the questions file; popqa: the folder holding DisambPopQA.csv (repo-relative)
    questions: str | None = None
    #: jsonl / popqa: a BEIR-layout folder (corpus.jsonl) the questions retrieve from
    corpus: str | None = None
    #: questions kept (the first by id after the filters)
    max_questions: int = Field(2, gt=0)
    #: world: which query split the questions come from
    split: Literal["train", "test", "all"] = "test"
    #: keep only questions whose top-k holds a document containing an answer (so that the
    #: documents can carry the fact; the retrieval hit rate is reported beside the table)
    require_hit: bool = True
    #: documents retrieved per question (BM25, as the index stage's retrieval)
    top_k: int = Field(2, gt=0)
    #: a noise document is none of the question's top ``exclude_depth`` and holds no answer
    exclude_depth: int = Field(20, gt=0)
    seed: int = 0


class AugmentParams(Section):
    """PRAG's augmentation: ``rewrites`` rewrites and ``qa_pairs`` QA pairs per document."""

    rewrites: int = Field(1, ge=0)
    qa_pairs: int = Field(3, ge=0)
    #: registered generators (trustir.prag.generators)
    rewrite_generator: str = "rewrite"
    qa_generator: str = "qa"
    rewrite_tokens: int = Field(40, gt=0)
    qa_tokens: int = Field(48, gt=0)
    #: prompts per batched generation
    batch_size: int = Field(8, gt=0)

    @field_validator("rewrite_generator", "qa_generator")
    @classmethod
    def _registered(cls, name: str) -> str:
        from trustir.prag.generators import GENERATORS

        GENERATORS.check(name, "prag.augment generator")
        return name


class LoraParams(Section):
    """One LoRA per document (PRAG's defaults: FFN projections, r 2, alpha 32, lr 3e-4, 1 epoch).
    Every field enters the adapter key."""

    r: int = Field(2, gt=0)
    alpha: float = Field(32.0, gt=0)
    target_modules: list[str] = ["gate_proj", "up_proj", "down_proj"]
    lr: float = Field(3e-4, gt=0)
    epochs: int = Field(1, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    #: tokens per training example (longer ones are cut)
    max_length: int = Field(160, gt=8)
    seed: int = 0
    #: batched (several documents' LoRAs in one forward, a different adapter per row; 2.2x
    #: the plain loop on 2 CPU cores, equal to it within float32 noise) or plain (one peft
    #: model, one document at a time: the reference)
    trainer: Literal["plain", "batched"] = "batched"
    #: documents per batched forward
    batch_docs: int = Field(16, gt=0)


class PragParams(Section):
    """P9: parametric vs textual vs combined RAG at several noise levels."""

    section_name: ClassVar[str] = "prag"

    data: PragDataParams = PragDataParams()
    augment: AugmentParams = AugmentParams()
    lora: LoraParams = LoraParams()
    modes: list[Literal["vanilla", "textual", "parametric", "combined"]] = list(MODES)
    #: share of the retrieved documents replaced by irrelevant ones
    noise: list[float] = [0.0, 1.0]
    answer_tokens: int = Field(16, gt=0)
    #: null = the llm.store default (the label store under the cache dir)
    store: str | None = None
    #: null = cache_dir("adapters")
    adapter_store: str | None = None

    @field_validator("noise")
    @classmethod
    def _shares(cls, levels: list[float]) -> list[float]:
        if not levels or any(not 0 <= x <= 1 for x in levels):
            raise ValueError(f"prag.noise: shares in [0, 1], at least one; got {levels}")
        return levels
