"""Stage judge_bench: every judge on the same pooled train pairs -> metrics/judges.json."""

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from trustir.annotate.bench_params import JudgeBenchParams
from trustir.annotate.judge_bench import bench_pairs, bench_table, judge_scores, seed_store
from trustir.annotate.params import AnnotateParams
from trustir.config import non_default
from trustir.evaluate.measures import min_rel_for
from trustir.evaluate.params import EvaluateParams
from trustir.io.runlog import write_run_record
from trustir.llm.config import LLMParams
from trustir.report.params import ReportParams
from trustir.report.provenance import collect_provenance
from trustir.sources.params import DataParams
from trustir.stage import stage
from trustir.tables import read_tables

if TYPE_CHECKING:
    from trustir.params import Params

SECTIONS = (DataParams, EvaluateParams, LLMParams, AnnotateParams, JudgeBenchParams, ReportParams)


@stage("judge_bench", sections=SECTIONS)
def main(params: "Params", root: Path) -> None:
    bench = params.judge_bench
    t = read_tables(root / "data/fetch", ["corpus", "queries", "qrels"])
    runs = {r: pl.read_parquet(root / f"data/index/{r}.run.parquet") for r in bench.runs}
    min_rel = min_rel_for(params.evaluate, params.data.source)
    frame, source = bench_pairs(t["corpus"], t["queries"], t["qrels"], runs, bench)
    reused = seed_store(params.annotate, pl.read_parquet(root / "data/annotate/labels.parquet"))
    frame, costs = judge_scores(frame, bench, params.annotate, params.llm)
    dataset = params.data.name or params.data.source
    provenance = collect_provenance(root, ["fetch", "index"], non_default(params))
    table = bench_table(frame, bench, min_rel, dataset, source, provenance)
    table.set_noise(params.report.settings()).save(root / "metrics", root / "data/judge_bench")
    write_run_record(root / "metrics/judges.json", costs, root)  # per-run costs: git-ignored
    print(table.to_markdown(provenance=False), f"\nthis run's costs: {costs}")
    print(f"label rows reused from annotate (store seeded): {reused}")


if __name__ == "__main__":
    main()
