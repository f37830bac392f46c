"""Stage annotate: LLM relevance labels for pooled candidates -> data/annotate/ + metrics.

The run's calls, cache hits, tokens and seconds go to the git-ignored run ledger
``runs/metrics/annotate.json`` (``trustir.io.runlog``), not into the metrics."""

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from trustir.annotate.params import AnnotateParams
from trustir.annotate.relevance_labels import annotate_candidates
from trustir.evaluate.measures import min_rel_for
from trustir.evaluate.params import EvaluateParams
from trustir.io.runlog import write_run_record
from trustir.io.stable import stable_labels, write_metrics
from trustir.llm.config import LLMParams
from trustir.scale.params import ScaleParams
from trustir.sources.params import DataParams
from trustir.stage import stage
from trustir.tables import read_tables, write_tables

if TYPE_CHECKING:
    from trustir.params import Params


@stage("annotate", sections=(DataParams, EvaluateParams, LLMParams, AnnotateParams, ScaleParams))
def main(params: "Params", root: Path) -> None:
    t = read_tables(root / "data/fetch", ["corpus", "queries", "qrels"])
    runs = [pl.read_parquet(root / f"data/index/{r}.run.parquet") for r in params.annotate.runs]
    min_rel = min_rel_for(params.evaluate, params.data.source)
    result = annotate_candidates(
        t["corpus"],
        t["queries"],
        t["qrels"],
        runs,
        params.annotate,
        params.llm,
        min_rel,
        fanout=params.scale.fanout,  # where the judging runs; not a DVC param: same labels
    )
    labels = stable_labels(result.labels)
    write_tables({"labels": labels, "qrels": result.qrels}, root / "data/annotate")
    write_metrics(result.metrics, root / "metrics/annotate.json")  # results only
    record = write_run_record(root / "metrics/annotate.json", result.run, root)  # git-ignored
    print(f"annotate: {result.metrics}; this run ({record.relative_to(root)}): {result.run}")


if __name__ == "__main__":
    main()
