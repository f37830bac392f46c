"""Test helpers: a tiny random BERT with MiniLM's real tokenizer (fast to train and merge).

A 2-layer, 32-wide BERT runs in milliseconds yet exercises the real code paths of the encoders,
trainers and merges (``TrainParams(model=str(build_tiny_bert(tmp_path)))``).
"""

from __future__ import annotations

from pathlib import Path


def build_tiny_bert(path: str | Path, max_position_embeddings: int = 512) -> Path:
    """Save a 2-layer, 32-wide random BERT (seed 0) with MiniLM's tokenizer into ``path``."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from trustir.retrieval.encoders import resolve_model

    out = Path(path)
    tok = AutoTokenizer.from_pretrained(resolve_model("minilm"), local_files_only=True)
    torch.manual_seed(0)
    cfg = BertConfig(
        vocab_size=tok.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=max_position_embeddings,
    )
    BertModel(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    return out
