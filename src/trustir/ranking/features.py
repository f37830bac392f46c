"""Every feature of P8's rankers, documented in one place (``FEATURES``), and their computation.

A feature row describes one (query, document) candidate. Sources: the index stage's runs (BM25,
dense), the texts, the world's domains (PageRank, authority level) and entities (popularity),
and the query log's *feature share* (clicks the rankers may use as evidence; the click labels
come from the other share, so a ranker never sees its labels as a feature). A source a dataset
lacks (no domains on a BEIR folder) gives the feature's neutral value, stated below.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from trustir.text import words

#: name -> what it is (and its value when the source is missing). The order is the column order.
FEATURES: dict[str, str] = {
    "bm25": "BM25 score (index stage's bm25 run); the query's lowest retrieved score if absent",
    "bm25_rr": "1 / BM25 rank; 0 if the document is not in the BM25 run",
    "dense": "dense (MiniLM cosine) score; the query's lowest retrieved score if absent",
    "dense_rr": "1 / dense rank; 0 if not in the dense run",
    "overlap_title": "share of the query's words (lowercased, stopwords dropped) in the title",
    "overlap_text": "share of the query's words in the text",
    "doc_len": "log(1 + words of title and text)",
    "query_len": "words of the query",
    "pagerank": "log10 PageRank of the document's domain; the median domain's if unknown",
    "authority": "authority level (1-5) of the document's domain; 3 if unknown",
    "entity_pop": "log10 popularity of the most popular entity the document names; 0 if none",
    "query_freq": "log(1 + the query's frequency in the log)",
    "click_ctr": "(clicks + 1) / (impressions + 4) of the pair in the log's feature share",
    "click_impressions": "log(1 + impressions of the pair in the log's feature share)",
}
CLICK_FEATURES = ("click_ctr", "click_impressions")


def feature_names(click_features: bool = True) -> list[str]:
    """The feature columns in order; without the click-log ones if ``click_features`` is off."""
    return [f for f in FEATURES if click_features or f not in CLICK_FEATURES]


@dataclass(frozen=True)
class FeatureSources:
    """What features are computed from (optional tables may be None)."""

    corpus: pl.DataFrame  # doc_id, title, text, domain
    queries: pl.DataFrame  # query_id, text
    frequencies: pl.DataFrame  # query_id, freq
    runs: dict[str, pl.DataFrame]  # "bm25" and "dense": query_id, doc_id, score, rank
    domains: pl.DataFrame | None = None  # domain, pagerank, level
    entities: pl.DataFrame | None = None  # name, popularity
    click_history: pl.DataFrame | None = None  # sessions (feature share)


def _run_features(pairs: pl.DataFrame, run: pl.DataFrame | None, name: str) -> pl.DataFrame:
    if run is None:
        return pairs.with_columns(pl.lit(0.0).alias(name), pl.lit(0.0).alias(f"{name}_rr"))
    floor = run.group_by("query_id").agg(pl.col("score").min().alias("_floor"))
    return (
        pairs.join(
            run.select("query_id", "doc_id", "score", "rank"), on=["query_id", "doc_id"], how="left"
        )
        .join(floor, on="query_id", how="left")
        .with_columns(
            pl.coalesce("score", "_floor", pl.lit(0.0)).cast(pl.Float64).alias(name),
            (1.0 / pl.col("rank")).fill_null(0.0).alias(f"{name}_rr"),
        )
        .drop("score", "rank", "_floor")
    )


def _entity_popularity(corpus: pl.DataFrame, entities: pl.DataFrame | None) -> dict[str, float]:
    """doc_id -> log10 popularity of the most popular entity named in title or text (word
    n-grams up to the longest name matched against full names)."""
    if entities is None or entities.height == 0:
        return {}
    pop = {}
    for name, p in entities.select("name", "popularity").iter_rows():
        key = tuple(name.lower().split())
        pop[key] = max(pop.get(key, 0.0), float(p))
    longest = max(len(k) for k in pop)
    out = {}
    for doc_id, title, text in corpus.select("doc_id", "title", "text").iter_rows():
        toks = f"{title or ''} {text or ''}".lower().replace(",", " ").replace(".", " ").split()
        best = 0.0
        for n in range(1, longest + 1):
            for i in range(len(toks) - n + 1):
                best = max(best, pop.get(tuple(toks[i : i + n]), 0.0))
        out[doc_id] = math.log10(best) if best > 0 else 0.0
    return out


def _text_features(pairs: pl.DataFrame, src: FeatureSources) -> pl.DataFrame:
    q_words = {q: set(words(t)) for q, t in src.queries.select("query_id", "text").iter_rows()}
    docs = {
        d: (set(words(ti)), set(words(tx)), len(words(ti)) + len(words(tx)))
        for d, ti, tx in src.corpus.select("doc_id", "title", "text").iter_rows()
    }
    rows = []
    for q, d in pairs.select("query_id", "doc_id").iter_rows():
        qw = q_words.get(q, set())
        title, text, length = docs.get(d, (set(), set(), 0))
        n = max(len(qw), 1)
        rows.append((len(qw & title) / n, len(qw & text) / n, math.log1p(length), float(len(qw))))
    arr = np.asarray(rows, dtype=np.float64).reshape(-1, 4)
    return pairs.with_columns(
        pl.Series("overlap_title", arr[:, 0]),
        pl.Series("overlap_text", arr[:, 1]),
        pl.Series("doc_len", arr[:, 2]),
        pl.Series("query_len", arr[:, 3]),
    )


def _domain_features(pairs: pl.DataFrame, src: FeatureSources) -> pl.DataFrame:
    if src.domains is None or "domain" not in src.corpus.columns:
        return pairs.with_columns(pl.lit(0.0).alias("pagerank"), pl.lit(3.0).alias("authority"))
    dom = src.domains.select(
        "domain",
        pl.col("pagerank").log10().alias("pagerank"),
        pl.col("level").cast(pl.Float64).alias("authority"),
    )
    # documents of a domain without a value get the median (imputation, a feature not a label);
    # an empty domains table has no median, and then no document has a value: 0.0 (= 1 in log10)
    median_pr = float(dom["pagerank"].median() or 0.0)
    doc_dom = src.corpus.select("doc_id", "domain").join(dom, on="domain", how="left")
    return pairs.join(doc_dom.drop("domain"), on="doc_id", how="left").with_columns(
        pl.col("pagerank").fill_null(median_pr), pl.col("authority").fill_null(3.0)
    )


def _click_features(pairs: pl.DataFrame, history: pl.DataFrame | None) -> pl.DataFrame:
    if history is None or history.height == 0:
        counts = pairs.select("query_id", "doc_id").with_columns(
            pl.lit(0, dtype=pl.Int64).alias("_imp"), pl.lit(0, dtype=pl.Int64).alias("_clk")
        )
    else:
        counts = history.group_by("query_id", "doc_id").agg(
            pl.len().cast(pl.Int64).alias("_imp"),
            pl.col("clicked").sum().cast(pl.Int64).alias("_clk"),
        )
    return (
        pairs.join(counts, on=["query_id", "doc_id"], how="left")
        .with_columns(pl.col("_imp").fill_null(0), pl.col("_clk").fill_null(0))
        .with_columns(
            ((pl.col("_clk") + 1.0) / (pl.col("_imp") + 4.0)).alias("click_ctr"),
            pl.col("_imp").cast(pl.Float64).log1p().alias("click_impressions"),
        )
        .drop("_imp", "_clk")
    )


def build_features(
    pairs: pl.DataFrame, src: FeatureSources, names: Sequence[str] | None = None
) -> pl.DataFrame:
    """query_id, doc_id and every feature of ``names`` (default: all of ``FEATURES``) for
    each (query_id, doc_id) of ``pairs`` (unique pairs, in the order given)."""
    names = list(names or FEATURES)
    unknown = [n for n in names if n not in FEATURES]
    if unknown:
        raise ValueError(f"unknown feature(s) {unknown}; known: {', '.join(FEATURES)}")
    base = pairs.select("query_id", "doc_id").unique(maintain_order=True)
    base = base.with_row_index("_order")
    out = _run_features(base, src.runs.get("bm25"), "bm25")
    out = _run_features(out, src.runs.get("dense"), "dense")
    out = _text_features(out, src)
    out = _domain_features(out, src)
    docs = src.corpus.join(base.select("doc_id").unique(), on="doc_id", how="semi")
    ent = _entity_popularity(docs, src.entities)
    out = out.with_columns(
        pl.col("doc_id")
        .replace_strict(ent, default=0.0, return_dtype=pl.Float64)
        .alias("entity_pop")
    )
    freq = src.frequencies.select(
        "query_id", pl.col("freq").cast(pl.Float64).log1p().alias("query_freq")
    )
    out = out.join(freq, on="query_id", how="left").with_columns(
        pl.col("query_freq").fill_null(0.0)
    )
    out = _click_features(out, src.click_history)
    return out.sort("_order").select(
        "query_id", "doc_id", *[pl.col(n).cast(pl.Float64) for n in names]
    )
