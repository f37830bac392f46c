"""The base model PRAG trains on, loaded only when some reply or adapter is missing.

``model_id`` (name and revision, as the label store's keys carry it) is known without loading
the weights (``trustir.llm.models.resolve``), so a fully cached re-run never loads the model.
"""

from __future__ import annotations

import functools
from typing import Any

from trustir.llm.config import LLMParams


def model_id_of(llm: LLMParams) -> str:
    """The id the hf backend gives the model (fp32 on CPU; other dtypes are suffixed)."""
    from trustir.llm.models import resolve

    if llm.backend != "hf":
        raise ValueError("prag trains LoRAs on local weights: llm.backend must be 'hf'")
    model_id = resolve(llm.model, llm.revision)[1]
    if llm.dtype not in ("auto", "float32"):
        model_id += f"+{llm.dtype}"
    return model_id


class BaseModel:
    """The hf backend's model, tokenizer and chat renderer, built on first use."""

    def __init__(self, llm: LLMParams) -> None:
        self.llm = llm
        self.model_id = model_id_of(llm)

    @functools.cached_property
    def backend(self) -> Any:
        from trustir.llm.config import make_backend

        backend = make_backend(self.llm, cached=False)
        if backend.model_id != self.model_id:
            raise ValueError(f"prag: loaded {backend.model_id}, expected {self.model_id}")
        backend.model.requires_grad_(False)
        return backend

    @property
    def model(self) -> Any:
        return self.backend.model

    @property
    def tokenizer(self) -> Any:
        return self.backend.tokenizer

    def render(self, prompt: str) -> list[int]:
        """Token ids of a user message with the chat template and an opened assistant turn."""
        return self.backend.render(prompt)
