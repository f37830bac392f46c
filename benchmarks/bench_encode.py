"""Dense encoding throughput: trustir's Encoder vs sentence-transformers ``encode``.

Same model (packaged all-MiniLM-L6-v2), same texts (mini-world documents), same batch size and
max length, one process, best of 3. Prints texts/s for both and the time ratio.
"""

from __future__ import annotations

import os

import torch
from _common import best_times_interleaved, report

os.environ.setdefault("HF_HUB_OFFLINE", "1")
N_TEXTS, BATCH = int(os.environ.get("BENCH_N", 512)), 64


def main() -> None:
    from sentence_transformers import SentenceTransformer

    from trustir.retrieval.bm25 import document_texts
    from trustir.retrieval.encoders import Encoder, resolve_model
    from trustir.sources.world import generate_world

    texts = document_texts(generate_world(1.0, 13)["corpus"])[:N_TEXTS]
    torch.manual_seed(0)
    ours = Encoder("minilm", "mean", 256, "cpu")
    st = SentenceTransformer(resolve_model("minilm"), device="cpu")
    st.max_seq_length = 256
    a = ours.encode(texts, BATCH, show_progress=False)
    b = st.encode(texts, batch_size=BATCH, normalize_embeddings=True)
    assert abs(a - b).max() < 1e-4, "the two encoders disagree"  # same embeddings, or no benchmark
    t_ours, t_st = best_times_interleaved(
        lambda: ours.encode(texts, BATCH, show_progress=False),
        lambda: st.encode(texts, batch_size=BATCH, normalize_embeddings=True),
    )
    print(
        f"{len(texts)} texts, batch {BATCH}, torch threads {torch.get_num_threads()}: "
        f"trustir {len(texts) / t_ours:.1f} texts/s, sentence-transformers "
        f"{len(texts) / t_st:.1f} texts/s"
    )
    report("encode", t_ours, t_st, "sentence-transformers")


if __name__ == "__main__":
    main()
