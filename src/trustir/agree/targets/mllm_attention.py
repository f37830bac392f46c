"""The paper's target: an MLLM's attention from the query tokens to the page's visual tokens,
averaged over layers, heads and query tokens, pooled to the retriever's patch grid (P6).

``agree.target_model: tiny`` is a separately seeded toy Qwen2-VL, randomly initialised: its
attention is not a trained MLLM's, and the stage measures how much of it lands on the answer
region (the ``vidore`` table's notes). A hub id loads that MLLM (eager attention, to return the
weights), as the GPU script does.
"""

from __future__ import annotations

import numpy as np
import torch

from trustir.agree.features import sequences_with_features, visual_features
from trustir.agree.grid import pool_to_grid
from trustir.agree.targets.base import TARGETS, Pair, TargetContext, fingerprint_of
from trustir.vision.masks import RULES, additive, allowed
from trustir.vision.model import VISION_END, VLM, build_tiny, load_vlm
from trustir.vision.params import VisionParams


def target_vlm(ctx: TargetContext) -> VLM:
    """The frozen MLLM, with eager attention (sdpa returns no attention weights)."""
    p = ctx.params
    vp = VisionParams(
        tiny=p.tiny.model_copy(update={"seed": p.target_seed}), image_size=p.image_size,
        dtype=p.dtype, device=p.device,
    )  # fmt: skip
    if ctx.build_vlm is not None:
        vlm = ctx.build_vlm(p, ctx.vocabulary)
    elif p.target_model == "tiny":
        vlm = build_tiny(ctx.vocabulary, vp)
    else:
        vlm = load_vlm(p.target_model, vp)
    vlm.model.set_attn_implementation("eager")
    vlm.model.eval()
    return vlm


@torch.no_grad()
def query_to_visual_attention(vlm: VLM, feats: torch.Tensor, texts: list[str], grid_thw):
    """``(B, h, w)``: attention of the text tokens after ``<vision_end>`` to the visual tokens,
    averaged over layers, heads and those tokens (h, w: the merged visual grid)."""
    seq = sequences_with_features(vlm, feats, texts, grid_thw)
    mask = additive(allowed(seq.segment, seq.valid, RULES["plain"]), seq.embeds.dtype)
    out = vlm.model.model.language_model(
        inputs_embeds=seq.embeds, attention_mask=mask, position_ids=seq.positions,
        use_cache=False, output_attentions=True,
    )  # fmt: skip
    att = torch.stack(out.attentions).float().mean(dim=(0, 2))  # (B, L, L)
    slots = seq.ids == vlm.model.config.image_token_id  # (B, L)
    end = (seq.ids == vlm.tokenizer.convert_tokens_to_ids(VISION_END)).float().argmax(dim=1)
    cols = torch.arange(seq.ids.shape[1], device=seq.ids.device)
    rows = seq.valid & (cols[None] > end[:, None])  # (B, L) the query's tokens (and EOS)
    to_visual = torch.stack([att[b][rows[b]][:, slots[b]].mean(dim=0) for b in range(len(texts))])
    _, h, w = (int(v) // 2 for v in grid_thw[0])
    return to_visual.reshape(len(texts), h, w)


class MLLMAttention:
    description = "the MLLM's query-to-visual attention (averaged over layers; the paper's)"

    def fingerprint(self, ctx: TargetContext) -> str:
        p = ctx.params
        vocab = fingerprint_of(sorted(set(ctx.vocabulary))) if p.target_model == "tiny" else ""
        return fingerprint_of({
            "model": p.target_model, "tiny": p.tiny.model_dump(), "seed": p.target_seed,
            "size": p.image_size, "grid": ctx.grid, "vocab": vocab, "dtype": p.dtype,
        })  # fmt: skip

    def compute(self, ctx: TargetContext, pairs: list[Pair], batch_size: int = 16) -> np.ndarray:
        vlm = target_vlm(ctx)
        page_ids = sorted({p.page_id for p in pairs})
        feats, grid_thw = visual_features(vlm, [ctx.store.get(i) for i in page_ids])
        row_of = {pid: i for i, pid in enumerate(page_ids)}
        out = []
        for i in range(0, len(pairs), batch_size):
            chunk = pairs[i : i + batch_size]
            f = feats[[row_of[p.page_id] for p in chunk]]  # (b, P, H)
            maps = query_to_visual_attention(vlm, f, [p.text for p in chunk], grid_thw)
            out.append(pool_to_grid(maps, ctx.grid).cpu().numpy())
        return np.concatenate(out)


TARGETS.register("mllm_attention")(MLLMAttention())
