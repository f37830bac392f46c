"""Stage evaluate: ir_measures on every run (test queries) -> metrics/retrieval.json + per query."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.config import non_default
from trustir.evaluate.params import EvaluateParams
from trustir.report import collect_provenance
from trustir.report.params import ReportParams
from trustir.report.retrieval import retrieval_table
from trustir.retrieval.params import IndexParams
from trustir.sources.params import DataParams
from trustir.stage import stage
from trustir.tables import read_tables

if TYPE_CHECKING:
    from trustir.params import Params


@stage("evaluate", sections=(DataParams, IndexParams, EvaluateParams, ReportParams))
def main(params: "Params", root: Path) -> None:
    data = read_tables(root / "data/fetch", ["queries", "qrels"])
    runs = read_tables(root / "data/index", [f"{n}.run" for n in params.index.run_names])
    table = retrieval_table(
        runs,
        data["qrels"],
        data["queries"],
        params.evaluate,
        params.data.source,
        provenance=collect_provenance(root, ["fetch", "index"], non_default(params)),
    )
    table.set_noise(params.report.settings()).save(root / "metrics", root / "data/evaluate")
    print(table.to_markdown())


if __name__ == "__main__":
    main()
