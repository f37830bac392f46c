"""Test helpers: tiny random causal LMs with SmolLM2's real tokenizer (as HF's own tests do).

A tiny Llama (2 layers, width 32) runs in milliseconds yet exercises the real code paths: the
chat template, single-token digits, multi-token options, padding and the KV cache. Judges' tests
can use it too (``HFBackend(model=str(build_tiny_model(tmp_path)))``).
"""

from __future__ import annotations

from pathlib import Path


def build_tiny_model(
    out_dir: str | Path,
    seed: int = 0,
    hidden_size: int = 32,
    layers: int = 2,
    init_range: float = 0.3,
) -> Path:
    """Save a random Llama with SmolLM2's tokenizer and chat template into ``out_dir``.

    ``init_range`` is large on purpose: scores then spread over several nats, so a misaligned
    position or a padding leak shows up well above test tolerances.
    """
    import torch
    from transformers import AutoTokenizer, GenerationConfig, LlamaConfig, LlamaForCausalLM

    from trustir.llm.models import smollm2_dir

    out = Path(out_dir)
    if (out / "config.json").is_file():
        return out
    tok = AutoTokenizer.from_pretrained(smollm2_dir()[0])
    config = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        initializer_range=init_range,
        tie_word_embeddings=False,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval()
    model.generation_config = GenerationConfig(
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id
    )
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out
