"""AGREE training: L = L_global + λ·L_local on the positive pairs (PAPERS.md P6).

Every table row trains from the same start (one seeded backbone, its state copied) on the same
page-distinct batches, so rows differ only in the local loss and λ (paired comparisons).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from trustir.agree.global_loss import hardest_negative_softplus
from trustir.agree.local import LOCAL_LOSSES, LocalOptions
from trustir.agree.params import AgreeParams
from trustir.agree.retriever import LateInteractionRetriever
from trustir.agree.scoring import maxsim, patch_similarity, query_lengths


@dataclass
class TrainSet:
    """The training pairs: query texts, their positive page's row in ``features``, targets."""

    texts: list[str]
    page_rows: list[int]
    features: torch.Tensor  # (N_pages, P, H) frozen visual features
    grid_thw: torch.Tensor  # (1, 3)
    targets: torch.Tensor | None  # (n_pairs, P) Ã of each pair, or None (global only)
    relevant: list[frozenset[int]] = field(default_factory=list)  # page rows relevant per pair

    def exclusions(self, batch: list[int]) -> torch.Tensor:
        """``(B, B)`` bool: page of pair j is relevant to the query of pair i (not a negative)."""
        rel = self.relevant or [frozenset([r]) for r in self.page_rows]
        return torch.tensor([[self.page_rows[j] in rel[i] for j in batch] for i in batch])


@dataclass
class RowLog:
    """What one row's training did."""

    steps: int = 0
    seconds: float = 0.0
    global_losses: list[float] = field(default_factory=list)
    local_losses: list[float] = field(default_factory=list)

    def to_dict(self) -> dict:
        def tail(xs: list[float]) -> float | None:
            return round(float(np.mean(xs[-5:])), 4) if xs else None

        first = self.global_losses[0] if self.global_losses else None
        return {
            "steps": self.steps,
            "seconds": round(self.seconds, 2),
            "first_global": None if first is None else round(first, 4),
            "last_global": tail(self.global_losses),
            "last_local": tail(self.local_losses),
        }


def page_distinct_batches(pages: list[int], batch_size: int, rng: np.random.Generator):
    """A shuffled partition of the pair indices into batches in which no page repeats (so each
    off-diagonal in-batch score is a true negative); batches of one pair are dropped."""
    pending = rng.permutation(len(pages)).tolist()
    batches = []
    while pending:
        batch, used, rest = [], set(), []
        for i in pending:
            if len(batch) < batch_size and pages[i] not in used:
                batch.append(i)
                used.add(pages[i])
            else:
                rest.append(i)
        if len(batch) >= 2:
            batches.append(batch)
        pending = rest if len(batch) >= 2 else []
    return batches


def train_row(
    model: LateInteractionRetriever, data: TrainSet, p: AgreeParams, local: str | None, lam: float
) -> RowLog:
    """Train ``model`` in place for ``p.epochs``; ``local`` None trains the global loss only."""
    local_fn = LOCAL_LOSSES.get(local) if local else None
    if local_fn is not None and data.targets is None:
        raise ValueError(f"agree row with local loss {local!r} needs targets")
    opts = LocalOptions(p.target_temperature, p.score_temperature, p.top_k_percent)
    rng = np.random.default_rng(p.seed)
    torch.manual_seed(p.seed)
    params = [w for w in model.parameters() if w.requires_grad]
    opt = torch.optim.AdamW(params, lr=p.lr)
    log, t0 = RowLog(), time.perf_counter()
    model.train()
    for _ in range(p.epochs):
        for batch in page_distinct_batches(data.page_rows, p.batch_size, rng):
            eq, qmask = model.encode_queries([data.texts[i] for i in batch])  # (B, Lq, D)
            pages = data.features[[data.page_rows[i] for i in batch]]  # (B, P, H)
            ed = model.encode_pages(pages, data.grid_thw)  # (B, P, D)
            scores = maxsim(eq, ed) / query_lengths(qmask)[:, None]  # (B, B), diagonal positive
            exclude = data.exclusions(batch).to(scores.device)
            loss = hardest_negative_softplus(scores, p.global_temperature, exclude)
            log.global_losses.append(float(loss.detach()))
            if local_fn is not None:
                s = patch_similarity(eq, qmask, ed)  # (B, P) positive pairs only
                local_loss = local_fn(s, data.targets[batch].to(s.device), opts)
                log.local_losses.append(float(local_loss.detach()))
                loss = loss + lam * local_loss
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, p.max_grad_norm)
            opt.step()
            log.steps += 1
    log.seconds = time.perf_counter() - t0
    model.eval()
    return log
