"""A ColPali-style late-interaction retriever on a Qwen2-VL backbone (ColQwen2's layout).

Queries: the language model's last hidden states of the query's tokens; pages: those of the
page's visual tokens (the vision tower frozen, as ColQwen2's: ``trustir.agree.features``; after
Qwen2-VL's 2 x 2 merge, row-major over a (size / 28)^2 grid); both
through one linear projection to ``dim`` and L2-normalised, padding set to zero. Written here
rather than taken from colpali-engine: its ``ColQwen2`` and processors import torchvision (not
installed: trustir.agree.colpali_ref) and expect a hub checkpoint, while the offline backbone is
the toy Qwen2-VL of ``trustir.vision.model`` with a word-level tokenizer.
"""

from __future__ import annotations

import torch

from trustir.agree.features import sequences_with_features
from trustir.vision.model import VLM
from trustir.vision.sequences import encode_inputs, hidden_states


class LateInteractionRetriever(torch.nn.Module):
    """A VLM backbone plus the projection to the multi-vector space."""

    def __init__(self, vlm: VLM, dim: int) -> None:
        super().__init__()
        self.vlm = vlm
        self.backbone = vlm.model
        hidden = vlm.model.config.text_config.hidden_size
        self.proj = torch.nn.Linear(hidden, dim).to(vlm.device, dtype=vlm.model.dtype)
        self.backbone.model.visual.requires_grad_(False)  # frozen: features computed once

    def encode_queries(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, Lq, dim)`` token embeddings (zero on padding) and the ``(B, Lq)`` bool mask."""
        seq = encode_inputs(self.vlm, None, texts)
        h = hidden_states(self.vlm, seq, "plain")  # (B, Lq, H)
        e = torch.nn.functional.normalize(self.proj(h).float(), dim=-1)
        return e * seq.valid[..., None], seq.valid

    def encode_pages(self, features: torch.Tensor, grid_thw: torch.Tensor) -> torch.Tensor:
        """``(B, P, dim)`` patch embeddings from frozen visual features ``(B, P, H)``
        (``trustir.agree.features``), P = the visual tokens of one page (row-major)."""
        seq = sequences_with_features(self.vlm, features, [""] * features.shape[0], grid_thw)
        h = hidden_states(self.vlm, seq, "plain")  # (B, L, H)
        slots = seq.ids == self.backbone.config.image_token_id  # (B, L)
        per_page = int(slots[0].sum())
        patches = h[slots].reshape(features.shape[0], per_page, -1)  # (B, P, H)
        return torch.nn.functional.normalize(self.proj(patches).float(), dim=-1)
