"""The LLM layer (issue 3): backends behind one interface, the label store, the ledger.

``config.make_backend(LLMParams(...))`` builds a registered backend (``backends/``: ``hf``, local
transformers; ``openai``, an OpenAI-compatible endpoint); ``store.LabelStore`` caches labels by
content address (``store.label_key``); ``ledger.Ledger`` counts calls, cache hits, tokens and
seconds. Importing ``config`` does not import torch (the ``hf`` backend does, when built).
"""
