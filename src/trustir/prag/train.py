"""Train the adapters the store lacks (P9): keys from content, only missing ones trained.

``adapters`` table: doc_id, key, bytes (the stored file), n_examples, loss (the mean training
loss, kept in the adapter's metadata so a re-run reads the same value). A forced re-run finds
every key and loads no model; adding documents trains only theirs.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from tqdm.auto import tqdm

from trustir.prag.lora import TRAINERS, doc_examples, lora_config_dict
from trustir.prag.model import BaseModel
from trustir.prag.params import LoraParams
from trustir.prag.store import AdapterStore, adapter_key

ADAPTERS = {"doc_id": pl.String, "key": pl.String, "bytes": pl.Int64, "n_examples": pl.Int64,
            "loss": pl.Float64}  # fmt: skip


def doc_keys(docs: pl.DataFrame, augment: pl.DataFrame, lp: LoraParams, model_id: str) -> dict:
    """doc_id -> adapter key (content hash, augmentation label keys, LoRA config, model)."""
    aug = augment.group_by("doc_id").agg(pl.col("key").unique().sort())
    aug_keys = dict(aug.iter_rows())
    cfg = lora_config_dict(lp)
    return {
        d: adapter_key(h, aug_keys.get(d, []), cfg, model_id)
        for d, h in docs.select("doc_id", "content_hash").iter_rows()
    }


def training_jobs(
    docs: pl.DataFrame, augment: pl.DataFrame, keys: dict, base: BaseModel, lp: LoraParams
) -> list[tuple[str, str, list]]:
    """(doc_id, key, examples) of every document, from its text and ok augmentation rows."""
    ok = augment.filter(pl.col("status") == "ok")
    jobs = []
    for d, title, text in docs.select("doc_id", "title", "text").iter_rows():
        mine = ok.filter(pl.col("doc_id") == d)
        rewrites = mine.filter(pl.col("kind") == "rewrite")["text"].to_list()
        qa = mine.filter(pl.col("kind") == "qa").select("question", "answer").rows()
        jobs.append((d, keys[d], doc_examples(base, title, text, rewrites, qa, lp.max_length)))
    return jobs


def train_missing(
    docs: pl.DataFrame, augment: pl.DataFrame, lp: LoraParams, base: BaseModel,
    store: AdapterStore,
) -> tuple[pl.DataFrame, int]:  # fmt: skip
    """The ``adapters`` table of ``docs`` and how many adapters were trained now."""
    keys = doc_keys(docs, augment, lp, base.model_id)
    todo = set(store.missing(keys.values()))
    if todo:
        jobs = [j for j in training_jobs(docs, augment, keys, base, lp) if j[1] in todo]
        jobs = list({k: (d, k, ex) for d, k, ex in jobs}.values())  # equal docs train once
        pairs = [(k, ex) for _, k, ex in jobs]
        pad = base.tokenizer.pad_token_id or 0
        done = TRAINERS[lp.trainer](base.model, lp, pairs, pad)
        for i, t in tqdm(done, total=len(jobs), desc="prag: LoRA per document", unit="doc"):
            d, k, ex = jobs[i]  # stored as it finishes: a kill loses only the work in flight
            store.put(k, t.tensors, {"doc_id": d, "n_examples": len(ex), "loss": t.loss})
    rows = []
    for d, k in keys.items():
        _, meta = store.get(k)
        rows.append((d, k, store.nbytes(k), int(meta["n_examples"]), float(meta["loss"])))
    return pl.DataFrame(rows, schema=ADAPTERS, orient="row"), len(todo)


def load_states(store: AdapterStore, keys: Any) -> dict[str, dict]:
    """Tensors of each key (checked: a corrupt file raises)."""
    return {k: store.get(k)[0] for k in dict.fromkeys(keys)}


def doc_states(store: AdapterStore, adapters: pl.DataFrame) -> dict[str, dict]:
    """doc_id -> its adapter's tensors (documents with equal content share one adapter)."""
    by_key = load_states(store, adapters["key"])
    return {d: by_key[k] for d, k in adapters.select("doc_id", "key").iter_rows()}
