"""Batched greedy generation with any (peft-wrapped) causal LM, cached in the label store.

The hf backend generates one prompt at a time; PRAG needs many short greedy replies from the
same weights (augmentation) and replies under a merged adapter (parametric modes), so this
left-pads a batch of chat-rendered prompts and runs ``model.generate`` once. Every reply is
cached by ``label_key(model_id, template hash, decoding, prompt)``: a forced re-run loads no
model and calls nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from trustir.llm.store import LabelStore, compute_missing, label_key


def greedy_batch(
    model: Any, tokenizer: Any, prompts: Sequence[list[int]], max_new_tokens: int
) -> list[tuple[str, int]]:
    """Greedy replies (text, generated token count) to token-id ``prompts`` in one batch."""
    import torch

    eos = model.generation_config.eos_token_id
    pad = tokenizer.pad_token_id
    if pad is None:
        pad = eos[0] if isinstance(eos, list) else eos
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad, dtype=torch.long)  # [B, T] left-padded
    mask = torch.zeros((len(prompts), width), dtype=torch.long)  # [B, T]
    for i, p in enumerate(prompts):
        ids[i, width - len(p) :] = torch.tensor(p)
        mask[i, width - len(p) :] = 1
    dev = next(model.parameters()).device
    with torch.inference_mode():
        out = model.generate(
            input_ids=ids.to(dev), attention_mask=mask.to(dev), max_new_tokens=max_new_tokens,
            do_sample=False, pad_token_id=pad, eos_token_id=eos,
        )  # fmt: skip
    new = out[:, width:].tolist()  # [B, <= max_new_tokens]
    stops = set(eos if isinstance(eos, list) else [eos]) | {pad}
    replies = []
    for row in new:
        cut = next((i for i, t in enumerate(row) if t in stops), len(row))
        replies.append((tokenizer.decode(row[:cut], skip_special_tokens=True), cut))
    return replies


def cached_replies(
    store: LabelStore,
    model_id: str,
    prompt_hash: str,
    decoding: Mapping[str, Any],
    prompts: Mapping[str, str],
    run: Callable[[list[str]], list[tuple[str, int]]],
    task: str,
    batch_size: int,
    status: Callable[[str], str] = lambda _: "ok",
    ledger: Any | None = None,
) -> dict[str, dict[str, Any]]:
    """Label rows by item id for every ``prompts`` item; missing ones run ``batch_size`` at a
    time through ``run(texts) -> [(reply, tokens_out)]``; ``status(reply)`` marks rows
    ("ok" or "unparseable")."""
    keys = {
        item: label_key(model_id, prompt_hash, dict(decoding), p) for item, p in prompts.items()
    }
    item_of = {k: i for i, k in keys.items()}

    def compute(batch: list[tuple[str, str]]) -> list[dict[str, Any]]:
        t0 = time.perf_counter()
        replies = run([p for _, p in batch])
        seconds = time.perf_counter() - t0
        ms = 1000 * seconds / len(batch)
        if ledger is not None:
            ledger.add(calls=len(batch), tokens_out=sum(n for _, n in replies), seconds=seconds)
        return [
            {"key": k, "task": task, "item_id": item_of[k], "raw": text, "status": status(text),
             "model": model_id, "prompt_hash": prompt_hash, "tokens_out": n, "latency_ms": ms}
            for (k, _), (text, n) in zip(batch, replies, strict=True)
        ]  # fmt: skip

    rows = compute_missing(
        store, {k: prompts[i] for i, k in keys.items()}, compute, batch_size, ledger
    )
    return {item: rows[k] for item, k in keys.items()}
