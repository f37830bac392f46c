"""Sampling throughput: n = 20 samples from one shared prefill vs 20 independent ``generate``.

Issue 14 ("Performance": goal >= 3x). Same model (SmolLM2-135M-Instruct, CPU), same prompts (the
calibration stage's answer prompts on in-context world questions, answer counts 1/2/4/6), the
same decoding (temperature 0.7, up to MAX_NEW tokens, log-probs kept). trustir: one
``HFBackend.sample`` call per question (the prompt prefilled once, its KV cache expanded to 20
rows, one batched decode; the cross-call prefix cache off, so each call pays its prefill).
Peer: 20 calls of transformers' ``model.generate`` per question (do_sample, one sequence each,
with scores for the log-probs), each prefilling the prompt again. Interleaved in one process,
best of REPEAT. Asserts identical greedy output; prints the samplers' mean token log-prob and
the total-variation distance of their first-token distributions (same law, different streams).
"""

from __future__ import annotations

import os
from collections import Counter

import torch
from _common import best_times_interleaved, report

os.environ.setdefault("HF_HUB_OFFLINE", "1")
N, MAX_NEW, TEMPERATURE = 20, 10, 0.7
QUESTIONS = int(os.environ.get("BENCH_QUESTIONS", 4))
REPEAT = int(os.environ.get("BENCH_REPEAT", 2))


def prompts() -> list[str]:
    """The calibration stage's answer prompts on one question per answer count (in-context)."""
    from trustir.calibration.prompts import answer_prompt
    from trustir.sources.world import Sizes, build_world
    from trustir.sources.world.qa import multi_answer_questions

    world = build_world(Sizes.at(1.0), 13, 0.3)
    qa = multi_answer_questions(world, 13, max(1, QUESTIONS // 4))
    return [answer_prompt(q, c) for q, c in qa.select("question", "context").iter_rows()]


def main() -> None:
    from trustir.llm.backends.hf import HFBackend

    backend = HFBackend("smollm2", device="cpu", prefix_cache=False)
    model, tok = backend.model, backend.tokenizer
    texts = prompts()
    ids = [torch.tensor([backend.render(p)]) for p in texts]
    print(f"{len(texts)} prompts, {sum(i.shape[1] for i in ids)} prompt tokens, n={N}")

    # greedy: the same tokens both ways
    for p, x in zip(texts, ids, strict=True):
        ours = backend.generate(p, 1, 0.0, MAX_NEW)[0].tokens
        out = model.generate(x, do_sample=False, max_new_tokens=MAX_NEW, pad_token_id=backend._pad)
        new = [t for t in out[0, x.shape[1] :].tolist() if t not in backend._eos]
        assert ours == [tok.decode([t]) for t in new], (ours, new)
    print("greedy output identical")

    shared: list[list] = []
    peer: list[list] = []

    def run_shared() -> None:
        shared.clear()
        for k, p in enumerate(texts):
            shared.append(backend.sample(p, [1000 * k + i for i in range(N)], TEMPERATURE, 1.0,
                                         MAX_NEW))  # fmt: skip

    def run_peer() -> None:
        peer.clear()
        for k, x in enumerate(ids):
            rows = []
            for i in range(N):
                torch.manual_seed(1000 * k + i)
                out = model.generate(
                    x, do_sample=True, temperature=TEMPERATURE, top_k=0, top_p=1.0,
                    max_new_tokens=MAX_NEW, pad_token_id=backend._pad, output_scores=True,
                    return_dict_in_generate=True,
                )  # fmt: skip
                lp = model.compute_transition_scores(
                    out.sequences, out.scores, normalize_logits=True
                )
                rows.append((out.sequences[0, x.shape[1] :].tolist(), lp[0].tolist()))
            peer.append(rows)

    with torch.inference_mode():
        t_ours, t_peer = best_times_interleaved(run_shared, run_peer, REPEAT)
    report(f"{len(texts)} x {N} samples", t_ours, t_peer, "independent generate")
    print(f"speed-up: {t_peer / t_ours:.2f}x (goal >= 3x)")
    ours_lp = [lp for gens in shared for g in gens for lp in g.token_logprobs]
    print(f"mean token log-prob (model's, before temperature): trustir "
          f"{sum(ours_lp) / len(ours_lp):.3f}")  # fmt: skip
    a = Counter(g.tokens[0] if g.tokens else "" for gens in shared for g in gens)
    b = Counter(tok.decode([s[0]]) if s else "" for rows in peer for s, _ in rows)
    with torch.inference_mode():  # the noise floor: trustir against itself with other seeds
        again = [backend.sample(p, [7 + 1000 * k + i for i in range(N)], TEMPERATURE, 1.0,
                                MAX_NEW) for k, p in enumerate(texts)]  # fmt: skip
    c = Counter(g.tokens[0] if g.tokens else "" for gens in again for g in gens)
    total = sum(a.values())

    def tv(x: Counter, y: Counter) -> float:
        return 0.5 * sum(abs(x[t] - y[t]) for t in set(x) | set(y)) / total

    print(f"first-token distributions over {total} samples each: total variation trustir vs "
          f"generate {tv(a, b):.3f}; trustir vs trustir (other seeds) {tv(a, c):.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
