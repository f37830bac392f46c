"""TREC run and qrels text formats (``qid Q0 docid rank score tag`` / ``qid 0 docid rel``)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from trustir.io.atomic import write_text


def write_trec_run(run: pl.DataFrame, target: str | Path) -> Path:
    """Write a run table as a TREC run file (ordered by query, then rank)."""
    rows = run.sort(["query_id", "rank"]).iter_rows(named=True)
    text = "".join(
        f"{r['query_id']} Q0 {r['doc_id']} {r['rank']} {r['score']:.6f} {r['run']}\n" for r in rows
    )
    return write_text(text, target)


def read_trec_run(path: str | Path) -> pl.DataFrame:
    """Read a TREC run file; a malformed line raises ValueError naming ``file:line``."""
    rows = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 6:
            raise ValueError(f"{path}:{n}: expected 6 fields 'qid Q0 docid rank score tag'")
        try:
            rows.append((parts[0], parts[2], float(parts[4]), int(parts[3]), parts[5]))
        except ValueError as exc:
            raise ValueError(f"{path}:{n}: {exc}") from None
    return pl.DataFrame(
        rows, schema=["query_id", "doc_id", "score", "rank", "run"], orient="row"
    ).cast({"score": pl.Float64, "rank": pl.Int64})
