"""The VLM layer: a Qwen2-VL model and its processor, loaded by hub id, local folder or config.

``vision.model: tiny`` builds the Qwen2-VL architecture at toy size from a config, with a
word-level tokenizer fitted on the world's texts (README, DESIGN note "Why a tiny Qwen2-VL");
any other value is a hub id (``Qwen/Qwen2-VL-2B-Instruct``) or a folder, loaded unchanged with
``Qwen2VLForConditionalGeneration`` in bf16 on a GPU. The processor is transformers'
``Qwen2VLProcessor`` (image tokens expanded by the image grid), built from the folder's tokenizer
and its PIL image processor, so it needs neither torchvision nor a video processor.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoTokenizer,
    PreTrainedTokenizerFast,
    Qwen2VLConfig,
    Qwen2VLForConditionalGeneration,
    Qwen2VLProcessor,
)
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil
from transformers.processing_utils import ProcessorMixin

from trustir.vision.params import VisionParams

VISION_START, VISION_END = "<|vision_start|>", "<|vision_end|>"
IMAGE_PAD, VIDEO_PAD = "<|image_pad|>", "<|video_pad|>"
SPECIALS = ["<pad>", "<unk>", "<eos>", VISION_START, VISION_END, IMAGE_PAD, VIDEO_PAD]


class ImageQwen2VLProcessor(Qwen2VLProcessor):
    """``Qwen2VLProcessor`` for images only: no video processor (which needs torchvision)."""

    def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
        self.image_token = getattr(tokenizer, "image_token", None) or IMAGE_PAD
        self.video_token = getattr(tokenizer, "video_token", None) or VIDEO_PAD
        self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
        self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)
        ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)


@dataclass
class VLM:
    """A loaded model, its processor, and where it runs."""

    model: Qwen2VLForConditionalGeneration
    processor: ImageQwen2VLProcessor
    device: torch.device
    model_id: str

    @property
    def tokenizer(self) -> Any:
        return self.processor.tokenizer

    def save(self, target: str | Path) -> Path:
        """Save model, tokenizer and image processor into ``target`` atomically."""
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            self.model.save_pretrained(tmp)
            self.processor.tokenizer.save_pretrained(tmp)
            self.processor.image_processor.save_pretrained(tmp)
            if target.exists():
                shutil.rmtree(target)
            os.rename(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return target


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def pick_dtype(name: str, device: torch.device) -> torch.dtype:
    """bf16 on a GPU, fp32 on CPU, unless named."""
    if name == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    return getattr(torch, name)


def image_processor(size: int, path: str | Path | None = None) -> Qwen2VLImageProcessorPil:
    """Qwen2-VL's PIL image processor pinned to ``size`` x ``size`` pixels (one grid per image)."""
    pixels = {"min_pixels": size * size, "max_pixels": size * size}
    if path is None:
        return Qwen2VLImageProcessorPil(**pixels)
    return Qwen2VLImageProcessorPil.from_pretrained(str(path), **pixels)


def word_tokenizer(texts: list[str], extra: list[str] = ()) -> PreTrainedTokenizerFast:
    """A lower-cased word-level tokenizer over ``texts`` (words and punctuation), with the
    Qwen2-VL special tokens and ``extra`` (e.g. compression tokens) as special tokens."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    pre = pre_tokenizers.Whitespace()
    words = sorted({w for t in texts for w, _ in pre.pre_tokenize_str(t.lower())})
    specials = [*SPECIALS, *extra]
    vocab = {tok: i for i, tok in enumerate([*specials, *words])}
    tk = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))  # noqa: S106  a tokenizer's special token, not a password
    tk.normalizer = normalizers.Lowercase()
    tk.pre_tokenizer = pre
    return PreTrainedTokenizerFast(
        tokenizer_object=tk,
        pad_token="<pad>",  # noqa: S106  a special token, not a password
        unk_token="<unk>",  # noqa: S106  a special token, not a password
        eos_token="<eos>",  # noqa: S106  a special token, not a password
        additional_special_tokens=specials[3:],
    )


def tiny_config(
    tok: PreTrainedTokenizerFast,
    p: VisionParams,
    text: dict | None = None,
    vision: dict | None = None,
) -> Qwen2VLConfig:
    """A Qwen2-VL config at toy size (``vision.tiny``) over the tokenizer's vocabulary;
    ``text``/``vision`` override its keys (the GPU benchmark builds the real 2B size so)."""
    t = p.tiny
    head_dim = t.hidden_size // t.heads
    half = head_dim // 2
    section = [half - 2 * (half // 3), half // 3, half // 3]  # temporal, height, width
    ids = {s: tok.convert_tokens_to_ids(s) for s in SPECIALS}
    return Qwen2VLConfig(
        text_config={
            "vocab_size": len(tok),
            "hidden_size": t.hidden_size,
            "intermediate_size": 2 * t.hidden_size,
            "num_hidden_layers": t.layers,
            "num_attention_heads": t.heads,
            "num_key_value_heads": t.kv_heads,
            "max_position_embeddings": 1024,
            "rope_parameters": {
                "rope_type": "default",
                "mrope_section": section,
                "rope_theta": 1e4,
            },
            "bos_token_id": None,
            "eos_token_id": ids["<eos>"],
            "pad_token_id": ids["<pad>"],
            **(text or {}),
        },
        vision_config={
            "depth": t.vision_depth,
            "embed_dim": t.vision_dim,
            "num_heads": t.vision_heads,
            "mlp_ratio": 2,
            "hidden_size": t.hidden_size,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            **(vision or {}),
        },
        image_token_id=ids[IMAGE_PAD],
        video_token_id=ids[VIDEO_PAD],
        vision_start_token_id=ids[VISION_START],
        vision_end_token_id=ids[VISION_END],
    )


def build_tiny(texts: list[str], p: VisionParams, extra_tokens: list[str] = ()) -> VLM:
    """The toy-size Qwen2-VL, randomly initialised from ``vision.tiny.seed``."""
    tok = word_tokenizer(texts, list(extra_tokens))
    cfg = tiny_config(tok, p)
    cfg._attn_implementation = "sdpa"
    torch.manual_seed(p.tiny.seed)
    model = Qwen2VLForConditionalGeneration(cfg)
    device = pick_device(p.device)
    model.to(device=device, dtype=pick_dtype(p.dtype, device))
    proc = ImageQwen2VLProcessor(image_processor=image_processor(p.image_size), tokenizer=tok)
    return VLM(model=model, processor=proc, device=device, model_id="tiny")


def load_vlm(name: str | Path, p: VisionParams) -> VLM:
    """A hub id or a folder (a saved tiny model included), in ``vision.dtype`` on the device."""
    device = pick_device(p.device)
    dtype = pick_dtype(p.dtype, device)
    path = str(name)
    rev = {} if Path(path).is_dir() else {"revision": p.revision or "main"}
    tok = AutoTokenizer.from_pretrained(path, **rev)
    proc = ImageQwen2VLProcessor(
        image_processor=image_processor(p.image_size, _processor_source(path, rev)), tokenizer=tok
    )
    model = Qwen2VLForConditionalGeneration.from_pretrained(  # safetensors only (issue 19)
        path, dtype=dtype, attn_implementation="sdpa", use_safetensors=True, **rev
    )
    model.to(device)
    return VLM(model=model, processor=proc, device=device, model_id=path)


def _processor_source(path: str, rev: dict) -> str:
    """Where the image processor's config is (a folder without one gets the defaults)."""
    if Path(path).is_dir() and not (Path(path) / "preprocessor_config.json").is_file():
        raise FileNotFoundError(f"{path}: no preprocessor_config.json (not a saved VLM folder)")
    return path


def ensure_tokens(vlm: VLM, tokens: list[str]) -> list[int]:
    """Ids of ``tokens``, adding the missing ones as special tokens (and resizing embeddings)."""
    tok = vlm.tokenizer
    missing = [t for t in tokens if t not in tok.get_vocab()]
    if missing:
        tok.add_tokens(missing, special_tokens=True)
        vlm.model.resize_token_embeddings(len(tok))
    return tok.convert_tokens_to_ids(tokens)
