"""The column vocabulary shared by every stage: one polars schema per table (DESIGN.md)."""

from __future__ import annotations

import polars as pl

CORPUS = {
    "doc_id": pl.String,
    "title": pl.String,
    "text": pl.String,
    "domain": pl.String,
    "url": pl.String,
}
QUERIES = {"query_id": pl.String, "text": pl.String, "split": pl.String, "freq": pl.Int64}
QRELS = {"query_id": pl.String, "doc_id": pl.String, "relevance": pl.Int64, "source": pl.String}
RUN = {
    "query_id": pl.String,
    "doc_id": pl.String,
    "score": pl.Float64,
    "rank": pl.Int64,
    "run": pl.String,
}
DOMAINS = {"domain": pl.String, "pagerank": pl.Float64, "level": pl.Int64}
LINKS = {"src": pl.String, "dst": pl.String}
ENTITIES = {
    "entity_id": pl.String,
    "name": pl.String,
    "popularity": pl.Float64,
    "level": pl.Int64,
}
#: questions with reference answers (P4 calibration; ``domain`` and ``context_doc_ids`` optional)
QA = {
    "qid": pl.String,
    "question": pl.String,
    "answers": pl.List(pl.String),
    "n_answers": pl.Int64,
    "domain": pl.String,
    "context_doc_ids": pl.List(pl.String),
}
PER_QUERY = {"run": pl.String, "measure": pl.String, "query_id": pl.String, "value": pl.Float64}

TABLES: dict[str, dict[str, pl.DataType]] = {
    "corpus": CORPUS,
    "queries": QUERIES,
    "qrels": QRELS,
    "run": RUN,
    "domains": DOMAINS,
    "links": LINKS,
    "entities": ENTITIES,
    "per_query": PER_QUERY,
    "qa": QA,
}

SPLITS = ("train", "test")
#: qrels sources that are ground truth (evaluation), as opposed to model-made labels.
GROUND_TRUTH_SOURCES = ("world", "human")


def conform(df: pl.DataFrame, table: str) -> pl.DataFrame:
    """Cast ``df`` to the contract of ``table``: add missing optional columns as nulls, fix order.

    Raises ValueError naming the table and the missing required columns.
    """
    schema = TABLES[table]
    optional = {"domain", "url", "freq", "context_doc_ids"}
    missing = [c for c in schema if c not in df.columns and c not in optional]
    if missing:
        raise ValueError(f"table {table!r} lacks required column(s) {missing}")
    cols = [
        (pl.col(c) if c in df.columns else pl.lit(None)).cast(dtype).alias(c)
        for c, dtype in schema.items()
    ]
    extra = [c for c in df.columns if c not in schema]
    return df.select(cols + extra)
