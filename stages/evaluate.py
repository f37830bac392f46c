"""Stage evaluate: ir_measures on every run (test queries) -> metrics/retrieval.json + per query."""

from pathlib import Path

from trustir.config import Params, non_default
from trustir.evaluate.retrieval import retrieval_table
from trustir.report import collect_provenance
from trustir.stage import stage
from trustir.tables import read_tables


@stage("evaluate")
def main(params: Params, root: Path) -> None:
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
