"""PRAG training throughput: documents parameterised per minute, batched multi-adapter vs plain.

Issue 15 ("Performance": goal >= 2x). Same model (SmolLM2-135M-Instruct, fp32, CPU), same
documents (the first DOCS world pages; each trains on its text, one rewrite and one QA pair —
fixed texts here, so the benchmark measures training, not augmentation), the same LoRA (FFN
projections, r 2, alpha 32, lr 3e-4, 1 epoch). Peer: ``train_plain`` (one peft model, one
document at a time). trustir: ``train_batched`` (BATCH documents per forward, row i using
document i's own stacked LoRA through bmm hooks). Interleaved, best of REPEAT, at torch's
default thread count (both cores here; OMP_NUM_THREADS=1 measures one). Asserts that every
adapter equals the plain loop's to tolerance and prints the largest difference. Also times
merging k adapters (peft ``add_weighted_adapter(..., "cat")``) against one forward pass.
"""

from __future__ import annotations

import os
import time

import torch
from _common import best_times_interleaved, report

os.environ.setdefault("HF_HUB_OFFLINE", "1")
DOCS = int(os.environ.get("BENCH_DOCS", 16))
BATCH = int(os.environ.get("BENCH_BATCH", 16))
REPEAT = int(os.environ.get("BENCH_REPEAT", 3))  # the first batched run pays warm-up
K = 3


def jobs(base, lp):
    from trustir.prag.lora import doc_examples
    from trustir.sources.world import Sizes, build_world

    corpus = build_world(Sizes.at(0.2), 13).pages.corpus.head(DOCS)
    out = []
    for d, title, text in corpus.select("doc_id", "title", "text").iter_rows():
        rewrite = " ".join(reversed(text.split(". ")))
        qa = [(f"What is {title} about?", title.split(" ")[0])]
        out.append((d, doc_examples(base, title, text, [rewrite], qa, lp.max_length)))
    return out


def main() -> None:
    from trustir.llm.config import LLMParams
    from trustir.prag.lora import peft_config, train_batched, train_plain
    from trustir.prag.model import BaseModel
    from trustir.prag.params import LoraParams

    base = BaseModel(LLMParams(device="cpu"))
    lp = LoraParams(batch_docs=BATCH)
    work = jobs(base, lp)
    tokens = sum(len(e.ids) for _, ex in work for e in ex)
    print(f"{DOCS} documents, {tokens} training tokens, torch threads {torch.get_num_threads()}")
    got = {}

    def plain():
        got["plain"] = train_plain(base.model, lp, work)

    def batched():
        got["batched"] = train_batched(base.model, lp, work, base.tokenizer.pad_token_id)

    t_batched, t_plain = best_times_interleaved(batched, plain, REPEAT)
    report("seconds to train", t_batched, t_plain, "plain loop")
    speedup = t_plain / t_batched
    print(f"documents per minute: batched {60 * DOCS / t_batched:.1f}, "
          f"plain {60 * DOCS / t_plain:.1f}; speed-up {speedup:.2f}x (goal 2x)")  # fmt: skip
    # Adam normalises each element's step, so an element whose gradient is float noise can move
    # by a step (lr) or so differently: compare the adapters' deltas (B A over every module).
    # Measured floor: plain float32 vs the same loop in float64 differs by 7e-5..1e-3 relative;
    # batched vs plain by 6e-6..1.6e-4 (4 documents, SmolLM2)
    from trustir.prag.analysis import delta_inner

    worst_rel, off, total = 0.0, 0, 0
    for p, b in zip(got["plain"], got["batched"], strict=True):
        for n in p.tensors:
            off += int(((b.tensors[n] - p.tensors[n]).abs() > 2 * lp.lr).sum())
            total += p.tensors[n].numel()
        pp, bb, pb = (
            delta_inner(x, y)
            for x, y in ((p.tensors, p.tensors), (b.tensors, b.tensors), (p.tensors, b.tensors))
        )
        worst_rel = max(worst_rel, max(pp + bb - 2 * pb, 0.0) ** 0.5 / pp**0.5)
    print(
        f"adapters vs the plain loop's: largest relative delta difference {worst_rel:.2e}; "
        f"{off} of {total} parameters differ by more than 2 lr ({2 * lp.lr:g})"
    )
    assert worst_rel < 1e-3, worst_rel

    from peft import get_peft_model, set_peft_model_state_dict

    pm = get_peft_model(base.model, peft_config(lp), "blank").eval()
    names = []
    for i, t in enumerate(got["plain"][:K]):
        pm.add_adapter(f"doc{i}", peft_config(lp))
        set_peft_model_state_dict(pm, t.tensors, adapter_name=f"doc{i}")
        names.append(f"doc{i}")
    t0 = time.perf_counter()
    pm.add_weighted_adapter(names, [1.0] * K, "merged", combination_type="cat")
    t_merge = time.perf_counter() - t0
    ids = torch.tensor([base.render("Answer the question. " * 20)])
    pm.set_adapter("merged")
    with torch.inference_mode():
        t0 = time.perf_counter()
        pm(input_ids=ids)
        t_fwd = time.perf_counter() - t0
    print(f"merge {K} adapters (cat): {1000 * t_merge:.1f} ms; one forward of {ids.shape[1]} "
          f"tokens: {1000 * t_fwd:.1f} ms; ratio {t_merge / t_fwd:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
