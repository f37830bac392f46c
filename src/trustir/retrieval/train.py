"""Bi-encoder training with multi-positive objectives (PAPERS.md P3); reused by BOOM (P5).

A shared encoder tower embeds queries and documents; s(q, d) = <e_q, e_d> / temperature over
every candidate of the batch: the positives each query uses in the loss and the hard negatives
(mined from BM25) of every query in the batch, deduplicated by doc id. Masks are built from doc
ids, so a query's positives are never its negatives, in-batch ones included. Gradient
accumulation, AdamW with linear warmup and decay, fp32 on CPU and bf16 autocast on CUDA, seeded
(deterministic on CPU), a progress bar with the loss, checkpoints as safetensors. Under
``torchrun`` it trains data-parallel (DDP): ``batch_size`` queries per rank, the in-batch
negatives of the whole global batch gathered across ranks (``trustir.retrieval.distributed``).

Public entry point: ``train_biencoder(train, corpus_texts, params, out_dir, init)``.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import torch

from trustir.io.atomic import atomic_dir
from trustir.io.stable import stable_numbers
from trustir.retrieval.bm25 import document_texts
from trustir.retrieval.distributed import current, gather_rows, init_from_env
from trustir.retrieval.encoders import Encoder
from trustir.retrieval.losses import LOSSES, Loss
from trustir.retrieval.negatives import mine_hard_negatives
from trustir.retrieval.regimes import LabelPhase, Positives
from trustir.retrieval.train_params import TrainParams

TRAIN_META = "trustir_train.json"


@dataclass(frozen=True)
class TrainQuery:
    """A training query: text, positives D+ (doc id, grade; best first), mined negatives."""

    query_id: str
    text: str
    positives: list[tuple[str, int]]
    negatives: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TrainPhase:
    """Queries trained on for ``epochs`` epochs; phases run in order under one LR schedule."""

    name: str
    queries: list[TrainQuery]
    epochs: int


@dataclass(frozen=True)
class TrainResult:
    """What a training run did: where the model is, optimizer steps, examples (queries) seen."""

    model_dir: Path | None
    steps: int
    examples: int
    seconds: float
    final_loss: float  # mean loss of the last epoch's steps
    losses: list[float]  # per optimizer step

    @property
    def examples_per_second(self) -> float:
        return self.examples / self.seconds if self.seconds > 0 else float("nan")


# -- training data ----------------------------------------------------------------------------
def corpus_text_map(corpus: pl.DataFrame) -> dict[str, str]:
    """doc_id -> the text retrievers embed (title + " " + text)."""
    return dict(zip(corpus["doc_id"].to_list(), document_texts(corpus), strict=True))


def build_train_queries(
    queries: pl.DataFrame,
    positives: Positives,
    bm25_run: pl.DataFrame | None,
    hard_negatives: int,
    skip_top: int = 0,
    exclude: dict[str, list[str]] | None = None,
) -> list[TrainQuery]:
    """TrainQuery per labelled query (sorted by id): positives best first, BM25 hard negatives.

    Negatives are the top ``hard_negatives`` run documents that are not positives of the query
    (nor ``exclude``d), after skipping ``skip_top`` ranks; none when ``bm25_run`` is None.
    """
    texts = dict(zip(queries["query_id"].to_list(), queries["text"].to_list(), strict=True))
    missing = sorted(set(positives) - set(texts))
    if missing:
        raise ValueError(
            f"{len(missing)} labelled queries are not in the queries table: {missing[:5]}"
        )
    pos_ids = {q: [d for d, _ in p] for q, p in positives.items()}
    run = bm25_run if bm25_run is not None else pl.DataFrame()
    negs = mine_hard_negatives(run, pos_ids, hard_negatives, skip_top, exclude)
    out = []
    for qid in sorted(positives):
        best_first = sorted(positives[qid], key=lambda p: (-p[1], p[0]))
        out.append(TrainQuery(qid, texts[qid], best_first, negs[qid]))
    return out


def build_train_phases(
    phases: Sequence[LabelPhase],
    queries: pl.DataFrame,
    bm25_run: pl.DataFrame | None,
    hard_negatives: int,
    epochs: int,
    skip_top: int = 0,
) -> list[TrainPhase]:
    """Label phases (trustir.retrieval.regimes) -> train phases, ``epochs`` split by share.

    Every phase gets at least one epoch (a curriculum with ``epochs=1`` trains two).
    """
    out: list[TrainPhase] = []
    left = epochs
    for i, phase in enumerate(phases):
        last = i == len(phases) - 1
        n = max(1, left if last else int(round(phase.share * epochs)))
        left = max(0, left - n)
        tq = build_train_queries(queries, phase.positives, bm25_run, hard_negatives, skip_top)
        out.append(TrainPhase(phase.name, tq, n))
    return out


# -- batches ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Batch:
    """One micro-batch: B queries against N distinct candidate documents."""

    query_texts: list[str]
    doc_ids: list[str]
    pos_mask: torch.Tensor  # [B, N] bool: the positives each query uses in the loss
    neg_mask: torch.Tensor  # [B, N] bool: every candidate that is not a positive of the query


def assemble_batch(
    queries: Sequence[TrainQuery],
    used_positives: Sequence[Sequence[str]],
    negatives: Sequence[Sequence[str]],
) -> Batch:
    """Candidates = used positives + negatives of every query (first occurrence order, deduped).

    pos_mask[i, j]: doc j is one of query i's used positives. neg_mask[i, j]: doc j is not any
    positive of query i (all of D+, not only the used ones), whoever brought it into the batch.
    """
    doc_ids: list[str] = []
    col: dict[str, int] = {}
    for docs in [*used_positives, *negatives]:
        for did in docs:
            if did not in col:
                col[did] = len(doc_ids)
                doc_ids.append(did)
    b, n = len(queries), len(doc_ids)
    pos_mask = torch.zeros(b, n, dtype=torch.bool)  # [B, N]
    neg_mask = torch.ones(b, n, dtype=torch.bool)  # [B, N]
    for i, (q, used) in enumerate(zip(queries, used_positives, strict=True)):
        for did in used:
            pos_mask[i, col[did]] = True
        for did, _ in q.positives:
            if did in col:
                neg_mask[i, col[did]] = False
    return Batch([q.text for q in queries], doc_ids, pos_mask, neg_mask)


def choose_examples(
    q: TrainQuery, loss: Loss, max_positives: int, n_neg: int, rng: np.random.Generator
) -> tuple[list[str], list[str]]:
    """The positives the loss uses (best / one sampled / the best ``max_positives``) and up to
    ``n_neg`` hard negatives (all when the query has no more; a seeded draw otherwise)."""
    docs = [d for d, _ in sorted(q.positives, key=lambda p: (-p[1], p[0]))]  # best first
    if loss.positives == "best":
        used = docs[:1]
    elif loss.positives == "sample":
        used = [docs[int(rng.integers(len(docs)))]]
    else:
        used = docs[:max_positives]
    negs = list(q.negatives)
    if len(negs) > n_neg:
        negs = [negs[i] for i in sorted(rng.choice(len(negs), n_neg, replace=False).tolist())]
    return used, negs


# -- the trainer ------------------------------------------------------------------------------
def encode_bucketed(encoder: Encoder, texts: list[str], buckets: int) -> torch.Tensor:
    """``encoder.forward(texts)`` (with grad) in up to ``buckets`` passes over chunks of similar
    length (by characters, a proxy for tokens), so short texts are not padded to the longest.

    Rows come back in the order of ``texts``: [len(texts), dim].
    """
    if buckets <= 1 or len(texts) < 2 * buckets:
        return encoder.forward(texts)
    order = sorted(range(len(texts)), key=lambda i: (len(texts[i]), i))
    chunks = np.array_split(np.asarray(order), buckets)
    parts = [encoder.forward([texts[i] for i in c.tolist()]) for c in chunks]  # [n_c, dim] each
    emb = torch.cat(parts)  # [n, dim], sorted by length
    inverse = torch.empty(len(order), dtype=torch.long)
    inverse[torch.tensor(order)] = torch.arange(len(order))
    return emb[inverse.to(emb.device)]  # [n, dim], in the order of texts


def linear_warmup(total_steps: int, warmup_ratio: float) -> Callable[[int], float]:
    """LR factor for step s (0-based): (s+1)/(w+1) while warming up, then linear decay to 1/(T-w)
    at the last step: never 0, so every step moves the weights."""
    warmup = int(round(warmup_ratio * total_steps))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        return max(total_steps - step, 1) / max(total_steps - warmup, 1)

    return factor


class BiEncoderTrainer:
    """Holds the encoder, the loss and the optimizer settings; ``fit`` trains, ``save`` saves."""

    def __init__(
        self, params: TrainParams, corpus_texts: dict[str, str], init: str | None = None
    ) -> None:
        self.params = params
        self.corpus_texts = corpus_texts
        self.loss = LOSSES.get(params.loss)
        self.loss.check_options(params.loss_options)
        self.encoder = Encoder(
            init or params.model, params.pooling, params.max_length, params.device
        )
        self.device = self.encoder.device
        self.ranks = current()  # rank 0 of 1 unless torchrun's process group is up
        self._ddp: torch.nn.Module | None = None  # the DDP wrapper of the model, when W > 1

    @property
    def global_batch(self) -> int:
        """Queries per micro-batch over all ranks: the in-batch negatives every query sees."""
        return self.params.batch_size * self.ranks.world

    def _check(self, phases: Sequence[TrainPhase]) -> None:
        for phase in phases:
            for q in phase.queries:
                if not q.positives:
                    raise ValueError(f"training query {q.query_id} has no positive")
                unknown = [d for d, _ in q.positives if d not in self.corpus_texts]
                unknown += [d for d in q.negatives if d not in self.corpus_texts]
                if unknown:
                    raise KeyError(
                        f"query {q.query_id}: documents not in the corpus: {unknown[:5]}"
                    )

    def _epoch_batches(self, queries: list[TrainQuery], epoch_seed: int) -> list[tuple[Batch, int]]:
        """This epoch's micro-batches in a seeded order, each with its number of queries."""
        p = self.params
        rng = np.random.default_rng([p.seed, epoch_seed])
        order = rng.permutation(len(queries)).tolist()
        out = []
        for start in range(0, len(order), self.global_batch):  # the same on every rank
            qs = [queries[i] for i in order[start : start + self.global_batch]]
            chosen = [
                choose_examples(q, self.loss, p.max_positives, p.hard_negatives, rng) for q in qs
            ]
            batch = assemble_batch(qs, [c[0] for c in chosen], [c[1] for c in chosen])
            out.append((batch, len(qs)))
        return out

    def _batch_loss(self, batch: Batch) -> torch.Tensor:  # []
        if self._ddp is not None:
            return self._batch_loss_ddp(batch)
        p = self.params
        use_bf16 = p.bf16 and self.device.type == "cuda"
        autocast = (
            torch.autocast("cuda", dtype=torch.bfloat16) if use_bf16 else contextlib.nullcontext()
        )
        with autocast:
            q = encode_bucketed(self.encoder, batch.query_texts, p.length_buckets)  # [B, dim]
            docs = [self.corpus_texts[i] for i in batch.doc_ids]
            d = encode_bucketed(self.encoder, docs, p.length_buckets)  # [N, dim]
        scores = q.float() @ d.float().T / p.temperature  # [B, N]
        pos = batch.pos_mask.to(self.device)  # [B, N]
        neg = batch.neg_mask.to(self.device)  # [B, N]
        return self.loss(scores, pos, neg, **p.loss_options)

    def _batch_loss_ddp(self, batch: Batch) -> torch.Tensor:  # []
        """The global batch's loss on this rank: it encodes its share of the queries and of the
        candidates in one DDP forward, and gathers the other ranks' rows (with gradient)."""
        p = self.params
        qa, qb = self.ranks.share(len(batch.query_texts))
        da, db = self.ranks.share(len(batch.doc_ids))
        texts = batch.query_texts[qa:qb] + [self.corpus_texts[i] for i in batch.doc_ids[da:db]]
        use_bf16 = p.bf16 and self.device.type == "cuda"
        autocast = (
            torch.autocast("cuda", dtype=torch.bfloat16) if use_bf16 else contextlib.nullcontext()
        )
        with autocast:
            emb = self.encoder.forward(texts, model=self._ddp).float()  # [nq + nd, dim]
        q = gather_rows(emb[: qb - qa], len(batch.query_texts))  # [B_global, dim]
        d = gather_rows(emb[qb - qa :], len(batch.doc_ids))  # [N, dim]
        scores = q @ d.T / p.temperature  # [B_global, N]
        pos = batch.pos_mask.to(self.device)  # [B_global, N]
        neg = batch.neg_mask.to(self.device)  # [B_global, N]
        return self.loss(scores, pos, neg, **p.loss_options)

    def fit(self, phases: Sequence[TrainPhase], show_progress: bool = True) -> TrainResult:
        """Train over the phases in order (one optimizer, one warmup + linear-decay schedule)."""
        from tqdm.auto import tqdm

        p = self.params
        self._check(phases)
        torch.manual_seed(p.seed)  # dropout; the data order has its own seeded streams
        model = self.encoder.model
        model.train()
        if self.ranks.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            ids = None  # CPU (gloo)
            if self.device.type == "cuda":  # LOCAL_RANK's GPU (init_from_env set it)
                ids = [
                    self.device.index
                    if self.device.index is not None
                    else torch.cuda.current_device()
                ]
            # HF encoders carry parts the pooled embedding never uses (BERT's pooler)
            self._ddp = DistributedDataParallel(model, device_ids=ids, find_unused_parameters=True)
        no_decay = ("bias", "LayerNorm.weight", "LayerNorm.bias", "layer_norm", "norm.weight")
        named = [(n, w) for n, w in model.named_parameters() if w.requires_grad]
        groups = [
            {
                "params": [w for n, w in named if not n.endswith(no_decay)],
                "weight_decay": p.weight_decay,
            },
            {"params": [w for n, w in named if n.endswith(no_decay)], "weight_decay": 0.0},
        ]
        fused = self.device.type in ("cpu", "cuda")  # one kernel per step: ~7× faster on CPU
        optim = torch.optim.AdamW(groups, lr=p.lr, fused=fused or None)
        steps_per_epoch = [
            math.ceil(math.ceil(len(ph.queries) / self.global_batch) / p.grad_accum)
            for ph in phases
        ]
        total = sum(s * ph.epochs for s, ph in zip(steps_per_epoch, phases, strict=True))
        sched = torch.optim.lr_scheduler.LambdaLR(optim, linear_warmup(total, p.warmup_ratio))
        show_progress = show_progress and self.ranks.main
        bar = tqdm(total=total, desc=f"train {p.loss}", unit="step", disable=not show_progress)
        losses: list[float] = []
        examples, epoch_index, last_epoch_losses = 0, 0, []
        t0 = time.perf_counter()
        for phase in phases:
            for _ in range(phase.epochs):
                batches = self._epoch_batches(phase.queries, epoch_index)
                epoch_index += 1
                last_epoch_losses = []
                for start in range(0, len(batches), p.grad_accum):
                    group = batches[start : start + p.grad_accum]
                    step_loss = 0.0
                    for i, (batch, n_q) in enumerate(group):
                        last = i == len(group) - 1  # DDP averages gradients once per step
                        sync = self._ddp.no_sync() if self._ddp and not last else _nothing()
                        with sync:
                            loss = self._batch_loss(batch) / len(group)
                            loss.backward()
                        step_loss += float(loss.detach())
                        examples += n_q
                    if p.max_grad_norm is not None:
                        torch.nn.utils.clip_grad_norm_(model.parameters(), p.max_grad_norm)
                    optim.step()
                    sched.step()
                    optim.zero_grad(set_to_none=True)
                    losses.append(step_loss)
                    last_epoch_losses.append(step_loss)
                    bar.update(1)
                    bar.set_postfix(loss=f"{step_loss:.4f}", phase=phase.name)
        bar.close()
        model.eval()
        self._ddp = None
        seconds = time.perf_counter() - t0
        final = float(np.mean(last_epoch_losses)) if last_epoch_losses else float("nan")
        return TrainResult(None, len(losses), examples, seconds, final, losses)

    def save(self, out_dir: Path, meta: dict[str, Any] | None = None) -> Path:
        """Write model (safetensors) + tokenizer + ``trustir_train.json`` to a temp dir beside
        ``out_dir``, then rename it into place (replacing an older one)."""
        out_dir = Path(out_dir)
        with atomic_dir(out_dir) as tmp:
            self.encoder.model.save_pretrained(tmp)
            self.encoder.tokenizer.save_pretrained(tmp)
            if not (tmp / "model.safetensors").exists():
                raise RuntimeError(f"save_pretrained wrote no model.safetensors in {tmp}")
            info = {"params": self.params.model_dump(), **(meta or {})}
            info = stable_numbers(info)  # e.g. final_loss at 6 significant digits
            (tmp / TRAIN_META).write_text(json.dumps(info, indent=2, default=str) + "\n")
        return out_dir


def _nothing() -> contextlib.AbstractContextManager[None]:
    return contextlib.nullcontext()


def train_biencoder(
    train: Sequence[TrainQuery] | Sequence[TrainPhase],
    corpus_texts: dict[str, str],
    params: TrainParams,
    out_dir: Path | None = None,
    init: str | None = None,
    show_progress: bool = True,
) -> TrainResult:
    """Train a bi-encoder on ``train`` and save it to ``out_dir`` (if given).

    ``train``: queries (trained for ``params.epochs``) or phases (a curriculum: each phase for its
    own epochs, in order). ``corpus_texts``: doc_id -> text (``corpus_text_map``). ``init``: a
    model id/dir to start from instead of ``params.model`` (BOOM continues from a checkpoint).
    Under ``torchrun`` every rank trains (DDP) and rank 0 alone saves; the others wait for it
    and get ``model_dir`` None.
    """
    ranks = init_from_env()
    if not train:
        raise ValueError("no training queries")
    phases = (
        list(train)
        if isinstance(train[0], TrainPhase)
        else [TrainPhase("train", list(train), params.epochs)]
    )
    trainer = BiEncoderTrainer(params, corpus_texts, init)
    result = trainer.fit(phases, show_progress)
    if out_dir is None or not ranks.main:
        _barrier(ranks.world)  # rank 0 is saving
        return result
    meta = {
        "init": init or params.model,
        "phases": [
            {"name": ph.name, "queries": len(ph.queries), "epochs": ph.epochs} for ph in phases
        ],
        "result": {  # no wall seconds: they describe the run, not the model
            k: v for k, v in asdict(result).items() if k not in ("model_dir", "losses", "seconds")
        },
    }
    saved = trainer.save(out_dir, meta)
    _barrier(ranks.world)
    return TrainResult(
        saved, result.steps, result.examples, result.seconds, result.final_loss, result.losses
    )


def _barrier(world: int) -> None:
    if world > 1:
        torch.distributed.barrier()
