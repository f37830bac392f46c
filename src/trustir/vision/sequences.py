"""Segmented input sequences for a Qwen2-VL model: the input (image + text + ``<EOS>``), then
appended segments, run through the language model under a 4-D mask (``trustir.vision.masks``).

The input is left-padded, so every row's ``<EOS>`` sits in the last input column; appended
segments (reconstruction targets, compression tokens, question + answer) are right-padded after
it and continue the text positions (Qwen2-VL's M-RoPE: vision tokens carry 3-D positions, text
tokens the same position on all three axes). The embedding of an input is the last layer's
hidden state at ``<EOS>`` (last-token pooling), L2-normalised.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from PIL import Image

from trustir.vision.masks import EOS, INPUT, RULES, additive, allowed
from trustir.vision.model import IMAGE_PAD, VISION_END, VISION_START, VLM


@dataclass
class Segments:
    """A batch of segmented sequences (B rows, L columns)."""

    ids: torch.Tensor  # (B, L) token ids (image pads included)
    embeds: torch.Tensor  # (B, L, D) input embeddings, image features scattered in
    positions: torch.Tensor  # (3, B, L) M-RoPE positions
    segment: torch.Tensor  # (B, L) segment labels (masks.INPUT, EOS, ...)
    valid: torch.Tensor  # (B, L) bool, False on padding
    target: torch.Tensor  # (B, L) bool: a token the loss predicts (from the column before)


def prompt(vlm: VLM, text: str, with_image: bool) -> str:
    """The input text: the image placeholder (expanded by the processor), the text, EOS."""
    image = f"{VISION_START}{IMAGE_PAD}{VISION_END}" if with_image else ""
    return f"{image}{text}{vlm.tokenizer.eos_token}"


def encode_inputs(vlm: VLM, images: list[Image.Image] | None, texts: list[str]) -> Segments:
    """The input segment of a batch: all rows with an image, or none (``images=None``)."""
    tok, model = vlm.tokenizer, vlm.model
    prompts = [prompt(vlm, t, images is not None) for t in texts]
    kw = {"images": images} if images is not None else {}
    enc = vlm.processor(
        text=prompts, padding=True, padding_side="left", return_tensors="pt", **kw
    ).to(vlm.device)
    ids, mask = enc["input_ids"], enc["attention_mask"].bool()
    embeds = model.model.get_input_embeddings()(ids)
    if images is not None:
        grid = enc["image_grid_thw"]
        feats = model.model.get_image_features(enc["pixel_values"], grid, return_dict=True)
        feats = torch.cat(feats.pooler_output, dim=0).to(embeds.dtype)
        slots = (ids == model.config.image_token_id)[..., None].expand_as(embeds)
        embeds = embeds.masked_scatter(slots, feats)
        positions, _ = model.model.get_rope_index(
            ids, enc["mm_token_type_ids"], grid, None, attention_mask=enc["attention_mask"]
        )
    else:
        pos = (mask.long().cumsum(-1) - 1).clamp(min=0)
        positions = pos[None].expand(3, -1, -1)
    segment = torch.full_like(ids, INPUT)
    segment[:, -1] = EOS
    if not bool((ids[:, -1] == tok.eos_token_id).all()):
        raise ValueError("an input does not end with the EOS token (the tokenizer split it)")
    return Segments(ids, embeds, positions.to(vlm.device), segment, mask, torch.zeros_like(mask))


def append(
    vlm: VLM,
    seq: Segments,
    tokens: list[list[int]],
    labels: list[list[int]],
    targets: list[list[bool]],
) -> Segments:
    """``seq`` with one more right-padded block per row: token ids, their segment labels and
    whether each is a prediction target."""
    width = max(len(t) for t in tokens)
    pad = vlm.tokenizer.pad_token_id

    def block(rows, fill, dtype):
        return torch.tensor([r + [fill] * (width - len(r)) for r in rows], dtype=dtype)

    ids = block(tokens, pad, torch.long).to(vlm.device)
    valid = block([[True] * len(t) for t in tokens], False, torch.bool).to(vlm.device)
    seg = block(labels, labels[0][0], torch.long).to(vlm.device)
    tgt = block(targets, False, torch.bool).to(vlm.device)
    start = seq.positions.amax(dim=(0, 2)) + 1  # (B,)
    pos = start[:, None] + (valid.long().cumsum(-1) - 1).clamp(min=0)
    embeds = vlm.model.model.get_input_embeddings()(ids)
    return replace(
        seq,
        ids=torch.cat([seq.ids, ids], 1),
        embeds=torch.cat([seq.embeds, embeds], 1),
        positions=torch.cat([seq.positions, pos[None].expand(3, -1, -1)], 2),
        segment=torch.cat([seq.segment, seg], 1),
        valid=torch.cat([seq.valid, valid], 1),
        target=torch.cat([seq.target, tgt], 1),
    )


def hidden_states(
    vlm: VLM, seq: Segments, rules: str | set[tuple[int, int]] = "plain"
) -> torch.Tensor:
    """The language model's last hidden states ``(B, L, D)`` under the segments' 4-D mask
    (``rules``: a name in ``masks.RULES`` or a set of (query, key) segment pairs)."""
    pairs = RULES[rules] if isinstance(rules, str) else rules
    mask = additive(allowed(seq.segment, seq.valid, pairs), seq.embeds.dtype)
    out = vlm.model.model.language_model(
        inputs_embeds=seq.embeds, attention_mask=mask, position_ids=seq.positions, use_cache=False
    )
    return out.last_hidden_state


def eos_embeddings(vlm: VLM, images: list[Image.Image] | None, texts: list[str]) -> torch.Tensor:
    """L2-normalised ``<EOS>`` hidden states ``(B, D)`` of a batch of inputs."""
    seq = encode_inputs(vlm, images, texts)
    h = hidden_states(vlm, seq, "plain")[:, -1].float()
    return torch.nn.functional.normalize(h, dim=-1)
