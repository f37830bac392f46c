"""Training loops of the multimodal embedders: pre-training (CoCoA / CoMa) and contrastive.

Every loop counts *examples* (an image for pre-training, a query item for contrastive training),
so variants compare at an equal total number of training examples (``VisionParams``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import torch

from trustir.vision.images import ImageStore
from trustir.vision.model import VLM, ensure_tokens
from trustir.vision.objectives import cocoa_loss, coma_loss, compression_tokens, contrastive_loss
from trustir.vision.params import VisionParams
from trustir.vision.tasks import LABELS, NUMBER_WORDS, QUESTIONS


@dataclass
class TrainLog:
    """What a loop did: examples, steps, seconds, the loss of every step."""

    examples: int = 0
    steps: int = 0
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)

    def to_dict(self) -> dict:
        tail = self.losses[-5:]
        return {
            "examples": self.examples,
            "steps": self.steps,
            "seconds": round(self.seconds, 2),
            "first_loss": round(self.losses[0], 4) if self.losses else None,
            "last_loss": round(float(np.mean(tail)), 4) if tail else None,
            "first_grad_norm": round(self.grad_norms[0], 4) if self.grad_norms else None,
            "last_grad_norm": round(self.grad_norms[-1], 4) if self.grad_norms else None,
        }


def content_text(rec: dict) -> str:
    """What an image states, as text: a card's name, type, year and level; a page's title."""
    if rec["kind"] == "card":
        return f"{rec['name']} {rec['etype']} {rec['year']} {NUMBER_WORDS[rec['level'] - 1]}"
    return rec["title"]


def card_qa(rec: dict, rng: np.random.Generator) -> tuple[str, str]:
    """One seeded (question, answer) about an image for CoMa."""
    if rec["kind"] == "page":
        return "what is the title of this page", rec["title"]
    kind = ("name", "etype", "level", "year")[int(rng.integers(0, 4))]
    if kind == "name":
        return "what name does this card show", rec["name"]
    if kind == "etype":
        return "what kind of thing is this card about", LABELS[rec["etype"]]
    if kind == "level":
        return QUESTIONS["level"], NUMBER_WORDS[rec["level"] - 1]
    return QUESTIONS["year"], rec["year"]


class Optimizer:
    """AdamW (peak ``lr``) with a linear warm-up over the first ``vision.warmup`` of the steps,
    then a linear decay to a tenth, and gradient-norm clipping at ``vision.max_grad_norm``.

    A randomly initialised model maps every input to nearly the same ``<EOS>`` state (cosine
    ~0.97: the residual stream there is mostly the EOS token's own embedding); a large first
    step from there collapses every embedding onto one vector, where InfoNCE sits at log k with
    no gradient (the P@1-at-chance bug, README). A lower peak lr, warm-up and clipping keep the
    first steps small.
    """

    def __init__(self, vlm: VLM, p: VisionParams, total_steps: int, lr: float) -> None:
        self.params = [q for q in vlm.model.parameters() if q.requires_grad]
        self.opt = torch.optim.AdamW(self.params, lr=lr, weight_decay=0.0)
        warm = max(1, round(p.warmup * total_steps))
        last = max(total_steps - 1, warm)

        def factor(step: int) -> float:
            if step < warm:
                return (step + 1) / warm
            return 1.0 - 0.9 * (step - warm) / max(1, last - warm)

        self.schedule = torch.optim.lr_scheduler.LambdaLR(self.opt, factor)
        self.max_grad_norm = p.max_grad_norm

    def zero_grad(self) -> None:
        self.opt.zero_grad(set_to_none=True)

    def step(self) -> float:
        """Clip, step, advance the schedule; the gradient norm before clipping."""
        norm = torch.nn.utils.clip_grad_norm_(self.params, self.max_grad_norm)
        self.opt.step()
        self.schedule.step()
        return float(norm)


def _steps(n_examples: int, batch: int) -> int:
    return -(-n_examples // batch)


def _batches(n_examples: int, pool: int, batch: int, rng: np.random.Generator):
    """Index batches covering ``n_examples`` draws over epochs of a seeded permutation."""
    order: list[int] = []
    while len(order) < n_examples:
        order += rng.permutation(pool).tolist()
    order = order[:n_examples]
    for i in range(0, n_examples, batch):
        yield order[i : i + batch]


def pretrain(
    vlm: VLM, variant: str, records: pl.DataFrame, store: ImageStore, p: VisionParams
) -> TrainLog:
    """CoCoA or CoMa pre-training on the training images (``records``) for
    ``vision.pretrain_examples`` examples; ``none`` returns at once."""
    log = TrainLog()
    if variant == "none" or p.pretrain_examples == 0:
        return log
    rng = np.random.default_rng([p.seed, 1])
    recs = records.to_dicts()
    comp = ensure_tokens(vlm, compression_tokens(p.compression_tokens)) if variant == "coma" else []
    opt = Optimizer(vlm, p, _steps(p.pretrain_examples, p.batch_size), p.pretrain_lr)
    vlm.model.train()
    start = time.perf_counter()
    for idx in _batches(p.pretrain_examples, len(recs), p.batch_size, rng):
        rows = [recs[i] for i in idx]
        images = [store.get(r["image_id"]) for r in rows]
        if variant == "cocoa":
            loss = cocoa_loss(vlm, images, [content_text(r) for r in rows])
        else:
            qa = [card_qa(r, rng) for r in rows]
            loss = coma_loss(vlm, images, [q for q, _ in qa], [a for _, a in qa], comp)
        opt.zero_grad()
        loss.backward()
        log.grad_norms.append(opt.step())
        log.losses.append(float(loss.detach()))
        log.examples += len(rows)
        log.steps += 1
    log.seconds = time.perf_counter() - start
    vlm.model.eval()
    return log


def contrastive(
    vlm: VLM, items: pl.DataFrame, store: ImageStore, n_examples: int, p: VisionParams
) -> TrainLog:
    """InfoNCE training on the training items of every task; a batch's items are grouped
    by task (the same query and candidate kinds) and candidate count."""
    log = TrainLog()
    rng = np.random.default_rng([p.seed, 2])
    rows = items.to_dicts()
    opt = Optimizer(vlm, p, _steps(n_examples, p.batch_size), p.lr)
    vlm.model.train()
    start = time.perf_counter()
    for idx in _batches(n_examples, len(rows), p.batch_size, rng):
        by_task: dict[tuple, list[dict]] = {}
        for i in idx:  # one group per task and candidate count (vqa mixes 5 and k)
            by_task.setdefault((rows[i]["task"], len(rows[i]["candidates"])), []).append(rows[i])
        opt.zero_grad()
        total = 0.0
        for group in by_task.values():
            loss = item_loss(vlm, group, store, p.tau) * (len(group) / len(idx))
            loss.backward()
            total += float(loss.detach())
        log.grad_norms.append(opt.step())
        log.losses.append(total)
        log.examples += len(idx)
        log.steps += 1
    log.seconds = time.perf_counter() - start
    vlm.model.eval()
    return log


def item_loss(vlm: VLM, group: list[dict], store: ImageStore, tau: float) -> torch.Tensor:
    """The contrastive loss of items of one task."""
    has_image = bool(group[0]["query_image"])
    q_images = [store.get(r["query_image"]) for r in group] if has_image else None
    if group[0]["candidate_kind"] == "image":
        c_images = [[store.get(c) for c in r["candidates"]] for r in group]
        c_texts = [[""] * len(r["candidates"]) for r in group]
    else:
        c_images, c_texts = None, [list(r["candidates"]) for r in group]
    return contrastive_loss(
        vlm, q_images, [r["query_text"] for r in group], c_images, c_texts,
        [r["positive"] for r in group], tau,
    )  # fmt: skip
