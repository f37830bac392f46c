"""Typed ``lvlm`` params (P10 LVLM knowledge boundaries, issue 17), light to import."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from trustir.section import Section

#: confidence methods that read only an item's greedy reply, samples and verbalized reply (no
#: semantic clusters, no top-k or P(True) prompts): the ones this study can run on both models.
SUPPORTED_METHODS = (
    "sequence_probability",
    "perplexity",
    "predictive_entropy",
    "normalized_entropy",
    "lexical_consistency",
    "verbalized",
)
#: sample sets a consistency row can be computed over (besides the temperature samples).
SETS = ("rephrased", "perturbed")
PERTURBATIONS = ("blur", "noise", "crop")
MODELS = ("vlm", "text")


class LvlmParams(Section):
    """P10: VQA on the rendered world pages; the VLM and its text-only counterpart (SmolLM2)."""

    section_name: ClassVar[str] = "lvlm"

    #: questions asked (a seeded choice of the pages whose shown text states a fact)
    items: int = Field(4, gt=0)
    seed: int = 13
    #: temperature samples per question and model (every field below enters the label keys)
    n: int = Field(3, gt=0)
    temperature: float = Field(0.7, gt=0)
    top_p: float = Field(1.0, gt=0, le=1)
    max_new_tokens: int = Field(12, gt=0)
    #: rephrased questions per question, written by the text LLM (cached in the label store)
    rephrasings: int = Field(1, ge=0)
    rephrase_temperature: float = Field(0.9, gt=0)
    rephrase_tokens: int = Field(16, gt=0)
    #: perturbed images per question (VLM only): each kind once, seeded
    perturbations: list[Literal["blur", "noise", "crop"]] = list(PERTURBATIONS)
    blur_radius: float = Field(1.0, gt=0)
    #: Gaussian pixel noise, standard deviation on the 0-255 scale
    noise_std: float = Field(16.0, gt=0)
    #: crop keeps this share of each side (a seeded offset), resized back to the full size
    crop_keep: float = Field(0.9, gt=0, lt=1)
    #: rows: each method on each model's temperature samples ...
    methods: list[str] = list(SUPPORTED_METHODS)
    #: ... plus lexical consistency over these sets (perturbed: the VLM only)
    consistency_sets: list[Literal["rephrased", "perturbed"]] = list(SETS)
    models: list[Literal["vlm", "text"]] = list(MODELS)
    #: correctness: exact or contains (SQuAD-normalised, as calibration.match)
    match: Literal["exact", "contains"] = "contains"
    n_bins: int = Field(10, gt=1)
    #: null = the llm.store default (the label store under the cache dir)
    store: str | None = None

    @field_validator("methods")
    @classmethod
    def _supported(cls, names: list[str]) -> list[str]:
        bad = [n for n in names if n not in SUPPORTED_METHODS]
        if bad or not names:
            raise ValueError(
                f"lvlm.methods: {bad or 'none given'}; supported: {', '.join(SUPPORTED_METHODS)}"
            )
        return names
