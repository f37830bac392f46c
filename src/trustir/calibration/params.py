"""Typed ``calibration`` params (P4 MACE, issue 14), light to import (no torch, no polars)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from trustir.section import Section

#: the table's default rows, in reading order (every name is checked against the registry).
DEFAULT_METHODS = (
    "sequence_probability",
    "perplexity",
    "predictive_entropy",
    "normalized_entropy",
    "verbalized",
    "verbalized_topk",
    "verbalized_sampling",
    "lexical_consistency",
    "semantic_consistency",
    "verbalized_consistency",
    "semantic_entropy",
    "p_true",
    "sca",
)


class QAParams(Section):
    """Where the questions come from (``data``-style: point ``source``/``path`` at a file)."""

    #: world (the mini-world's multi-answer facet, seeded by data.seed/scale), mace (the MACE
    #: folder, opt-in), jsonl (any file of {"id", "question", "answers": [...]} lines)
    source: Literal["world", "mace", "jsonl"] = "world"
    #: mace: the folder (relative to the repo root); jsonl: the file
    path: str | None = None
    #: world: the prompt holds the documents stating the facts (closed-book otherwise)
    in_context: bool = True
    #: world and mace: questions per answer count (mace: per domain and count)
    per_count: int = Field(2, gt=0)
    counts: list[int] = [1, 2, 4, 6]
    #: world: pages about other entities shown with the answers' pages
    distractors: int = Field(2, ge=0)
    snippet_chars: int = Field(160, gt=20)
    #: jsonl: keep the first this many questions (null = all)
    max_questions: int | None = Field(None, gt=0)


class SampleParams(Section):
    """How answers are sampled (every field enters the label keys)."""

    n: int = Field(4, gt=0)
    temperature: float = Field(0.7, gt=0)
    top_p: float = Field(1.0, gt=0, le=1)
    max_new_tokens: int = Field(10, gt=0)
    seed: int = 0
    #: top-k verbalized: guesses asked for, and the reply's length in tokens
    top_k: int = Field(3, ge=2)
    topk_tokens: int = Field(24, gt=0)


class ClusterParams(Section):
    """Semantic clusters of answers: sentence embeddings, agglomerative clustering."""

    encoder: str = "minilm"
    #: cosine distance below which answers merge (average linkage)
    distance_threshold: float = Field(0.25, gt=0, lt=2)


class ScaParams(Section):
    """SCA (Semantic Confidence Aggregation)."""

    #: clusters whose probability (sum of exp(seq log-prob) over distinct sequences) is >= tau
    tau: float = Field(0.01, ge=0)
    #: which questions fit the min-max normalisation: all, or the fit / test split
    fit_on: Literal["all", "fit", "test"] = "all"


class CalibrationParams(Section):
    """P4: confidence methods under several correct answers; ECE/AUROC by answer count."""

    section_name: ClassVar[str] = "calibration"

    qa: QAParams = QAParams()
    sample: SampleParams = SampleParams()
    cluster: ClusterParams = ClusterParams()
    sca: ScaParams = ScaParams()
    methods: list[str] = list(DEFAULT_METHODS)
    #: correctness rule: exact (SQuAD-normalised exact match with any reference) or contains
    #: (a normalised reference occurs in the normalised answer, on word boundaries)
    match: Literal["exact", "contains"] = "contains"
    #: share of questions in the "fit" split (by a hash of qid); the rest are "test"
    fit_fraction: float = Field(0.5, gt=0, lt=1)
    #: which questions the metrics cover
    eval_on: Literal["all", "fit", "test"] = "all"
    n_bins: int = Field(10, gt=1)
    #: null = the llm.store default (the label store under the cache dir)
    store: str | None = None

    @field_validator("methods")
    @classmethod
    def _registered_methods(cls, names: list[str]) -> list[str]:
        from trustir.calibration.methods import METHODS

        METHODS.check(names, "calibration.methods")
        if not names:
            raise ValueError("calibration.methods must name at least one method")
        return names
