"""Sampled answers through the label store: each sample cached by its index (issue 14, P4).

A sample's key is ``label_key(model, SAMPLE_TEMPLATE, {temperature, top_p, max_new_tokens, seed,
index}, prompt)``: a re-run costs zero calls, and raising ``n`` from 10 to 20 computes only
samples 10..19, because sample ``i`` is drawn from its own seed (``row_seed(seed, prompt, i)``)
and does not depend on ``n`` (``LLMBackend.sample``). The greedy answer is the sample with index
``"greedy"`` (temperature 0), cached the same way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trustir.llm.base import Generation, LLMBackend, Prompt, derive_seed, to_messages
from trustir.llm.store import LabelStore, label_key, template_hash

SAMPLE_TEMPLATE = template_hash("trustir.llm.sampling", "v1")
GREEDY = "greedy"
_SEED_MASK = (1 << 62) - 1


@dataclass(frozen=True)
class SamplingParams:
    """How samples are drawn (every field enters the key)."""

    n: int = 10
    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 32
    seed: int = 0

    def decoding(self, index: int | str) -> dict[str, Any]:
        if index == GREEDY:  # greedy ignores temperature, top_p and seed
            return {"method": "greedy", "max_new_tokens": self.max_new_tokens, "index": GREEDY}
        return {
            "method": "sample",
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_new_tokens": self.max_new_tokens,
            "seed": self.seed,
            "index": index,
        }


@dataclass
class Samples:
    """One prompt's greedy answer (or None) and its ``n`` samples, in index order."""

    greedy: Generation | None
    samples: list[Generation]


def row_seed(seed: int, prompt: Prompt, index: int) -> int:
    """The seed of sample ``index`` of ``prompt`` (a base from the prompt, plus the index)."""
    return (derive_seed(seed, to_messages(prompt)) & _SEED_MASK) + index


def sample_key(model_id: str, prompt: Prompt, params: SamplingParams, index: int | str) -> str:
    return label_key(model_id, SAMPLE_TEMPLATE, params.decoding(index), to_messages(prompt))


def _to_raw(g: Generation) -> str:
    return json.dumps(
        {
            "text": g.text,
            "tokens": g.tokens,
            "token_logprobs": g.token_logprobs,
            "finish_reason": g.finish_reason,
        },
        ensure_ascii=False,
    )


def from_row(row: Mapping[str, Any]) -> Generation:
    """The generation a stored sample row holds."""
    d = json.loads(row["raw"])
    return Generation(
        text=d["text"],
        tokens=d["tokens"],
        token_logprobs=[float(x) for x in d["token_logprobs"]],
        tokens_in=int(row.get("tokens_in") or 0),
        tokens_out=int(row.get("tokens_out") or 0),
        finish_reason=d["finish_reason"],
    )


def sample_many(
    backend: LLMBackend,
    store: LabelStore,
    prompts: Mapping[str, Prompt],
    params: SamplingParams,
    greedy: bool = True,
    task: str = "sample",
    ledger: Any | None = None,
) -> dict[str, Samples]:
    """Greedy answer and ``params.n`` samples of every prompt (by item id), through ``store``.

    Only missing samples are computed: per prompt, one ``backend.sample`` call for its missing
    indices (one prefill, one batched decode) and one greedy call if that is missing; each
    prompt's rows are committed before the next prompt starts.
    """
    model = backend.model_id
    indices: list[int | str] = ([GREEDY] if greedy else []) + list(range(params.n))
    keys = {
        item: {i: sample_key(model, p, params, i) for i in indices} for item, p in prompts.items()
    }
    all_keys = [k for per in keys.values() for k in per.values()]
    todo = set(store.missing(all_keys))
    if ledger is not None:
        ledger.add(cache_hits=len(all_keys) - len(todo))
    for item, prompt in prompts.items():
        missing = [i for i in indices if keys[item][i] in todo]
        if not missing:
            continue
        rows = []
        draws = [i for i in missing if i != GREEDY]
        gens: list[tuple[int | str, Generation]] = []
        if GREEDY in missing:
            g = backend.generate(prompt, 1, 0.0, params.max_new_tokens, seed=0)[0]
            gens.append((GREEDY, g))
        if draws:
            seeds = [row_seed(params.seed, prompt, i) for i in draws]  # type: ignore[arg-type]
            out = backend.sample(
                prompt, seeds, params.temperature, params.top_p, params.max_new_tokens
            )
            gens += list(zip(draws, out, strict=True))
        for i, g in gens:
            rows.append(
                {
                    "key": keys[item][i],
                    "task": task,
                    "item_id": f"{item}#{i}",
                    "score": g.logprob,
                    "raw": _to_raw(g),
                    "status": "ok",
                    "model": model,
                    "prompt_hash": SAMPLE_TEMPLATE,
                    "tokens_in": g.tokens_in,
                    "tokens_out": g.tokens_out,
                }
            )
        store.put_many(rows)
    got = store.get_many(all_keys)
    out: dict[str, Samples] = {}
    for item in prompts:
        k = keys[item]
        out[item] = Samples(
            greedy=from_row(got[k[GREEDY]]) if greedy else None,
            samples=[from_row(got[k[i]]) for i in range(params.n)],
        )
    return out


def sample_texts(samples: Sequence[Generation]) -> list[str]:
    return [g.text for g in samples]
