"""The ``hf`` backend: any transformers causal LM on CPU or GPU, with cheap batched option scoring.

Issue 3. Prefill is compute-bound on CPU (DESIGN.md: ≈ 350 tokens/s for SmolLM2-135M on 2 cores),
so ``score`` feeds as few tokens as it can: the KV cache of the token prefix that a batch's
prompts share (the instruction, often the query too) is computed once and reused (LRU, extended or
cropped as batches change), only the prompts' own suffixes are run, right-padded, and the LM head
is applied only at the positions that predict an option token.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from trustir.llm import models
from trustir.llm.base import (
    BACKENDS,
    Generation,
    LLMBackend,
    Prompt,
    Usage,
    check_options,
    derive_seed,
    to_messages,
)

log = logging.getLogger(__name__)

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def pick_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def common_prefix_len(seqs: Sequence[Sequence[int]]) -> int:
    """Length of the longest token prefix every sequence starts with."""
    if not seqs:
        return 0
    first, n = seqs[0], min(len(s) for s in seqs)
    for i in range(n):
        t = first[i]
        if any(s[i] != t for s in seqs):
            return i
    return n


def nucleus_draw(
    logp: torch.Tensor,
    temperature: float,
    top_p: float,
    rows: Sequence[torch.Generator] | None,
    gen: torch.Generator,
) -> torch.Tensor:
    """One token per row from softmax(logp / T) cut to its top-p nucleus, by inverse CDF over
    the tokens sorted by probability (ties by id); ``rows`` gives each row its own uniform.

    ``logp`` is [n, V]; returns [n] token ids. The nucleus is the smallest set of most likely
    tokens whose mass reaches ``top_p`` (the most likely token is always kept).
    """
    probs = torch.softmax(logp.float() / temperature, dim=-1)  # [n, V]
    sp, si = torch.sort(probs, dim=-1, descending=True, stable=True)  # [n, V]
    cum = sp.cumsum(-1)  # [n, V]
    if top_p < 1:
        keep = (cum - sp) < top_p  # mass before the token is below top_p
        keep[:, 0] = True
        sp = sp * keep
        cum = sp.cumsum(-1)
    if rows is None:
        u = torch.rand(len(sp), generator=gen, device=gen.device)
    else:
        u = torch.stack([torch.rand((), generator=g) for g in rows])  # [n]
    u = (u.to(cum.device) * cum[:, -1]).to(cum.dtype)[:, None]  # [n, 1]
    pos = torch.searchsorted(cum, u, right=True).clamp(max=sp.shape[1] - 1)  # [n, 1]
    return si.gather(1, pos)[:, 0]


@dataclass
class RawGeneration:
    """What the sampling loop returns, in token ids (the server renders it its own way)."""

    ids: list[int]
    logprobs: list[float]
    finish_reason: str
    top: list[list[tuple[int, float]]] = field(default_factory=list)  # per step: top-k alts


@BACKENDS.register("hf")
class HFBackend(LLMBackend):
    """A local causal LM. ``model``: "smollm2", a hub id, or a local folder (see models.resolve).

    Thread-safe: one lock serialises model calls (the server shares one backend across
    requests).
    """

    def __init__(
        self,
        model: str = "smollm2",
        revision: str | None = None,
        device: str = "auto",
        dtype: str = "auto",
        batch_size: int = 16,
        seed: int = 0,
        prefix_cache: bool = True,
        max_prefixes: int = 16,
        min_gain: int = 8,
    ) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        t0 = time.perf_counter()
        path, self.model_id, hub_rev = models.resolve(model, revision)
        self.name = model
        self.device = pick_device(device)
        if dtype == "auto":
            dtype = "bfloat16" if self.device.type == "cuda" else "float32"
        self.tokenizer = AutoTokenizer.from_pretrained(path, revision=hub_rev)
        self.model = AutoModelForCausalLM.from_pretrained(
            path, revision=hub_rev, dtype=_DTYPES[dtype], use_safetensors=True
        ).to(self.device)
        self.model.eval()
        if revision is None and "@main" in self.model_id:  # a hub id: pin the loaded commit
            commit = getattr(self.model.config, "_commit_hash", None)
            if commit:
                self.model_id = f"{model}@{commit}"
        if dtype != "float32":  # other weights, other log-probs (bf16 moves them ~0.2 nats)
            self.model_id += f"+{dtype}"
        self.dtype = dtype
        self.batch_size = batch_size
        self.seed = seed
        self.prefix_cache = prefix_cache
        self.max_prefixes = max_prefixes
        self.min_gain = min_gain  # extra shared tokens that make a run of prompts its own batch
        self.usage = Usage()
        self.load_seconds = time.perf_counter() - t0
        self._lock = threading.RLock()
        self._prefixes: OrderedDict[tuple[int, ...], Any] = OrderedDict()  # ids → DynamicCache
        self._eos = self._eos_ids()
        self._pad = self.tokenizer.pad_token_id
        if self._pad is None:
            self._pad = next(iter(self._eos), 0)
        log.info("loaded %s on %s in %.1fs", self.model_id, self.device, self.load_seconds)

    @classmethod
    def from_params(cls, params: Any) -> HFBackend:
        return cls(
            model=params.model,
            revision=params.revision,
            device=params.device,
            dtype=params.dtype,
            batch_size=params.batch_size,
            seed=params.seed,
            prefix_cache=params.prefix_cache,
        )

    def __repr__(self) -> str:
        return f"HFBackend(model_id={self.model_id!r}, device={str(self.device)!r})"

    def describe(self) -> dict[str, Any]:
        return {
            "backend": "hf",
            "model_id": self.model_id,
            "device": str(self.device),
            "dtype": self.dtype,
        }

    # ---- tokens -------------------------------------------------------------------------
    def _eos_ids(self) -> set[int]:
        ids: set[int] = set()
        for src in (self.model.generation_config.eos_token_id, self.tokenizer.eos_token_id):
            if src is None:
                continue
            ids.update(src if isinstance(src, list) else [src])
        return ids

    def render(self, prompt: Prompt) -> list[int]:
        """Token ids of ``prompt`` with the chat template and an opened assistant turn.

        A model without a chat template gets a bare string as is (messages are an error).
        """
        if self.tokenizer.chat_template is None:
            return self.tokenizer.encode(self.render_text(prompt))
        return self.tokenizer.encode(self.render_text(prompt), add_special_tokens=False)

    def render_text(self, prompt: Prompt) -> str:
        """The chat-templated text of ``prompt`` (what ``render`` tokenises)."""
        if self.tokenizer.chat_template is None:
            if not isinstance(prompt, str):
                raise ValueError(f"{self.model_id} has no chat template: pass prompts as text")
            return prompt
        return self.tokenizer.apply_chat_template(
            to_messages(prompt), add_generation_prompt=True, tokenize=False
        )

    def option_ids(self, option: str) -> list[int]:
        """The tokens of ``option`` as the start of a reply (no special tokens)."""
        ids = self.tokenizer.encode(option, add_special_tokens=False)
        if not ids:
            raise ValueError(f"option {option!r} encodes to no tokens")
        return ids

    def count_tokens(self, prompt: Prompt) -> int:
        return len(self.render(prompt))

    # ---- KV cache of shared prefixes ------------------------------------------------------
    def _prefix_kv(self, prefix: tuple[int, ...]) -> Any:
        """The KV cache after ``prefix`` (a DynamicCache, batch 1); from the LRU when possible.

        A cached entry sharing the longest start with ``prefix`` is copied, cropped to the shared
        part if longer, and extended with the rest, so consecutive batches pay only new tokens.
        """
        if prefix in self._prefixes:
            self._prefixes.move_to_end(prefix)
            return self._prefixes[prefix]
        best, best_len = None, 0
        for key, cache in self._prefixes.items():
            n = common_prefix_len([key, prefix])
            if n > best_len:
                best, best_len = (key, cache), n
        cache = None
        if best is not None:
            cache = copy.deepcopy(best[1])
            if best_len < len(best[0]):
                try:
                    cache.crop(best_len - len(best[0]))  # negative: drop that many tokens
                    ok = cache.get_seq_length() == best_len
                except (ValueError, NotImplementedError, AttributeError):
                    ok = False
                if not ok:  # e.g. sliding-window or recurrent layers: start afresh
                    log.debug("cannot crop the KV cache of %s; prefix recomputed", self.model_id)
                    cache, best_len = None, 0
        else:
            best_len = 0
        if best_len < len(prefix):
            rest = torch.tensor([prefix[best_len:]], dtype=torch.long, device=self.device)
            out = self.model.base_model(input_ids=rest, cache=cache, use_cache=True)  # [1, rest]
            self.usage.add(tokens_computed=rest.shape[1])
            cache = out.cache
        self._prefixes[prefix] = cache
        while len(self._prefixes) > self.max_prefixes:
            self._prefixes.popitem(last=False)
        return cache

    def _logprobs_at(self, hidden: torch.Tensor) -> torch.Tensor:
        """Log-softmax of the LM head at ``hidden`` only: [k, dim] → [k, V]."""
        logits = self.model.get_output_embeddings()(hidden).float()  # [k, V]
        cap = getattr(self.model.config, "final_logit_softcapping", None)
        if cap:
            logits = torch.tanh(logits / cap) * cap
        return torch.log_softmax(logits, dim=-1)

    # ---- score ----------------------------------------------------------------------------
    def score(self, prompts: Sequence[Prompt], options: Sequence[str]) -> np.ndarray:
        opts = [self.option_ids(o) for o in check_options(options)]
        ids = [self.render(p) for p in prompts]
        out = np.zeros((len(ids), len(opts)), dtype=np.float64)  # [n_prompts, n_options]
        rows_per_prompt = 1 + sum(len(o) > 1 for o in opts)
        step = max(1, self.batch_size // rows_per_prompt)
        t0 = time.perf_counter()
        with self._lock, torch.inference_mode():
            for group in self._groups(ids):
                for start in range(0, len(group), step):
                    idx = group[start : start + step]
                    out[idx] = self._score_chunk([ids[i] for i in idx], opts)
        n_opt_tokens = sum(len(o) for o in opts)
        self.usage.add(
            calls=len(ids),
            tokens_in=sum(len(p) for p in ids) + n_opt_tokens * len(ids),
            seconds=time.perf_counter() - t0,
        )
        return out

    def _groups(self, ids: list[list[int]]) -> list[list[int]]:
        """Runs of consecutive prompts that share ``min_gain`` more prefix tokens than all do.

        Judges list items grouped (instruction, then the query, then one document): each run
        (one query's documents) then gets its own, longer, cached prefix; the prompts outside
        any run form one last group. Returns lists of indices into ``ids``.
        """
        if not self.prefix_cache or len(ids) < 3:
            return [list(range(len(ids)))]
        floor = common_prefix_len(ids) + self.min_gain
        groups: list[list[int]] = []
        rest: list[int] = []
        run = [0]
        for i in range(1, len(ids) + 1):
            if i < len(ids) and common_prefix_len([ids[i - 1], ids[i]]) >= floor:
                run.append(i)
                continue
            if len(run) > 1:
                groups.append(run)
            else:
                rest += run
            run = [i]
        return groups + ([rest] if rest else [])

    def _score_chunk(self, chunk: list[list[int]], opts: list[list[int]]) -> np.ndarray:
        """Scores ``[len(chunk), len(opts)]`` for prompts that fit one forward pass."""
        c = 0
        if self.prefix_cache and len(chunk) > 0:
            # leave each prompt ≥ 1 own token: its last position predicts the first option token
            c = min(common_prefix_len(chunk), min(len(p) for p in chunk) - 1)
        past = self._prefix_kv(tuple(chunk[0][:c])) if c > 0 else None
        single = [j for j, o in enumerate(opts) if len(o) == 1]
        multi = [j for j, o in enumerate(opts) if len(o) > 1]
        rows: list[list[int]] = []
        # reads: (row, position in row, token id, prompt index, option index)
        reads: list[tuple[int, int, int, int, int]] = []
        for i, p in enumerate(chunk):
            s = p[c:]
            if single:
                rows.append(s)
                reads += [(len(rows) - 1, len(s) - 1, opts[j][0], i, j) for j in single]
            for j in multi:  # teacher-force all but the option's last token after the prompt
                rows.append(s + opts[j][:-1])
                reads += [(len(rows) - 1, len(s) - 1 + k, t, i, j) for k, t in enumerate(opts[j])]
        width = max(len(r) for r in rows)
        inp = torch.full((len(rows), width), self._pad, dtype=torch.long)  # [R, W] right-padded
        mask = torch.zeros((len(rows), c + width), dtype=torch.long)  # [R, c + W]
        for r, row in enumerate(rows):
            inp[r, : len(row)] = torch.tensor(row)
            mask[r, : c + len(row)] = 1
        if past is not None:
            past = copy.deepcopy(past)
            past.batch_repeat_interleave(len(rows))  # [1, heads, c, d] → [R, heads, c, d]
        hidden = self.model.base_model(
            input_ids=inp.to(self.device),
            attention_mask=mask.to(self.device),
            cache=past,
            use_cache=past is not None,
        ).last_hidden_state  # [R, W, dim]
        self.usage.add(tokens_computed=len(rows) * width)  # padding costs compute too
        # the LM head only where an option token is predicted (unique row/position pairs)
        where = sorted({(r, pos) for r, pos, *_ in reads})
        slot = {rp: k for k, rp in enumerate(where)}
        rr = torch.tensor([r for r, _ in where], device=self.device)
        pp = torch.tensor([p for _, p in where], device=self.device)
        logp = self._logprobs_at(hidden[rr, pp])  # [K, V]
        k_idx = torch.tensor([slot[(r, pos)] for r, pos, *_ in reads])
        tok = torch.tensor([t for _, _, t, _, _ in reads])
        vals = logp[k_idx.to(self.device), tok.to(self.device)].double().cpu().numpy()  # [n_reads]
        res = np.zeros((len(chunk), len(opts)), dtype=np.float64)
        np.add.at(res, ([i for *_, i, _ in reads], [j for *_, j in reads]), vals)
        return res

    def continuation_logprobs(
        self, prompts: Sequence[Prompt], continuations: Sequence[str], chat: bool = True
    ) -> list[np.ndarray]:
        """Teacher-forced log-probs of each continuation's tokens after its prompt.

        ``chat``: the prompt is rendered with the chat template (an opened assistant turn) as
        ``score`` does; otherwise a string prompt is encoded as is (a plain LM prompt, as UPR
        uses). Returns one array ``[n_tokens]`` per pair. Batches of ``batch_size`` rows, sorted
        by length, right-padded; the token prefix a batch shares (the template's start) is read
        from the prefix KV cache; the LM head runs only where a continuation token is predicted.
        """
        if len(prompts) != len(continuations):
            raise ValueError(f"{len(prompts)} prompts for {len(continuations)} continuations")
        heads = [self.render(p) if chat else self._encode_plain(p) for p in prompts]
        tails = [self.option_ids(c) for c in continuations]
        out: list[np.ndarray] = [np.zeros(0)] * len(heads)
        order = sorted(range(len(heads)), key=lambda i: len(heads[i]) + len(tails[i]))
        t0 = time.perf_counter()
        with self._lock, torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                got = self._continuation_chunk([heads[i] for i in idx], [tails[i] for i in idx])
                for i, lp in zip(idx, got, strict=True):
                    out[i] = lp
        self.usage.add(
            calls=len(heads),
            tokens_in=sum(len(h) + len(t) for h, t in zip(heads, tails, strict=True)),
            seconds=time.perf_counter() - t0,
        )
        return out

    def _encode_plain(self, prompt: Prompt) -> list[int]:
        if not isinstance(prompt, str):
            raise ValueError("a plain (chat=False) continuation prompt must be a string")
        return self.tokenizer.encode(prompt, add_special_tokens=False)

    def _continuation_chunk(
        self, heads: list[list[int]], tails: list[list[int]]
    ) -> list[np.ndarray]:
        """Per-token log-probs of ``tails[i]`` after ``heads[i]``, for one forward pass."""
        seqs = [h + t[:-1] for h, t in zip(heads, tails, strict=True)]  # the last token is read
        c = 0
        if self.prefix_cache:
            # every row keeps >= 1 own token: position len(head) - 1 predicts the first tail token
            c = min(common_prefix_len(seqs), min(len(h) for h in heads) - 1)
            if c < self.min_gain:
                c = 0
        past = None
        if c > 0:
            past = copy.deepcopy(self._prefix_kv(tuple(seqs[0][:c])))
            past.batch_repeat_interleave(len(seqs))  # [1, heads, c, d] -> [R, heads, c, d]
        width = max(len(s) - c for s in seqs)
        inp = torch.full((len(seqs), width), self._pad, dtype=torch.long)  # [R, W] right-padded
        mask = torch.zeros((len(seqs), c + width), dtype=torch.long)  # [R, c + W]
        for r, s in enumerate(seqs):
            inp[r, : len(s) - c] = torch.tensor(s[c:])
            mask[r, : len(s)] = 1
        hidden = self.model.base_model(
            input_ids=inp.to(self.device),
            attention_mask=mask.to(self.device),
            cache=past,
            use_cache=past is not None,
        ).last_hidden_state  # [R, W, dim]
        self.usage.add(tokens_computed=len(seqs) * width)
        rows, cols, toks = [], [], []
        for r, (h, t) in enumerate(zip(heads, tails, strict=True)):
            for k, tok in enumerate(t):
                rows.append(r)
                cols.append(len(h) - 1 + k - c)  # the position that predicts tail token k
                toks.append(tok)
        rr = torch.tensor(rows, device=self.device)
        pp = torch.tensor(cols, device=self.device)
        logp = self._logprobs_at(hidden[rr, pp])  # [K, V]
        tok_ids = torch.tensor(toks, device=self.device)
        picked = logp[torch.arange(len(toks), device=self.device), tok_ids]  # [K]
        vals = picked.double().cpu().numpy()
        res, at = [], 0
        for t in tails:
            res.append(vals[at : at + len(t)])
            at += len(t)
        return res

    def score_naive(self, prompts: Sequence[Prompt], options: Sequence[str]) -> np.ndarray:
        """Reference scores: one full forward per (prompt, option), no cache, no batching."""
        opts = [self.option_ids(o) for o in check_options(options)]
        out = np.zeros((len(prompts), len(opts)), dtype=np.float64)
        with self._lock, torch.inference_mode():
            for i, p in enumerate(prompts):
                ids = self.render(p)
                for j, o in enumerate(opts):
                    seq = torch.tensor([ids + o], device=self.device)  # [1, T]
                    logp = torch.log_softmax(self.model(seq).logits[0].float(), -1)  # [T, V]
                    pos = torch.arange(len(ids) - 1, len(ids) + len(o) - 1, device=self.device)
                    out[i, j] = logp[pos, torch.tensor(o, device=self.device)].sum().item()
        return out

    # ---- generate -------------------------------------------------------------------------
    def derive_seed(self, *parts: Any) -> int:
        """A seed from this backend's base seed and the call's content (stable across runs)."""
        return derive_seed(self.seed, *parts)

    def generate(
        self,
        prompt: Prompt,
        n: int = 1,
        temperature: float = 0.0,
        max_new_tokens: int = 32,
        seed: int | None = None,
    ) -> list[Generation]:
        ids = self.render(prompt)
        if seed is None:
            seed = self.derive_seed(ids, n, temperature, max_new_tokens)
        t0 = time.perf_counter()
        raws, _ = self.generate_ids(ids, n, temperature, max_new_tokens, seed)
        return self._generations(raws, len(ids), t0)

    def sample(
        self,
        prompt: Prompt,
        seeds: Sequence[int],
        temperature: float = 1.0,
        top_p: float = 1.0,
        max_new_tokens: int = 32,
    ) -> list[Generation]:
        """One reply per seed: the prompt prefilled ONCE, its KV cache expanded to
        ``len(seeds)`` rows and decoded as one batch; row ``i`` drawn from ``seeds[i]`` alone."""
        ids = self.render(prompt)
        t0 = time.perf_counter()
        raws, _ = self.generate_ids(
            ids, len(seeds), temperature, max_new_tokens, 0, top_p=top_p, row_seeds=list(seeds)
        )
        return self._generations(raws, len(ids), t0)

    def _generations(
        self, raws: Sequence[RawGeneration], tokens_in: int, t0: float
    ) -> list[Generation]:
        """The decoded replies of one call (one prefill of ``tokens_in`` tokens started at
        ``t0``), counted in the usage as one call."""
        gens = [self._to_generation(r, tokens_in) for r in raws]
        self.usage.add(
            calls=1,
            tokens_in=tokens_in,
            tokens_out=sum(g.tokens_out for g in gens),
            seconds=time.perf_counter() - t0,
        )
        return gens

    def _to_generation(self, raw: RawGeneration, tokens_in: int) -> Generation:
        return Generation(
            text=self.tokenizer.decode(raw.ids, skip_special_tokens=True),
            tokens=[self.tokenizer.decode([t]) for t in raw.ids],
            token_logprobs=raw.logprobs,
            tokens_in=tokens_in,
            tokens_out=len(raw.ids),
            finish_reason=raw.finish_reason,
        )

    def generate_ids(
        self,
        ids: list[int],
        n: int = 1,
        temperature: float = 0.0,
        max_new_tokens: int = 32,
        seed: int = 0,
        top_k: int = 0,
        echo: bool = False,
        top_p: float = 1.0,
        row_seeds: Sequence[int] | None = None,
    ) -> tuple[list[RawGeneration], RawGeneration | None]:
        """Sample ``n`` continuations of ``ids``; with ``echo``, also score the prompt's tokens.

        The prompt is prefilled once (from the cached KV of its longest known prefix, unless
        ``echo``) and its KV cache repeated ``n`` times. Log-probs are the
        model's (before temperature); ``top_k`` > 0 also records each position's best
        alternatives. Returns (generations, the prompt's own tokens with their log-probs — the
        first has none, so its log-prob is NaN — or None without ``echo``). ``top_p`` < 1 samples
        from the nucleus; ``row_seeds`` (one per row, ``n`` = their count) draws each row from its
        own seeded stream, so row ``i`` does not depend on how many rows share the batch.
        """
        if row_seeds is not None:
            n = len(row_seeds)
        if not ids:
            raise ValueError("generate needs a non-empty prompt")
        with self._lock, torch.inference_mode():
            inp = torch.tensor([ids], device=self.device)  # [1, T]
            if self.prefix_cache and not echo and len(ids) > 1:
                # reuse the cached KV of the longest known start (the instruction), feed the rest
                past = copy.deepcopy(self._prefix_kv(tuple(ids[:-1])))
                out = self.model.base_model(input_ids=inp[:, -1:], cache=past, use_cache=True)
                self.usage.add(tokens_computed=1)
            else:
                out = self.model.base_model(input_ids=inp, use_cache=True)
                self.usage.add(tokens_computed=len(ids))
            hidden = out.last_hidden_state[0]  # [T or 1, dim]
            prompt = None
            if echo:
                lp = self._logprobs_at(hidden[:-1])  # [T-1, V]
                chosen = lp[torch.arange(len(ids) - 1, device=self.device), inp[0, 1:]]  # [T-1]
                prompt = RawGeneration(list(ids), [float("nan"), *chosen.tolist()], "echo")
                if top_k > 0:
                    vals, idx = lp.topk(top_k, dim=-1)  # [T-1, k]
                    prompt.top = [[]] + [
                        list(zip(i.tolist(), v.tolist(), strict=True))
                        for i, v in zip(idx, vals, strict=True)
                    ]
            if max_new_tokens <= 0:
                return [RawGeneration([], [], "length") for _ in range(n)], prompt
            cache = out.cache
            if n > 1:
                cache.batch_repeat_interleave(n)  # [1, heads, T, d] → [n, heads, T, d]
            logp = self._logprobs_at(hidden[-1:]).expand(n, -1)  # [n, V]
            return (
                self._sample(
                    cache, logp, n, temperature, max_new_tokens, seed, top_k, top_p, row_seeds
                ),
                prompt,
            )

    def _sample(
        self,
        cache: Any,
        logp: torch.Tensor,  # [n, V] log-probs of the first new token
        n: int,
        temperature: float,
        max_new_tokens: int,
        seed: int,
        top_k: int,
        top_p: float = 1.0,
        row_seeds: Sequence[int] | None = None,
    ) -> list[RawGeneration]:
        """The decoding loop: greedy (temperature 0) or sampling, stopping at end of turn."""
        gen = torch.Generator(device=self.device).manual_seed(seed)
        rows = None
        if row_seeds is not None:
            rows = [torch.Generator(device="cpu").manual_seed(int(s)) for s in row_seeds]
        res = [RawGeneration([], [], "length") for _ in range(n)]
        done = [False] * n
        for step in range(max_new_tokens):
            if temperature > 0 and (rows is not None or top_p < 1):
                tok = nucleus_draw(logp, temperature, top_p, rows, gen)  # [n]
            elif temperature > 0:
                probs = torch.softmax(logp / temperature, dim=-1)  # [n, V]
                tok = torch.multinomial(probs, 1, generator=gen)[:, 0]  # [n]
            else:
                tok = logp.argmax(-1)  # [n]
            chosen = logp.gather(1, tok[:, None])[:, 0].tolist()  # [n]
            tops = logp.topk(top_k, dim=-1) if top_k > 0 else None  # ([n, k], [n, k])
            for b, t in enumerate(tok.tolist()):
                if done[b]:
                    continue
                if t in self._eos:
                    done[b], res[b].finish_reason = True, "stop"
                    continue
                res[b].ids.append(t)
                res[b].logprobs.append(chosen[b])
                if tops is not None:
                    vals, idx = tops
                    res[b].top.append(list(zip(idx[b].tolist(), vals[b].tolist(), strict=True)))
            if all(done) or step == max_new_tokens - 1:
                break
            out = self.model.base_model(input_ids=tok[:, None], cache=cache, use_cache=True)
            self.usage.add(tokens_computed=n)
            logp = self._logprobs_at(out.last_hidden_state[:, -1])  # [n, V]
        return res
