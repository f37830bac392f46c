"""Stage clicks (P8): the query log (simulated sessions), frequency buckets, click models and
their click qrels -> data/clicks/ and metrics/clickmodels.json (held-out LL, perplexity,
relevance recovery; also on the Yandex sample)."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.config import non_default
from trustir.ranking.inputs import fetched
from trustir.ranking.params import LtrParams
from trustir.ranking.querylog import run_click_log
from trustir.report import collect_provenance
from trustir.report.params import ReportParams
from trustir.sources.params import DataParams
from trustir.stage import stage
from trustir.tables import write_tables

if TYPE_CHECKING:
    from trustir.params import Params


@stage("clicks", sections=(DataParams, LtrParams, ReportParams))
def main(params: "Params", root: Path) -> None:
    provenance = collect_provenance(root, ["fetch"], non_default(params))
    result = run_click_log(fetched(root), params.ltr, params.data.seed, root, provenance)
    tables = {"sessions": result.sessions, "frequencies": result.frequencies, "qrels": result.qrels}
    write_tables(tables, root / "data/clicks")
    result.table.set_noise(params.report.settings()).save(root / "metrics", root / "data/clicks")
    print(result.table.to_markdown(provenance=False))


if __name__ == "__main__":
    main()
