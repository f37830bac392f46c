"""Stage ltr_labels (P8): the annotate stage's LLM qrels, extended so every frequency bucket has
LLM-labelled train queries (same judge, LLM and label store) -> data/ltr_labels/."""

from pathlib import Path

import polars as pl

from trustir.config import Params
from trustir.io.runlog import write_run_record
from trustir.io.stable import stable_labels, write_metrics
from trustir.ranking.inputs import fetched, min_rel_of
from trustir.ranking.labels import extend_llm_labels
from trustir.stage import stage
from trustir.tables import write_tables


@stage("ltr_labels")
def main(params: Params, root: Path) -> None:
    t = fetched(root)
    result = extend_llm_labels(
        t["corpus"],
        t["queries"],
        pl.read_parquet(root / "data/clicks/frequencies.parquet"),
        pl.read_parquet(root / "data/annotate/qrels.parquet"),
        pl.read_parquet(root / f"data/index/{params.index.bm25.name}.run.parquet"),
        params.ltr.labels,
        params.annotate,
        params.llm,
        min_rel_of(params),
    )
    labels = stable_labels(result.labels)
    write_tables({"qrels": result.qrels, "labels": labels}, root / "data/ltr_labels")
    write_metrics(result.summary, root / "data/ltr_labels/summary.json")
    write_run_record(root / "data/ltr_labels", result.run, root)  # calls, cache hits: git-ignored
    print(f"ltr_labels: {result.summary}; this run: {result.run}")


if __name__ == "__main__":
    main()
