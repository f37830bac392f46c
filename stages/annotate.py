"""Stage annotate: LLM relevance labels for pooled candidates -> data/annotate/ + metrics."""

from pathlib import Path

import polars as pl

from trustir.annotate.relevance_labels import annotate_candidates
from trustir.config import Params
from trustir.evaluate.measures import min_rel_for
from trustir.io.atomic import write_json
from trustir.stage import stage
from trustir.tables import read_tables, write_tables


@stage("annotate")
def main(params: Params, root: Path) -> None:
    t = read_tables(root / "data/fetch", ["corpus", "queries", "qrels"])
    runs = [pl.read_parquet(root / f"data/index/{r}.run.parquet") for r in params.annotate.runs]
    min_rel = min_rel_for(params.evaluate, params.data.source)
    result = annotate_candidates(
        t["corpus"], t["queries"], t["qrels"], runs, params.annotate, params.llm, min_rel
    )
    write_tables({"labels": result.labels, "qrels": result.qrels}, root / "data/annotate")
    write_json(result.metrics, root / "metrics/annotate.json")
    print(f"annotate: {result.metrics}")


if __name__ == "__main__":
    main()
