"""Visual features computed once per page, and Qwen2-VL input sequences built from them.

The retriever's vision tower is frozen (as ColPali / ColQwen2 train only the language side), so
a page's visual tokens are computed once (``visual_features``) and every training step runs only
the language model over ``<vision_start> [features] <vision_end> text <eos>``
(``sequences_with_features``: the same ids, M-RoPE positions and segments as
``trustir.vision.sequences.encode_inputs`` builds from the image, checked by a unit test).
"""

from __future__ import annotations

import torch
from PIL import Image

from trustir.vision.masks import EOS, INPUT
from trustir.vision.model import IMAGE_PAD, VISION_END, VISION_START, VLM
from trustir.vision.sequences import Segments


@torch.no_grad()
def visual_features(
    vlm: VLM, images: list[Image.Image], batch_size: int = 16
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(N, P, H)`` merged visual-token features of same-size pages and their ``(1, 3)`` grid
    (t, h, w before the 2 x 2 merge)."""
    feats, grid = [], None
    for i in range(0, len(images), batch_size):
        chunk = images[i : i + batch_size]
        enc = vlm.processor.image_processor(images=chunk, return_tensors="pt")
        thw = enc["image_grid_thw"]
        if grid is None:
            grid = thw[:1]
        if not bool((thw == grid).all()):
            raise ValueError("pages differ in size: resize them to one image_size first")
        out = vlm.model.model.get_image_features(
            enc["pixel_values"].to(vlm.device, vlm.model.dtype), thw.to(vlm.device),
            return_dict=True,
        )  # fmt: skip
        feats.append(torch.stack(list(out.pooler_output)))  # (b, P, H)
    return torch.cat(feats), grid


def sequences_with_features(
    vlm: VLM, features: torch.Tensor, texts: list[str], grid: torch.Tensor
) -> Segments:
    """The left-padded input segment of ``B`` (page features ``(B, P, H)``, text) rows."""
    tok, model = vlm.tokenizer, vlm.model
    ids_of = tok.convert_tokens_to_ids
    start, pad_img, end = ids_of(VISION_START), ids_of(IMAGE_PAD), ids_of(VISION_END)
    n = features.shape[1]
    rows = [
        [start, *[pad_img] * n, end, *tok(t, add_special_tokens=False)["input_ids"],
         tok.eos_token_id]
        for t in texts
    ]  # fmt: skip
    width = max(len(r) for r in rows)
    ids = torch.tensor([[tok.pad_token_id] * (width - len(r)) + r for r in rows])
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
    ids, mask = ids.to(vlm.device), mask.to(vlm.device)
    slots = ids == pad_img  # (B, L)
    embeds = model.model.get_input_embeddings()(ids)
    embeds = embeds.masked_scatter(slots[..., None].expand_as(embeds), features.to(embeds.dtype))
    positions, _ = model.model.get_rope_index(
        ids, slots.int(), grid.repeat(len(rows), 1).to(vlm.device), None, attention_mask=mask
    )
    segment = torch.full_like(ids, INPUT)
    segment[:, -1] = EOS
    valid = mask.bool()
    return Segments(ids, embeds, positions, segment, valid, torch.zeros_like(valid))
