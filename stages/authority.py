"""Stage authority (P1's table): correlations, pair accuracy, cost, RAGAuth accuracy ->
metrics/authority.json, per-pair/per-question values, reports/authority.md and its plot."""

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from trustir.annotate.params import AnnotateParams
from trustir.authority.params import AuthorityParams
from trustir.authority.table import authority_report, plot_table, provenance_params, report_markdown
from trustir.config import non_default
from trustir.io.atomic import write_parquet, write_text
from trustir.io.stable import write_metrics
from trustir.llm.config import LLMParams
from trustir.report import collect_provenance
from trustir.report.params import ReportParams
from trustir.sources.params import DataParams
from trustir.stage import stage
from trustir.tables import read_tables

if TYPE_CHECKING:
    from trustir.params import Params

INPUTS = ["authority_truth", "authority_judge", "authority_rag"]


@stage("authority", sections=(DataParams, LLMParams, AnnotateParams, AuthorityParams, ReportParams))
def main(params: "Params", root: Path) -> None:
    truth = read_tables(root / "data/authority_truth", ["benches", "items", "pairs"])
    judged = read_tables(root / "data/authority_judge", ["scores", "prefs", "costs"])
    answers = pl.read_parquet(root / "data/authority_rag/answers.parquet")
    provenance = collect_provenance(root, INPUTS, provenance_params(non_default(params)))
    title = f"AuthorityBench (P1): LLM judges of source authority ({params.llm.model})"
    report = authority_report(truth, judged, answers, provenance, title)
    report.table.set_noise(params.report.settings()).save(root / "metrics", root / "data/authority")
    write_metrics(report.details, root / "data/authority/details.json")
    write_parquet(report.items, root / "data/authority/items.parquet")
    md = report_markdown(report, truth["benches"])
    write_text(md, root / "reports/authority.md")
    plot_table(report, truth["benches"]["bench"].to_list()).plot(
        root / "reports/plots/authority.png"
    )
    print(md)


if __name__ == "__main__":
    main()
