"""IR effectiveness with ir_measures (pytrec_eval): aggregates and per-query values.

Binary measures (R, RR, P, AP, Success...) count a document as relevant when its grade is at least
``min_rel``; nDCG uses the graded gains as they are. A query that has judgments but no retrieved
document scores 0 (as ``trec_eval -c``), so a retriever cannot gain by returning nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import polars as pl

from trustir.schema import GROUND_TRUTH_SOURCES

#: relevance threshold of binary measures by data source (DESIGN.md "Relevance").
DEFAULT_MIN_REL = {"world": 2}


class _MinRelSection(Protocol):
    min_rel: int | None


def default_min_rel(source: str) -> int:
    """The binary-relevance threshold of a data source when params leave it unset."""
    return DEFAULT_MIN_REL.get(source, 1)


def min_rel_for(evaluate: _MinRelSection, source: str) -> int:
    """Lowest grade counted as relevant (and as a training positive): ``evaluate.min_rel`` when
    it is set (0 included), else by data source (world 2, BEIR folders 1)."""
    return evaluate.min_rel if evaluate.min_rel is not None else default_min_rel(source)


def parse_measures(names: Sequence[str], min_rel: int) -> dict[str, object]:
    """Map each user-facing name ("R@100") to an ir_measures measure with ``rel=min_rel`` set."""
    import ir_measures

    out = {}
    for name in names:
        try:
            m = ir_measures.parse_measure(name)
        except Exception as exc:  # ir_measures raises several types on bad names
            raise ValueError(f"evaluate.measures: cannot parse {name!r}: {exc}") from None
        if "rel" in m.SUPPORTED_PARAMS and "rel" not in m.params:
            m = m(rel=min_rel)
        out[name] = m
    return out


def evaluation_qrels(qrels: pl.DataFrame, queries: pl.DataFrame) -> pl.DataFrame:
    """Ground-truth qrels of test queries (model-made labels such as llm:* are excluded)."""
    test_ids = queries.filter(pl.col("split") == "test").select("query_id")
    return qrels.filter(pl.col("source").is_in(list(GROUND_TRUTH_SOURCES))).join(
        test_ids, on="query_id", how="semi"
    )


def evaluate_run(
    run: pl.DataFrame, qrels: pl.DataFrame, measures: Sequence[str], min_rel: int
) -> tuple[dict[str, float], pl.DataFrame]:
    """Mean of each measure over judged queries and the per-query values behind it.

    Returns ``({name: mean}, per_query)`` where ``per_query`` has query_id, measure, value.
    """
    import ir_measures

    parsed = parse_measures(measures, min_rel)
    back = {m: name for name, m in parsed.items()}
    qrel_objs = [
        ir_measures.Qrel(q, d, int(r))
        for q, d, r in qrels.select("query_id", "doc_id", "relevance").iter_rows()
    ]
    run_objs = [
        ir_measures.ScoredDoc(q, d, float(s))
        for q, d, s in run.select("query_id", "doc_id", "score").iter_rows()
    ]
    rows = [
        (pq.query_id, back[pq.measure], float(pq.value))
        for pq in ir_measures.iter_calc(list(parsed.values()), qrel_objs, run_objs)
    ]
    per_query = pl.DataFrame(
        rows,
        schema={"query_id": pl.String, "measure": pl.String, "value": pl.Float64},
        orient="row",
    )
    judged = qrels.filter(pl.col("relevance") > 0).select("query_id").unique()
    grid = judged.join(pl.DataFrame({"measure": list(parsed)}), how="cross")
    per_query = (
        grid.join(per_query, on=["query_id", "measure"], how="left")
        .with_columns(pl.col("value").fill_null(0.0))
        .sort(["measure", "query_id"])
    )
    if judged.height == 0:  # a mean over no query is undefined, never 0.0
        raise ValueError(
            f"evaluate_run: the qrels judge no query relevant (no relevance > 0 among "
            f"{qrels.height} qrels), so {', '.join(parsed)} are undefined"
        )
    # a judged query the run does not retrieve for scores 0 (fill_null above): IR's convention
    agg = {
        name: float(per_query.filter(pl.col("measure") == name)["value"].mean()) for name in parsed
    }
    return agg, per_query
