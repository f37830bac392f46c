"""The GPU benchmark's CPU-safe path: the same script at toy size, two steps per phase."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks/gpu/mm_pretrain_gpu.py"


def _load():
    spec = importlib.util.spec_from_file_location("mm_pretrain_gpu", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_gpu_script_runs_every_variant_at_tiny_size():
    results = _load().main(
        ["--tiny", "--steps", "2", "--batch", "4", "--scale", "0.1", "--lr", "1e-3"]
    )
    phases = [r["phase"] for r in results]
    assert phases == [
        "none/contrastive",
        "cocoa/pretrain",
        "cocoa/contrastive",
        "coma/pretrain",
        "coma/contrastive",
    ]
    by = {r["phase"]: r for r in results}
    assert by["none/contrastive"]["examples"] == 16  # equal totals: none gets both budgets
    assert by["cocoa/pretrain"]["examples"] == 8
    assert all(r["examples_per_s"] > 0 for r in results)


def test_real_size_config_is_qwen2_vl_2b():
    """The random real-size start has Qwen2-VL-2B's shape (about 2.2B parameters), built on
    the meta device so the test allocates nothing."""
    import torch
    from transformers import Qwen2VLForConditionalGeneration

    mod = _load()
    from trustir.vision.model import word_tokenizer
    from trustir.vision.params import VisionParams

    cfg = mod.real_size_config(word_tokenizer(["a b"]), VisionParams())
    with torch.device("meta"):
        model = Qwen2VLForConditionalGeneration(cfg)
    n = sum(p.numel() for p in model.parameters())
    assert 2.0e9 < n < 2.4e9, n
    assert cfg.text_config.hidden_size == 1536 and cfg.vision_config.depth == 32
