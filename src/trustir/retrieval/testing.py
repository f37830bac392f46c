"""Test helpers: a tiny random BERT with MiniLM's real tokenizer (fast to train and merge).

A 2-layer, 32-wide BERT runs in milliseconds yet exercises the real code paths of the encoders,
trainers and merges (``TrainParams(model=str(build_tiny_bert(tmp_path)))``). It is the
``"tiny-bert"`` of :mod:`trustir.retrieval.encoders` (same config and seed), saved as a folder.
"""

from __future__ import annotations

from pathlib import Path


def build_tiny_bert(path: str | Path, max_position_embeddings: int = 512) -> Path:
    """Save the seeded ``tiny-bert`` (optionally with fewer positions) into ``path``."""
    from trustir.retrieval.encoders import build_config_model

    out = Path(path)
    tokenizer, model = build_config_model(
        "tiny-bert", max_position_embeddings=max_position_embeddings
    )
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
