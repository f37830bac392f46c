"""Typed ``llm`` params (one flat section) and :func:`make_backend`, the only way to build one.

Issue 3. The section names a backend (``hf`` or ``openai``) and its knobs; keys that belong to
the other backend are accepted and ignored, so a profile can switch ``backend`` alone. Secrets
never appear here: ``api_key_env`` is the *name* of the environment variable holding the key.
"""

from __future__ import annotations

import functools
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from trustir.llm.base import BACKENDS, LLMBackend
from trustir.section import Section


class LLMParams(Section):
    """One LLM: which backend, which model, how to batch and decode, how to reach it."""

    section_name: ClassVar[str] = "llm"

    #: a registered backend (``trustir.llm.backends``): hf | openai. Checked when the backend is
    #: built and by ``trustir.params.Params`` (checking it here would import torch everywhere).
    backend: str = "hf"
    #: hf: "smollm2" (packaged, default), a Hugging Face id or a local directory;
    #: openai: the model name the endpoint serves.
    model: str = "smollm2"
    #: a revision/tag that enters label keys; hf: also the hub revision to load. null = derived
    #: (hub commit hash, or a content hash of a local/packaged model).
    revision: str | None = None
    #: hf: "auto" (cuda if present, else cpu), "cpu", "cuda", "cuda:1"...
    device: str = "auto"
    #: hf: "auto" = float32 on CPU, bfloat16 on GPU.
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    #: hf: rows per forward pass (a prompt takes one, plus one per multi-token option);
    #: openai: prompt+option texts per /completions request.
    batch_size: int = Field(16, gt=0)
    #: default generation length of judges that generate.
    max_new_tokens: int = Field(32, gt=0)
    #: base seed of sampling (each call derives its own from the prompt, so results are stable).
    seed: int = 0
    #: hf: reuse the KV cache of the token prefix shared by a batch (off = plain padded batches).
    prefix_cache: bool = True
    #: openai: e.g. "http://127.0.0.1:8000/v1" (as the OpenAI SDK's base_url, with /v1), or a
    #: list of replicas serving the same model (requests spread over them, with failover).
    base_url: str | tuple[str, ...] | None = None
    #: openai: the NAME of the environment variable holding the API key (null = no key).
    api_key_env: str | None = None
    #: openai: requests in flight at once per endpoint (so len(base_url) x this in all).
    concurrency: int = Field(4, gt=0)
    #: openai: seconds an endpoint that refused a connection or timed out is skipped (doubles
    #: on each further failure, capped at 30 s); the other replicas take its requests.
    cooldown_s: float = Field(2.0, ge=0)
    #: openai: send the API key over plain http:// to a non-loopback host (default: refused,
    #: the key would cross the network in clear text).
    allow_plain_http_key: bool = False
    #: openai: seconds to wait for an answer (per try).
    timeout_s: float = Field(60.0, gt=0)
    #: openai: extra tries after a timeout, 429 or 5xx (never after another 4xx).
    max_retries: int = Field(4, ge=0)
    #: openai: first back-off in seconds (doubles each retry, with full jitter, capped at 30 s).
    backoff_s: float = Field(0.5, ge=0)
    #: openai score path: "completions" (echo + logprobs: exact, multi-token options), "chat"
    #: (top_logprobs of the first reply token), "auto" (completions when possible, else chat).
    score_mode: Literal["auto", "completions", "chat"] = "auto"
    #: openai: a tokenizer (hf id, dir or "smollm2") whose chat template renders prompts for the
    #: completions score path; null = the server applies the template (chat path only).
    tokenizer: str | None = None
    #: openai chat score path: how many alternatives to ask for (OpenAI allows up to 20).
    top_logprobs: int = Field(20, gt=0, le=20)

    @model_validator(mode="after")
    def _needs_url(self) -> LLMParams:
        if self.backend == "openai" and not self.base_url:
            raise ValueError("backend 'openai' needs base_url (e.g. http://127.0.0.1:8000/v1)")
        return self


def make_backend(params: LLMParams | None = None, cached: bool = True) -> LLMBackend:
    """The backend ``params`` describe; ``cached`` shares one loaded model per distinct params."""
    params = params or LLMParams()
    return _make_cached(params) if cached else _make(params)


def _make(params: LLMParams) -> LLMBackend:
    BACKENDS.check(params.backend, "llm.backend")  # a ValueError: a user error in a stage
    return BACKENDS.get(params.backend).from_params(params)  # type: ignore[attr-defined]


@functools.lru_cache(maxsize=4)
def _make_cached(params: LLMParams) -> LLMBackend:
    return _make(params)
