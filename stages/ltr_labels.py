"""Stage ltr_labels (P8): the annotate stage's LLM qrels, extended so every frequency bucket has
LLM-labelled train queries (same judge, LLM and label store) -> data/ltr_labels/."""

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from trustir.annotate.params import AnnotateParams
from trustir.evaluate.measures import min_rel_for
from trustir.evaluate.params import EvaluateParams
from trustir.io.runlog import write_run_record
from trustir.io.stable import stable_labels, write_metrics
from trustir.llm.config import LLMParams
from trustir.ranking.inputs import fetched
from trustir.ranking.labels import extend_llm_labels
from trustir.ranking.params import LtrParams
from trustir.retrieval.params import IndexParams
from trustir.sources.params import DataParams
from trustir.stage import stage
from trustir.tables import write_tables

if TYPE_CHECKING:
    from trustir.params import Params

SECTIONS = (DataParams, IndexParams, EvaluateParams, LLMParams, AnnotateParams, LtrParams)


@stage("ltr_labels", sections=SECTIONS)
def main(params: "Params", root: Path) -> None:
    t = fetched(root)
    freqs, qrels, bm25 = (
        pl.read_parquet(root / f)
        for f in ("data/clicks/frequencies.parquet", "data/annotate/qrels.parquet",
                  f"data/index/{params.index.bm25.name}.run.parquet")
    )  # fmt: skip
    min_rel = min_rel_for(params.evaluate, params.data.source)
    result = extend_llm_labels(t["corpus"], t["queries"], freqs, qrels, bm25, params.ltr.labels,
                               params.annotate, params.llm, min_rel)  # fmt: skip
    labels = stable_labels(result.labels)
    write_tables({"qrels": result.qrels, "labels": labels}, root / "data/ltr_labels")
    write_metrics(result.summary, root / "data/ltr_labels/summary.json")
    write_run_record(root / "data/ltr_labels", result.run, root)  # calls, cache hits: git-ignored
    print(f"ltr_labels: {result.summary}; this run: {result.run}")


if __name__ == "__main__":
    main()
