"""Annotation throughput: batched ``score`` (prefix KV reuse) vs one-at-a-time ``generate``.

Issue 3 ("Done means": goal ≥ 5×). Same model (SmolLM2-135M-Instruct, CPU), same relevance
prompts (the annotate stage's graded judge on mini-world queries and their top BM25 documents,
grouped by query as the stage pools them), best of 2. ``generate`` gets just enough new
tokens for the label (one digit). Also shows ``score`` without prefix reuse, to separate the
two savings. Prints items/s, prompt tokens/s and the ratios.
"""

from __future__ import annotations

import os

import numpy as np
import torch
from _common import best_time, best_times_interleaved, report

os.environ.setdefault("HF_HUB_OFFLINE", "1")
N_QUERIES, DOCS_PER_QUERY = 4, int(os.environ.get("BENCH_DOCS", 4))


def prompts() -> list[list[dict[str, str]]]:
    """The annotate stage's own prompts: the graded judge on mini-world queries and each query's
    top BM25 documents, grouped by query as the stage pools them."""
    from trustir.annotate.base import get_judge
    from trustir.retrieval.bm25 import bm25_run, document_texts
    from trustir.retrieval.params import Bm25Params
    from trustir.sources.world import generate_world

    world = generate_world(1.0, 13)
    queries = world["queries"].sort("query_id").head(N_QUERIES)
    run = bm25_run(world["corpus"], queries, Bm25Params(), DOCS_PER_QUERY, show_progress=False)
    texts = dict(zip(world["corpus"]["doc_id"], document_texts(world["corpus"]), strict=True))
    qtext = dict(zip(queries["query_id"], queries["text"], strict=True))
    judge = get_judge("relevance")
    return [judge.prompt(qtext[q], texts[d]) for q, d in run.select("query_id", "doc_id").rows()]


def main() -> None:
    from trustir.annotate.base import get_judge
    from trustir.llm.backends.hf import HFBackend

    items, options = prompts(), list(get_judge("relevance").options)
    llm = HFBackend("smollm2", device="cpu", batch_size=16)
    n_tokens = sum(llm.count_tokens(p) for p in items)

    def score(prefix: bool) -> np.ndarray:
        llm.prefix_cache = prefix
        llm._prefixes.clear()  # cold: the shared prefix is paid once per run
        return llm.score(items, options)

    def generate() -> list[str]:
        """The peer: plain one-at-a-time greedy generation, no prefix cache (as HF generate)."""
        llm.prefix_cache = False
        llm._prefixes.clear()
        return [llm.generate(p, max_new_tokens=1)[0].text for p in items]

    np.testing.assert_allclose(score(True), score(False), atol=1e-4)  # same scores, or no bench
    digits = np.mean([g.strip() in options for g in generate()])
    t_score, t_gen = best_times_interleaved(lambda: score(True), generate, repeat=2)
    t_plain = best_time(lambda: score(False), repeat=2)
    n = len(items)
    print(
        f"{n} items, {n_tokens / n:.0f} prompt tokens each, torch threads "
        f"{torch.get_num_threads()}; generate replied with a bare digit on {digits:.0%} of items"
    )
    for name, t in [("score+prefix", t_score), ("score plain", t_plain), ("generate", t_gen)]:
        print(f"  {name:13s} {n / t:6.2f} items/s  {n_tokens / t:6.0f} prompt tokens/s")
    report("annotate (score+prefix vs generate)", t_score, t_gen, "generate")
    report("annotate (score+prefix vs score plain)", t_score, t_plain, "score-plain")
    print(f"speed-up of batched score over one-at-a-time generate: {t_gen / t_score:.1f}x")


if __name__ == "__main__":
    main()
