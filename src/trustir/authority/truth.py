"""The ground truth of AuthorityBench (P1): every bench's sampled items, pairs and lists, and the
RAGAuth questions with their documents' domain authority (the ``authority_truth`` stage)."""

from __future__ import annotations

import functools
from pathlib import Path

import polars as pl

from trustir.authority.params import AuthorityParams
from trustir.authority.sample import BenchSample, sample_bench, with_levels
from trustir.authority.sources import BenchContext, Population, load_population
from trustir.paths import resolve_data_path

WORLD_BENCHES = ("world-domains", "world-entities")
BENCH_META = {
    "bench": pl.String,
    "kind": pl.String,
    "text_label": pl.String,
    "signal": pl.String,
    "population": pl.Int64,
    "levels_present": pl.List(pl.Int64),
}


def bench_context(params: AuthorityParams, data, root: Path) -> BenchContext:
    """Loaders' context: the world of ``data`` (built once, on first use) and the shared folder
    (resolved only when a real bench needs it, so world-only runs work anywhere)."""
    from trustir.sources.world import Sizes, build_world

    world = functools.cache(
        lambda: build_world(Sizes.at(data.scale), data.seed, data.test_fraction)
    )
    real = [b for b in params.benches if b not in WORLD_BENCHES]
    shared = resolve_data_path(params.shared_data, root) if real and params.shared_data else None
    pr = params.pagerank
    return BenchContext(world, shared, pr.damping, pr.tol, pr.max_iter, params.text_chars)


def bench_meta(pop: Population, items: pl.DataFrame) -> dict:
    return {
        "bench": pop.name,
        "kind": pop.kind,
        "text_label": pop.text_label,
        "signal": pop.signal,
        "population": pop.items.height,
        "levels_present": sorted(set(items["level"].to_list())),
    }


def build_samples(
    params: AuthorityParams, ctx: BenchContext
) -> tuple[list[BenchSample], pl.DataFrame]:
    """Each bench's sample, and one meta row per bench."""
    s = params.sample
    samples, meta = [], []
    for name in params.benches:
        pop = load_population(name, ctx)
        samples.append(
            sample_bench(pop, params.levels, s.items, s.pairs, s.easy_gap, s.hard_gap,
                         s.list_size, s.seed)
        )  # fmt: skip
        meta.append(bench_meta(pop, with_levels(pop, params.levels)))
    return samples, pl.DataFrame(meta, schema=BENCH_META)


def rag_truth(params: AuthorityParams, ctx: BenchContext, seed: int) -> dict[str, pl.DataFrame]:
    """RAGAuth questions and documents, each document with its domain's PageRank and level."""
    from trustir.sources.world.qa import authority_questions

    rp = params.ragauth
    qa = authority_questions(ctx.world_obj(), seed, rp.questions, rp.top_k, rp.snippet_chars)
    domains = with_levels(load_population("world-domains", ctx), params.levels).select(
        pl.col("item_id").alias("domain"), pl.col("authority").alias("pagerank"), "level"
    )
    docs = qa.docs.join(domains, on="domain", how="left")
    missing = docs.filter(pl.col("pagerank").is_null())["domain"].unique().to_list()
    if missing:
        raise ValueError(f"RAGAuth documents on domains without PageRank: {missing[:5]}")
    return {"rag_questions": qa.questions, "rag_docs": docs}


def build_truth(params: AuthorityParams, data, root: Path) -> dict[str, pl.DataFrame]:
    """Every table the ``authority_truth`` stage writes: benches, items, pairs, lists,
    rag_questions, rag_docs."""
    ctx = bench_context(params, data, root)
    samples, meta = build_samples(params, ctx)
    return {
        "benches": meta,
        "items": pl.concat([s.items for s in samples]),
        "pairs": pl.concat([s.pairs for s in samples]),
        "lists": pl.concat([s.lists for s in samples]),
        **rag_truth(params, ctx, data.seed),
    }


def samples_from_tables(t: dict[str, pl.DataFrame]) -> list[BenchSample]:
    """The bench samples back from the stage's tables (bench order kept)."""
    out = []
    for bench, kind, text_label in t["benches"].select("bench", "kind", "text_label").iter_rows():
        pick = pl.col("bench") == bench
        out.append(
            BenchSample(
                bench, kind, text_label, t["items"].filter(pick), t["pairs"].filter(pick),
                t["lists"].filter(pick),
            )
        )  # fmt: skip
    return out
