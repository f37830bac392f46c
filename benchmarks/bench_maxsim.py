"""MaxSim of N pages x M queries: trustir's chunked einsum vs colpali-engine's scorer.

Same tensors (ColPali-like shapes: 20-token queries, 1024 patches per page at dim 128, zero
padding for shorter queries), both on CPU in float32, one process, best of 3 interleaved. The
scores must be identical up to float rounding; the ratio is trustir / colpali-engine. When
colpali-engine is not installed (it goes in with --no-deps: Makefile), the peer is a plain
einsum over everything at once (colpali-engine's own torch reference), and the script says so.
"""

from __future__ import annotations

import os

import torch
from _common import best_times_interleaved, report

N_PAGES = int(os.environ.get("BENCH_PAGES", 200))
N_QUERIES = int(os.environ.get("BENCH_QUERIES", 50))
PATCHES, Q_TOKENS, DIM = 1024, 20, 128


def plain_einsum(qs: torch.Tensor, ps: torch.Tensor) -> torch.Tensor:
    return torch.einsum("bnd,csd->bcns", qs, ps).amax(dim=3).sum(dim=2)


def peer():
    """colpali-engine's scorer on lists of tensors, or the plain einsum."""
    try:
        from trustir.agree.colpali_ref import score_multi_vector

        score_multi_vector([torch.ones(1, 2)], [torch.ones(1, 2)])
    except ModuleNotFoundError as exc:
        print(f"colpali-engine unavailable ({exc}): comparing against a plain einsum")
        return "einsum", lambda q, p: plain_einsum(q, p)
    return "colpali-engine", lambda q, p: score_multi_vector(list(q), list(p), batch_size=128)


def main() -> None:
    from trustir.agree.scoring import maxsim

    torch.manual_seed(0)
    queries = torch.nn.functional.normalize(torch.randn(N_QUERIES, Q_TOKENS, DIM), dim=-1)
    lengths = torch.randint(8, Q_TOKENS + 1, (N_QUERIES,))
    queries[torch.arange(Q_TOKENS)[None] >= lengths[:, None]] = 0  # zero padding
    pages = torch.nn.functional.normalize(torch.randn(N_PAGES, PATCHES, DIM), dim=-1)
    name, theirs = peer()
    with torch.inference_mode():
        ours_s, theirs_s = maxsim(queries, pages, chunk=64), theirs(queries, pages)
        diff = float((ours_s - theirs_s).abs().max())
        assert diff < 1e-3, f"scores differ by {diff}"
        t_ours, t_theirs = best_times_interleaved(
            lambda: maxsim(queries, pages, chunk=64), lambda: theirs(queries, pages)
        )
    same_top = float((ours_s.argmax(1) == theirs_s.argmax(1)).float().mean())
    print(
        f"{N_PAGES} pages x {PATCHES} patches, {N_QUERIES} queries x {Q_TOKENS} tokens, "
        f"dim {DIM}; max |score difference| {diff:.2e}; same top page {same_top:.3f}"
    )
    report("MaxSim", t_ours, t_theirs, name)


if __name__ == "__main__":
    main()
