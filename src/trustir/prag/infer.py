"""P9's four inference modes on the same questions and the same retrieved (noised) top-k.

- vanilla: the question alone; textual: the top-k documents in the prompt;
- parametric: the question alone, under the top-k documents' LoRAs merged with peft's
  ``add_weighted_adapter(..., combination_type="cat")`` (weights 1: the deltas are summed);
- combined: the textual prompt under the merged LoRAs.

Greedy replies, each cached in the label store under a key that names the adapters (their keys),
so a forced re-run loads neither the model nor an adapter. Table ``answers``: qid, mode, noise,
answer (the reply's first line), key. Vanilla does not depend on noise: it is asked once and
listed at every level.
"""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import polars as pl

from trustir.calibration.prompts import ANSWER, answer_prompt
from trustir.llm.store import LabelStore, template_hash
from trustir.prag.generate import cached_replies, greedy_batch
from trustir.prag.lora import peft_config
from trustir.prag.model import BaseModel
from trustir.prag.params import PragParams
from trustir.prag.store import AdapterStore

ANSWER_HASH = template_hash("trustir.prag.answer", ANSWER, "v1")
ANSWERS = {"qid": pl.String, "mode": pl.String, "noise": pl.Float64, "answer": pl.String,
           "key": pl.String}  # fmt: skip
MERGED = "merged"


class Injector:
    """A peft model over the base model that merges stored adapters on demand (built lazily)."""

    def __init__(self, base: BaseModel, params: PragParams, store: AdapterStore) -> None:
        self.base, self.params, self.store = base, params, store
        self._pm: Any = None

    @property
    def pm(self) -> Any:
        if self._pm is None:
            from peft import get_peft_model

            self._pm = get_peft_model(self.base.model, peft_config(self.params.lora), "blank")
            self._pm.eval()
        return self._pm

    def reply(self, prompts: list[str], adapter_keys: tuple[str, ...]) -> list[tuple[str, int]]:
        """Greedy replies under the sum of ``adapter_keys``' LoRAs (none: the base model)."""
        ids = [self.base.render(p) for p in prompts]
        with self.merged(adapter_keys) as model:
            return greedy_batch(model, self.base.tokenizer, ids, self.params.answer_tokens)

    def answer_logprob(
        self, pairs: list[tuple[str, str]], adapter_keys: tuple[str, ...]
    ) -> list[float]:
        """Mean log-probability per token of each (prompt, answer)'s answer, teacher-forced."""
        import torch

        tok = self.base.tokenizer
        out = []
        with self.merged(adapter_keys) as model, torch.inference_mode():
            for prompt, answer in pairs:
                p = self.base.render(prompt)
                a = tok.encode(answer, add_special_tokens=False)
                logits = model(input_ids=torch.tensor([p + a])).logits[0]  # [T, V]
                logp = torch.log_softmax(logits[len(p) - 1 : -1].float(), -1)  # [len(a), V]
                out.append(float(logp.gather(1, torch.tensor(a)[:, None]).mean()))
        return out

    @contextlib.contextmanager
    def merged(self, adapter_keys: tuple[str, ...]) -> Iterator[Any]:
        """The peft model with ``adapter_keys``' LoRAs summed (``cat``), or without adapters."""
        if not adapter_keys:
            with self.pm.disable_adapter():
                yield self.pm
            return
        from peft import set_peft_model_state_dict

        names = []
        try:
            for k in adapter_keys:
                name = f"d{k[:20]}"
                self.pm.add_adapter(name, peft_config(self.params.lora))
                set_peft_model_state_dict(self.pm, self.store.get(k)[0], adapter_name=name)
                names.append(name)
            self.pm.add_weighted_adapter(names, [1.0] * len(names), MERGED, "cat")
            self.pm.set_adapter(MERGED)
            yield self.pm
        finally:
            self.pm.set_adapter("blank")
            for name in [MERGED, *names]:
                if name in self.pm.peft_config:
                    self.pm.delete_adapter(name)


def _context(docs: dict[str, str], ids: list[str]) -> list[str]:
    return [docs[d] for d in ids]


def _doc_texts(docs: pl.DataFrame) -> dict[str, str]:
    """doc_id -> the text shown in a prompt ("Title. text")."""
    return {d: f"{t}. {x}".strip(". ") for d, t, x in docs.select("doc_id", "title", "text").rows()}


def _shown(contexts: pl.DataFrame) -> dict[tuple[str, float], list[str]]:
    """(qid, noise) -> the documents shown, in rank order."""
    ctx = contexts.sort("qid", "noise", "rank").group_by(["qid", "noise"], maintain_order=True)
    return {(r[0], r[1]): r[2] for r in ctx.agg(pl.col("doc_id")).rows()}


def answer_all(
    questions: pl.DataFrame, contexts: pl.DataFrame, docs: pl.DataFrame, adapters: pl.DataFrame,
    params: PragParams, base: BaseModel, labels: LabelStore, store: AdapterStore,
    ledger: Any | None = None,
) -> pl.DataFrame:  # fmt: skip
    """The ``answers`` table: every mode at every noise level for every question."""
    text, shown = _doc_texts(docs), _shown(contexts)
    key_of = dict(adapters.select("doc_id", "key").iter_rows())
    groups: dict[tuple[str, ...], dict[str, str]] = defaultdict(dict)  # adapters -> item -> prompt
    plan: list[tuple[str, str, float, tuple[str, ...], str]] = []
    modes = params.modes
    for qid, question in questions.select("qid", "question").iter_rows():
        if "vanilla" in modes:
            item = f"{qid}|vanilla"
            groups[()][item] = answer_prompt(question, [])
            plan += [(qid, "vanilla", float(s), (), item) for s in params.noise]
        for share in params.noise:
            ids = shown[(qid, float(share))]
            keys = tuple(key_of[d] for d in ids)
            for mode in ("textual", "parametric", "combined"):
                if mode not in modes:
                    continue
                adapters_of = () if mode == "textual" else keys
                item = f"{qid}|{mode}|{share}"
                ctx_docs = _context(text, ids) if mode in ("textual", "combined") else []
                groups[adapters_of][item] = answer_prompt(question, ctx_docs)
                plan.append((qid, mode, float(share), adapters_of, item))
    inj = Injector(base, params, store)
    got: dict[tuple[tuple[str, ...], str], dict] = {}
    for adapter_keys, prompts in groups.items():
        decoding = {"method": "greedy", "max_new_tokens": params.answer_tokens,
                    "adapters": list(adapter_keys), "merge": "cat"}  # fmt: skip
        rows = cached_replies(
            labels, base.model_id, ANSWER_HASH, decoding, prompts,
            lambda ps, ak=adapter_keys: inj.reply(ps, ak), "prag_answer",
            params.augment.batch_size, ledger=ledger,
        )  # fmt: skip
        got.update({(adapter_keys, item): r for item, r in rows.items()})
    out = []
    for qid, mode, share, adapter_keys, item in plan:
        r = got[(adapter_keys, item)]
        answer = (r["raw"] or "").strip().split("\n")[0].strip()
        out.append((qid, mode, share, answer, r["key"]))
    return pl.DataFrame(out, schema=ANSWERS, orient="row")


LOGP_HASH = template_hash("trustir.prag.answer_logprob", ANSWER, "v1")
LOGPROBS = {"qid": pl.String, "mode": pl.String, "noise": pl.Float64, "logp": pl.Float64}


def answer_logprobs(
    questions: pl.DataFrame, contexts: pl.DataFrame, docs: pl.DataFrame, adapters: pl.DataFrame,
    params: PragParams, base: BaseModel, labels: LabelStore, store: AdapterStore,
    ledger: Any | None = None,
) -> pl.DataFrame:  # fmt: skip
    """The ``logprobs`` table: the gold answer's mean log-probability per token (its first listed
    answer, teacher-forced after the answer prompt) per question, for every mode at the lowest
    noise level and, as the control, parametric at the highest (the LoRAs of irrelevant
    documents). A continuous check of what parametric injection carries: parametric minus
    vanilla is the LoRAs' effect with no text in context, and parametric at the lowest minus at
    the highest noise is the part that is the documents' own facts (not a format or domain
    shift any LoRA would bring). Cached in the label store (``score``): a forced re-run loads
    no model."""
    from trustir.llm.store import compute_missing, label_key

    text, shown = _doc_texts(docs), _shown(contexts)
    key_of = dict(adapters.select("doc_id", "key").iter_rows())
    lo, hi = min(params.noise), max(params.noise)
    wanted = [(m, lo) for m in ("vanilla", "textual", "parametric", "combined")]
    wanted += [("parametric", hi)] if hi != lo else []
    items: dict[str, tuple[tuple[str, ...], str, str]] = {}  # label key -> (adapters, prompt, a)
    plan = []
    for qid, question, answers in questions.select("qid", "question", "answers").iter_rows():
        for mode, share in wanted:
            ids = shown[(qid, share)]
            keys = tuple(key_of[d] for d in ids) if mode in ("parametric", "combined") else ()
            prompt = answer_prompt(
                question, _context(text, ids) if mode in ("textual", "combined") else []
            )
            decoding = {"teacher_forced": answers[0], "adapters": list(keys), "merge": "cat"}
            k = label_key(base.model_id, LOGP_HASH, decoding, prompt)
            items[k] = (keys, prompt, answers[0])
            plan.append((qid, mode, share, k))
    inj = Injector(base, params, store)

    def compute(batch: list[tuple[str, tuple[tuple[str, ...], str, str]]]) -> list[dict]:
        by_adapters: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for k, (keys, _, _) in batch:
            by_adapters[keys].append(k)
        rows = []
        for keys, ks in by_adapters.items():
            t0 = time.perf_counter()
            lps = inj.answer_logprob([(items[k][1], items[k][2]) for k in ks], keys)
            seconds = time.perf_counter() - t0
            if ledger is not None:
                ledger.add(calls=len(ks), seconds=seconds)
            ms = 1000 * seconds / len(ks)
            rows += [{"key": k, "task": "prag_answer_logp", "item_id": k[:16], "score": lp,
                      "status": "ok", "model": base.model_id, "prompt_hash": LOGP_HASH,
                      "latency_ms": ms} for k, lp in zip(ks, lps, strict=True)]  # fmt: skip
        return rows

    got = compute_missing(labels, items, compute, 64, ledger)
    rows = [(qid, mode, share, float(got[k]["score"])) for qid, mode, share, k in plan]
    return pl.DataFrame(rows, schema=LOGPROBS, orient="row")
