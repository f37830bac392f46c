"""The one LLM interface every judge uses: option log-probabilities, sampled text, token counts.

Issue 3 ("Backends"). A backend is ``hf`` (a local transformers causal LM) or ``openai`` (any
OpenAI-compatible endpoint); both register in :data:`BACKENDS` and are built from
:class:`trustir.llm.config.LLMParams` by :func:`trustir.llm.config.make_backend`.
"""

from __future__ import annotations

import hashlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from trustir.registry import Registry

#: A prompt is the user's message as text, or a full chat (``[{"role": ..., "content": ...}]``).
Prompt = str | Sequence[Mapping[str, str]]

#: Backend classes by name (``hf``, ``openai``); each has ``from_params(LLMParams)``.
BACKENDS: Registry[type[LLMBackend]] = Registry("llm backend", autoload="trustir.llm.backends")


class LLMError(RuntimeError):
    """An LLM call that failed for good (after the retries it was allowed)."""


class LLMConnectionError(LLMError):
    """The endpoint could not be reached (refused, DNS, reset)."""


class LLMTimeoutError(LLMError):
    """The endpoint did not answer within ``timeout_s`` (on every try)."""


class LLMPartialScores(LLMError):
    """Some prompts of one ``score`` call failed for good, the others were scored.

    ``scores`` is ``[n_prompts, n_options]`` with NaN rows for the failed prompts; ``failed``
    maps each failed prompt's index to its error message (so each becomes its own error row).
    """

    def __init__(self, message: str, scores: np.ndarray, failed: dict[int, str]) -> None:
        super().__init__(message)
        self.scores = scores
        self.failed = failed


class LLMHTTPError(LLMError):
    """The endpoint answered with an HTTP error status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Generation:
    """One sampled reply: its text, its tokens and their log-probabilities under the model.

    ``token_logprobs`` are the model's own log-probabilities (before temperature), one per
    generated token (the end-of-turn token excluded); ``tokens_in`` counts the prompt's tokens.
    """

    text: str
    tokens: list[str] = field(default_factory=list)
    token_logprobs: list[float] = field(default_factory=list)
    tokens_in: int = 0
    tokens_out: int = 0
    finish_reason: str = "stop"  # "stop" (end of turn) or "length" (max_new_tokens reached)

    @property
    def logprob(self) -> float:
        """The log-probability of the whole reply (sum over its tokens)."""
        return float(sum(self.token_logprobs))


@dataclass
class Usage:
    """Running totals of one backend object (thread-safe increments); the ledger reads deltas."""

    calls: int = 0  # items sent to the model: one per scored prompt, one per generate call
    tokens_in: int = 0  # prompt (+ teacher-forced option) tokens, as an API would bill them
    tokens_out: int = 0  # generated tokens
    tokens_computed: int = 0  # tokens actually run through the model (hf; prefix reuse saves)
    retries: int = 0  # repeated HTTP requests (openai)
    seconds: float = 0.0  # wall time inside backend calls
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: float) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "_lock"}


def derive_seed(base: int, *parts: Any) -> int:
    """A 63-bit seed from a base seed and a call's content: stable across runs and processes."""
    text = "\x1f".join(str(p) for p in (base, *parts))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


def to_messages(prompt: Prompt) -> list[dict[str, str]]:
    """A chat for ``prompt``: a bare string becomes one user message."""
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    msgs = [dict(m) for m in prompt]
    for m in msgs:
        if set(m) != {"role", "content"}:
            raise ValueError(f"a chat message needs exactly 'role' and 'content', got {sorted(m)}")
    return msgs


def check_options(options: Sequence[str]) -> list[str]:
    """Options as a list; empty or repeated options are errors (ill-posed scores)."""
    opts = list(options)
    if not opts:
        raise ValueError("score() needs at least one option")
    if any(not o for o in opts):
        raise ValueError("score() options must be non-empty strings")
    if len(set(opts)) != len(opts):
        raise ValueError(f"score() options repeat: {opts}")
    return opts


class LLMBackend(ABC):
    """A language model behind trustir's judges.

    ``model_id`` names the model and its revision (a content hash where there is no revision):
    it enters every label key, so a different model never reuses another's labels.
    """

    model_id: str
    usage: Usage

    @classmethod
    def from_params(cls, params: Any) -> LLMBackend:
        """Build from :class:`trustir.llm.config.LLMParams` (what ``make_backend`` calls)."""
        raise NotImplementedError

    @abstractmethod
    def score(self, prompts: Sequence[Prompt], options: Sequence[str]) -> np.ndarray:
        """Log-probabilities ``[n_prompts, n_options]`` of each option as the reply's start.

        Each option is teacher-forced right after the assistant turn opens; a multi-token option
        scores the sum of its tokens' log-probabilities ("10" = log p("1") + log p("0" | "1")).
        """

    @abstractmethod
    def generate(
        self,
        prompt: Prompt,
        n: int = 1,
        temperature: float = 0.0,
        max_new_tokens: int = 32,
        seed: int | None = None,
    ) -> list[Generation]:
        """``n`` replies to ``prompt`` (temperature 0 = greedy), each with per-token log-probs.

        Seeded: the same prompt, ``n``, temperature and seed give the same replies.
        """

    def sample(
        self,
        prompt: Prompt,
        seeds: Sequence[int],
        temperature: float = 1.0,
        top_p: float = 1.0,
        max_new_tokens: int = 32,
    ) -> list[Generation]:
        """One sampled reply per seed, each with per-token log-probs (issue 14).

        Reply ``i`` depends on ``seeds[i]`` only (not on how many are asked at once), so a
        cache keyed by sample index can grow ``n`` by computing only the new samples.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot sample with per-row seeds")

    def continuation_logprobs(
        self, prompts: Sequence[Prompt], continuations: Sequence[str], chat: bool = True
    ) -> list[np.ndarray]:
        """Teacher-forced log-probs ``[n_tokens]`` of each continuation after its prompt (the
        query-likelihood judge's path). Only backends that can score arbitrary text have it."""
        raise NotImplementedError(
            f"backend {type(self).__name__} cannot score continuations: use llm.backend 'hf'"
        )

    @abstractmethod
    def count_tokens(self, prompt: Prompt) -> int:
        """Tokens ``prompt`` takes once the chat template is applied (an estimate if unknown)."""

    def describe(self) -> dict[str, Any]:
        """A JSON-able description for provenance (never a secret)."""
        return {"backend": type(self).__name__, "model_id": self.model_id}

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Release resources (connections, model memory)."""
