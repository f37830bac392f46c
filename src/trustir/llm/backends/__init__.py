"""LLM backends, one registered module each: ``hf`` (local transformers) and ``openai`` (an
OpenAI-compatible endpoint). ``BACKENDS`` (``trustir.llm.base``) loads every module here on first
use; adding a backend is one module with ``@BACKENDS.register(name)``."""
