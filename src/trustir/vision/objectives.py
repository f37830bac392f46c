"""The pre-training objectives of P2 (CoCoA) and P7 (CoMa) and the contrastive one.

- CoCoA: ``[image + <EOS>] [text]``; the text (what the image states) is reconstructed under
  the ``cocoa`` mask — it sees the input only through ``<EOS>`` — so the EOS embedding must
  carry the content. Loss: NLL of the text.
- CoMa: ``[image + <EOS>] [c_1..c_K] [question answer]``; under the ``coma`` mask the question and
  answer see the input only through the K compression tokens. Loss: -log P(A | C(X), Q).
- contrastive: InfoNCE (temperature ``tau``) of a query's EOS embedding against its candidates'.
"""

from __future__ import annotations

import torch
from PIL import Image

from trustir.vision.losses import info_nce, next_token_nll
from trustir.vision.masks import COMP, QA, RECON
from trustir.vision.model import VLM
from trustir.vision.sequences import append, encode_inputs, eos_embeddings, hidden_states


def _ids(vlm: VLM, text: str) -> list[int]:
    return vlm.tokenizer.encode(text, add_special_tokens=False)


def cocoa_loss(vlm: VLM, images: list[Image.Image], contents: list[str]) -> torch.Tensor:
    """NLL of reconstructing each image's ``contents`` from its ``<EOS>`` alone (P2)."""
    seq = encode_inputs(vlm, images, [""] * len(images))
    eos = vlm.tokenizer.eos_token_id
    tokens = [_ids(vlm, c) + [eos] for c in contents]
    seq = append(
        vlm, seq, tokens, [[RECON] * len(t) for t in tokens], [[True] * len(t) for t in tokens]
    )
    logits = vlm.model.lm_head(hidden_states(vlm, seq, "cocoa"))
    return next_token_nll(logits, seq.ids, seq.target)


def compression_tokens(k: int) -> list[str]:
    """The names of CoMa's K compression tokens."""
    return [f"<cmp_{i}>" for i in range(k)]


def coma_loss(
    vlm: VLM,
    images: list[Image.Image],
    questions: list[str],
    answers: list[str],
    comp_ids: list[int],
) -> torch.Tensor:
    """-log P(answer | compression tokens, question) per token (P7)."""
    seq = encode_inputs(vlm, images, [""] * len(images))
    n = len(images)
    seq = append(
        vlm, seq, [list(comp_ids)] * n, [[COMP] * len(comp_ids)] * n, [[False] * len(comp_ids)] * n
    )
    eos = vlm.tokenizer.eos_token_id
    qs = [_ids(vlm, q) for q in questions]
    ans = [_ids(vlm, a) + [eos] for a in answers]
    tokens = [q + a for q, a in zip(qs, ans, strict=True)]
    targets = [[False] * len(q) + [True] * len(a) for q, a in zip(qs, ans, strict=True)]
    seq = append(vlm, seq, tokens, [[QA] * len(t) for t in tokens], targets)
    logits = vlm.model.lm_head(hidden_states(vlm, seq, "coma"))
    return next_token_nll(logits, seq.ids, seq.target)


def embed(vlm: VLM, images: list[Image.Image] | None, texts: list[str]) -> torch.Tensor:
    """EOS embeddings of a batch (all with images or none)."""
    return eos_embeddings(vlm, images, texts)


def contrastive_loss(
    vlm: VLM,
    query_images: list[Image.Image] | None,
    query_texts: list[str],
    cand_images: list[list[Image.Image]] | None,
    cand_texts: list[list[str]],
    positive: list[int],
    tau: float,
) -> torch.Tensor:
    """InfoNCE of each query against its own k candidates (texts, or images with no text)."""
    q = embed(vlm, query_images, query_texts)
    k = len(cand_texts[0])
    flat_texts = [t for row in cand_texts for t in row]
    flat_images = [im for row in cand_images for im in row] if cand_images is not None else None
    c = embed(vlm, flat_images, flat_texts).view(len(query_texts), k, -1)
    return info_nce(q, c, torch.tensor(positive, device=q.device), tau)
