"""Annotation throughput: batched ``score`` (prefix KV reuse) vs one-at-a-time ``generate``.

Issue 3 ("Done means": goal ≥ 5×). Same model (SmolLM2-135M-Instruct, CPU), same relevance
prompts (~90 tokens: an UMBRELA-style instruction, a query, a passage; grouped by query as the
annotate stage pools them), best of 2. ``generate`` gets just enough new tokens for the label
(one digit). Also shows ``score`` without prefix reuse, to separate the two savings. Prints
items/s, prompt tokens/s and the ratios.
"""

from __future__ import annotations

import os

import numpy as np
import torch
from _common import best_time, report

os.environ.setdefault("HF_HUB_OFFLINE", "1")
N_QUERIES, DOCS_PER_QUERY = 4, int(os.environ.get("BENCH_DOCS", 4))
SYSTEM = (
    "You are a search quality rater. Given a query and a passage, grade the passage: "
    "3 = it answers the query exactly, 2 = it states an answer that is wrong, "
    "1 = it mentions the topic only, 0 = it is unrelated. Reply with the digit only."
)
RIVERS = ["Elbe", "Danube", "Rhine", "Oder"]
CITIES = ["Dresden", "Vienna", "Basel", "Wroclaw", "Prague", "Linz"]


def prompts() -> list[list[dict[str, str]]]:
    out = []
    for q in range(N_QUERIES):
        river = RIVERS[q % len(RIVERS)]
        for d in range(DOCS_PER_QUERY):
            city = CITIES[(q + d) % len(CITIES)]
            passage = (
                f"The {river} flows past {city}; near the city it is {120 + 37 * d} metres wide "
                f"and its total length is {800 + 97 * (q + d)} km."
            )
            user = f"Query: How long is the {river}?\nPassage: {passage}\nGrade:"
            out.append([{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}])
    return out


def main() -> None:
    from trustir.llm.hf import HFBackend

    items, options = prompts(), ["0", "1", "2", "3"]
    llm = HFBackend("smollm2", device="cpu", batch_size=16)
    n_tokens = sum(llm.count_tokens(p) for p in items)

    def score(prefix: bool) -> np.ndarray:
        llm.prefix_cache = prefix
        llm._prefixes.clear()  # cold: the shared prefix is paid once per run
        return llm.score(items, options)

    def generate() -> list[str]:
        return [llm.generate(p, max_new_tokens=1)[0].text for p in items]

    np.testing.assert_allclose(score(True), score(False), atol=1e-4)  # same scores, or no bench
    digits = np.mean([g.strip() in options for g in generate()])
    t_score = best_time(lambda: score(True), repeat=2)
    t_plain = best_time(lambda: score(False), repeat=2)
    t_gen = best_time(generate, repeat=2)
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
