"""Stage multipos (P3): gather the train_retriever variants and score the untrained model on the
same subset -> metrics/multipos.json, per-query values, reports/multipos.md and its plot."""

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from trustir.config import non_default
from trustir.evaluate.params import EvaluateParams
from trustir.io.atomic import write_text
from trustir.report import collect_provenance
from trustir.report.params import ReportParams
from trustir.retrieval import multipos as lib
from trustir.retrieval import multipos_report as report
from trustir.retrieval.params import IndexParams
from trustir.retrieval.train_params import MultiposParams
from trustir.sources.params import DataParams
from trustir.stage import stage
from trustir.tables import read_tables

if TYPE_CHECKING:
    from trustir.params import Params


@stage("multipos", sections=(DataParams, IndexParams, EvaluateParams, MultiposParams, ReportParams))
def main(params: "Params", root: Path) -> None:
    mp = params.multipos
    t = read_tables(root / "data/fetch", ["corpus", "queries", "qrels"])
    bm25 = pl.read_parquet(root / f"data/index/{params.index.bm25.name}.run.parquet")
    variants = lib.load_variants(root / "data/train_retriever", mp.losses, mp.regimes)
    ev = lib.params_eval_set(params, t["corpus"], t["queries"], t["qrels"], bm25)
    provenance = collect_provenance(root, ["fetch", "train_retriever"], non_default(params))
    table = report.multipos_table(variants, lib.baseline_scores(params, ev), ev, params, provenance)
    table.set_noise(params.report.settings()).save(root / "metrics", root / "data/multipos")
    measure = params.evaluate.measures[0]
    pivot = report.pivot_table(table, mp.losses, mp.regimes, measure)
    markdown = report.report_markdown(table, pivot, measure)
    write_text(markdown, root / "reports/multipos.md")
    pivot.plot(root / "reports/plots/multipos.png")
    print(markdown)


if __name__ == "__main__":
    main()
