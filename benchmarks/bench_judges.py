"""Judge throughput (issue 13): pairs/s and effective prompt tokens/s of each judge, interleaved in
one process, as ratios to plain HF prefill of the same prompts and to a measured compute bound.

Same model (SmolLM2-135M-Instruct, CPU fp32), same pairs (mini-world train queries and their top
BM25 documents, grouped by query as the stages pool them). For each judge:

- its own path (``Judge.score_batch``: option scoring with prefix KV reuse, or the
  query-likelihood continuation scoring), cold prefix cache per repeat;
- plain prefill of the same prompts: one batched forward over each judge's full token sequences
  (what the judge must read: prompt, plus the query for query likelihood), right-padded, no
  cache, the LM head at the last position only (the cheapest honest "read the prompt" baseline).

- the llama.cpp peer (when ``make llamacpp`` has built it; ``BENCH_LLAMACPP=0`` skips it): the
  same judge through trustir's ``openai`` backend against llama-cpp-python's server on loopback,
  serving the same Q4_1 GGUF (one thread, like torch here; ``logits_all``, without which
  llama-cpp-python 0.3.36 refuses any ``logprobs``). Option judges are scored in ``chat`` mode
  (the first generated token's ``top_logprobs``); the query-likelihood judge needs echoed prompt
  log-probs (``/completions`` with ``echo``), whose text offsets this server computes without
  the special tokens (the backend then finds the query's tokens from the end; README, "The
  judge bench"); a judge the server cannot serve prints why. Agreement: Spearman between the
  two backends' scores of the same pairs. Memory: peak RSS of the server process and of this
  (hf) process.

"Effective" tokens are the tokens a judge's prompts hold, whatever the backend really computed
(prefix reuse computes fewer). The bound: fp32 matmul GFLOP/s measured here, divided by the
model's 2 x non-embedding-parameter FLOPs per token. Best of ``BENCH_REPEAT`` (2) runs.
"""

from __future__ import annotations

import os
import time
from contextlib import ExitStack

import numpy as np
import torch
from _common import best_time
from scipy.stats import spearmanr

os.environ.setdefault("HF_HUB_OFFLINE", "1")
N_QUERIES = int(os.environ.get("BENCH_QUERIES", 4))
DOCS_PER_QUERY = int(os.environ.get("BENCH_DOCS", 4))
REPEAT = int(os.environ.get("BENCH_REPEAT", 2))
JUDGES = os.environ.get("BENCH_JUDGES", "relevance,relevance-binary,p-true,query-likelihood")
LLAMACPP = os.environ.get("BENCH_LLAMACPP", "1") != "0"


def pairs() -> list[dict[str, str]]:
    from trustir.retrieval.bm25 import bm25_run, document_texts
    from trustir.retrieval.params import Bm25Params
    from trustir.sources.world import generate_world

    world = generate_world(1.0, 13)
    queries = world["queries"].filter(world["queries"]["split"] == "train")
    queries = queries.sort("query_id").head(N_QUERIES)
    run = bm25_run(world["corpus"], queries, Bm25Params(), DOCS_PER_QUERY, show_progress=False)
    texts = dict(zip(world["corpus"]["doc_id"], document_texts(world["corpus"]), strict=True))
    qtext = dict(zip(queries["query_id"], queries["text"], strict=True))
    return [
        {"query": qtext[q], "doc": texts[d]} for q, d in run.select("query_id", "doc_id").rows()
    ]


def matmul_gflops(n: int = 1024, repeat: int = 5) -> float:
    """fp32 matmul GFLOP/s on this machine (best of ``repeat``), the compute bound's base."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    t = best_time(lambda: a @ b, repeat)
    return 2 * n**3 / t / 1e9


def judge_sequences(judge, llm, items) -> list[list[int]]:
    """The token ids a judge's prompts hold for ``items`` (its "effective" tokens)."""
    if getattr(judge, "output", "options") == "score":  # query likelihood: prompt + query
        out = []
        for it in items:
            p = judge.prompt(it["query"], it["doc"])
            head = llm.render(p) if judge.chat else llm._encode_plain(p)
            out.append(head + llm.option_ids(judge.continuation(it["query"])))
        return out
    return [llm.render(judge.prompt(it["query"], it["doc"])) for it in items]


def plain_prefill(llm, seqs: list[list[int]], batch_size: int = 8) -> None:
    """One padded forward per batch of ``seqs`` (no cache), the LM head at the last position."""
    with torch.inference_mode():
        order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
        for s in range(0, len(order), batch_size):
            chunk = [seqs[i] for i in order[s : s + batch_size]]
            width = max(len(c) for c in chunk)
            inp = torch.full((len(chunk), width), llm._pad, dtype=torch.long)  # [B, W]
            mask = torch.zeros((len(chunk), width), dtype=torch.long)  # [B, W]
            for r, c in enumerate(chunk):
                inp[r, : len(c)], mask[r, : len(c)] = torch.tensor(c), 1
            hidden = llm.model.base_model(input_ids=inp, attention_mask=mask).last_hidden_state
            last = torch.tensor([len(c) - 1 for c in chunk])
            llm._logprobs_at(hidden[torch.arange(len(chunk)), last])  # [B, V]


def llamacpp_clients(stack: ExitStack) -> tuple[dict, object] | None:
    """The llama.cpp peer's clients by judge output kind ("options", "score") and its server;
    None when llama-cpp-python is not built (``make llamacpp``)."""
    from trustir.llm.backends.openai import OpenAIBackend
    from trustir.llm.llamacpp import ALIAS, LlamaCppServer, server_python
    from trustir.llm.models import smollm2_gguf

    if not LLAMACPP or server_python() is None:
        print("llama.cpp peer skipped: llama-cpp-python not built (make llamacpp)")
        return None
    server = stack.enter_context(LlamaCppServer(smollm2_gguf(), logits_all=True))
    # llama-cpp-python's server takes one prompt per request and serialises requests
    clients = {
        kind: OpenAIBackend(
            server.base_url,
            ALIAS,
            tokenizer="smollm2",
            score_mode=mode,
            batch_size=1,
            concurrency=1,
            timeout_s=600.0,
            top_logprobs=20,
        )  # fmt: skip
        for kind, mode in (("options", "chat"), ("score", "completions"))
    }
    return clients, server


def verdict_scores(verdicts) -> np.ndarray:
    return np.array([np.nan if v.score is None else v.score for v in verdicts], dtype=np.float64)


def main() -> None:
    from trustir.annotate.base import get_judge
    from trustir.annotate.params import AnnotateParams
    from trustir.llm.backends.hf import HFBackend
    from trustir.llm.base import LLMError
    from trustir.llm.llamacpp import peak_rss_mb

    items = pairs()
    llm = HFBackend("smollm2", device="cpu", batch_size=16)
    # the judges as the stages run them (default params: query likelihood = upr-chat with PMI)
    judges = [get_judge(n, AnnotateParams()) for n in JUDGES.split(",")]
    seqs = {j.name: judge_sequences(j, llm, items) for j in judges}
    n_params = sum(p.numel() for n, p in llm.model.named_parameters() if "embed" not in n)
    gflops = matmul_gflops()
    bound = gflops * 1e9 / (2 * n_params)  # tokens/s if every FLOP ran at matmul speed
    stack = ExitStack()
    peer = llamacpp_clients(stack)
    inf = float("inf")
    times = {j.name: {"judge": inf, "prefill": inf, "llamacpp": inf} for j in judges}
    scores: dict[str, dict[str, np.ndarray]] = {j.name: {} for j in judges}
    with stack:
        for _ in range(REPEAT):  # interleaved: every judge and its peers once per round
            for j in judges:
                llm._prefixes.clear()  # cold prefix cache: the shared instruction is paid each run
                t0 = time.perf_counter()
                scores[j.name]["hf"] = verdict_scores(j.score_batch(llm, items))
                t1 = time.perf_counter()
                plain_prefill(llm, seqs[j.name])
                t2 = time.perf_counter()
                times[j.name]["judge"] = min(times[j.name]["judge"], t1 - t0)
                times[j.name]["prefill"] = min(times[j.name]["prefill"], t2 - t1)
                if peer is not None:
                    client = peer[0]["score" if j.output == "score" else "options"]
                    t3 = time.perf_counter()
                    try:
                        scores[j.name]["llamacpp"] = verdict_scores(j.score_batch(client, items))
                    except LLMError as exc:  # a judge this server cannot serve: say why
                        print(f"{j.name} on llama.cpp: {exc}")
                        scores[j.name]["llamacpp"] = np.full(len(items), np.nan)
                    t4 = time.perf_counter()
                    times[j.name]["llamacpp"] = min(times[j.name]["llamacpp"], t4 - t3)
        rss = {"hf process": peak_rss_mb()}
        if peer is not None:
            rss["llama.cpp server (logits_all)"] = peer[1].peak_rss_mb()
    print(
        f"{len(items)} pairs; torch threads {torch.get_num_threads()}; fp32 matmul "
        f"{gflops:.1f} GFLOP/s -> bound {bound:.0f} tokens/s ({n_params / 1e6:.0f}M non-embedding "
        "params, 2 FLOPs each per token)"
    )
    print(
        f"{'judge':18s} {'backend':9s} {'tok/pair':>8s} {'pairs/s':>8s} {'eff tok/s':>9s} "
        f"{'x prefill':>9s} {'x llama':>8s} {'x bound':>8s} {'spearman':>8s}"
    )
    for j in judges:
        n_tok = sum(len(s) for s in seqs[j.name])
        t, tp, tl = (times[j.name][k] for k in ("judge", "prefill", "llamacpp"))
        rows = [("hf", t), ("prefill", tp)] + ([("llama.cpp", tl)] if peer is not None else [])
        rho = np.nan
        if peer is not None:
            a, b = scores[j.name]["hf"], scores[j.name]["llamacpp"]
            ok = np.isfinite(a) & np.isfinite(b)
            rho = float(spearmanr(a[ok], b[ok]).statistic) if ok.sum() > 2 else np.nan
        for backend, secs in rows:
            print(
                f"{j.name:18s} {backend:9s} {n_tok / len(items):8.0f} {len(items) / secs:8.2f} "
                f"{n_tok / secs:9.0f} {tp / secs:9.2f} {tl / secs if peer else np.nan:8.2f} "
                f"{n_tok / secs / bound:8.2f} {rho if backend == 'llama.cpp' else np.nan:8.3f}"
            )
    for name, mb in rss.items():
        print(f"peak RSS {name}: {mb:.0f} MiB")


if __name__ == "__main__":
    main()
