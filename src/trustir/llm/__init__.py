"""The LLM layer (issue 3): backends behind one interface, the label store, the ledger.

``make_backend(LLMParams(...))`` builds an ``hf`` (local transformers) or ``openai``
(OpenAI-compatible endpoint) backend; ``LabelStore`` caches labels by content address
(``label_key``); ``Ledger`` counts calls, cache hits, tokens and seconds. Importing this package
does not import torch (the ``hf`` backend does, when built).
"""

from trustir.llm.base import (
    BACKENDS,
    Generation,
    LLMBackend,
    LLMConnectionError,
    LLMError,
    LLMHTTPError,
    LLMTimeoutError,
    Prompt,
    Usage,
)
from trustir.llm.config import LLMParams, make_backend
from trustir.llm.ledger import Ledger, read_ledger
from trustir.llm.store import LABELS, LabelStore, compute_missing, label_key, template_hash

__all__ = [
    "BACKENDS",
    "LABELS",
    "Generation",
    "LLMBackend",
    "LLMConnectionError",
    "LLMError",
    "LLMHTTPError",
    "LLMParams",
    "LLMTimeoutError",
    "LabelStore",
    "Ledger",
    "Prompt",
    "Usage",
    "compute_missing",
    "label_key",
    "make_backend",
    "read_ledger",
    "template_hash",
]
