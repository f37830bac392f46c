"""PRAG's augmentation: k rewrites and m QA pairs per document, every call in the label store.

Replies are greedy (rewrite ``i`` asks for "version i", so k > 1 rewrites differ). A QA reply
the generator cannot parse is stored with status "unparseable" and listed in the ``augment``
table as an error row (no pairs are guessed); the document then trains on its text and its
rewrites only. Table ``augment``: doc_id, kind ("rewrite" / "qa"), index, key (the label key),
status, text (a rewrite), question, answer (one row per pair), raw (the reply).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from trustir.llm.store import LabelStore
from trustir.prag.generate import cached_replies, greedy_batch
from trustir.prag.generators import GENERATORS, Generator, Unparseable
from trustir.prag.model import BaseModel
from trustir.prag.params import AugmentParams

AUGMENT = {"doc_id": pl.String, "kind": pl.String, "index": pl.Int64, "key": pl.String,
           "status": pl.String, "text": pl.String, "question": pl.String, "answer": pl.String,
           "raw": pl.String}  # fmt: skip


def _status(gen: Generator, n: int):
    def status(reply: str) -> str:
        try:
            gen.parse(reply, n)
        except Unparseable:
            return "unparseable"
        return "ok"

    return status


def augment_docs(
    docs: pl.DataFrame, ap: AugmentParams, base: BaseModel, store: LabelStore,
    ledger: Any | None = None,
) -> pl.DataFrame:  # fmt: skip
    """The ``augment`` table of ``docs`` (doc_id, title, text); only missing replies run."""

    def run_with(max_new: int):
        return lambda texts: greedy_batch(
            base.model, base.tokenizer, [base.render(t) for t in texts], max_new
        )

    rows: list[tuple] = []
    plan = [
        (GENERATORS.get(ap.rewrite_generator), ap.rewrites, 1, ap.rewrite_tokens),
        (GENERATORS.get(ap.qa_generator), 1 if ap.qa_pairs else 0, ap.qa_pairs, ap.qa_tokens),
    ]
    for gen, calls, n, max_new in plan:
        prompts = {
            f"{d}#{gen.kind}{i}": gen.prompt(title, text, n, i)
            for d, title, text in docs.select("doc_id", "title", "text").iter_rows()
            for i in range(calls)
        }
        if not prompts:
            continue
        decoding = {"method": "greedy", "max_new_tokens": max_new, "n": n}
        got = cached_replies(
            store, base.model_id, gen.template_hash, decoding, prompts, run_with(max_new),
            f"prag_{gen.kind}", ap.batch_size, _status(gen, n), ledger,
        )  # fmt: skip
        for item, row in got.items():
            doc_id, tail = item.rsplit("#", 1)
            index = int(tail[len(gen.kind) :])
            base_row = (doc_id, gen.kind, index, row["key"])
            try:
                parsed = gen.parse(row["raw"], n)
            except Unparseable:
                rows.append((*base_row, "unparseable", None, None, None, row["raw"]))
                continue
            for p in parsed:
                text, q, a = (p, None, None) if gen.kind == "rewrite" else (None, *p)
                rows.append((*base_row, "ok", text, q, a, row["raw"]))
    return pl.DataFrame(rows, schema=AUGMENT, orient="row").sort("doc_id", "kind", "index")
