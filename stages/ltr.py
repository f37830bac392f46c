"""Stage ltr (P8's table): every ranker x supervision re-ranks the test queries' BM25
candidates -> metrics/ltr.json (nDCG@10 per frequency bucket), per-query values and contrasts
in data/ltr/, reports/ltr.md and reports/plots/ltr.png."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.config import non_default
from trustir.evaluate.measures import min_rel_for
from trustir.evaluate.params import EvaluateParams
from trustir.io.atomic import write_text
from trustir.io.runlog import write_run_record
from trustir.io.stable import write_metrics
from trustir.ranking import report
from trustir.ranking.experiment import load_inputs, run_ltr
from trustir.ranking.params import LtrParams
from trustir.report import collect_provenance, load_table
from trustir.report.params import ReportParams
from trustir.retrieval.params import IndexParams
from trustir.sources.params import DataParams
from trustir.stage import stage

if TYPE_CHECKING:
    from trustir.params import Params


@stage("ltr", sections=(DataParams, IndexParams, EvaluateParams, LtrParams, ReportParams))
def main(params: "Params", root: Path) -> None:
    p = params.ltr
    inputs = load_inputs(root, params)
    result = run_ltr(inputs, p, min_rel_for(params.evaluate, params.data.source))
    provenance = collect_provenance(
        root, ["fetch", "index", "clicks", "ltr_labels"], non_default(params)
    )
    notes = report.ltr_notes(result, inputs, p)
    table = report.ltr_table(result.cells, result.per_query, notes, provenance)
    table.set_noise(params.report.settings()).save(root / "metrics", root / "data/ltr")
    pairs = report.contrast_pairs(p.rankers, p.supervisions)
    found = report.contrasts(result.per_query, pairs, p.bootstrap, p.seed)
    write_metrics({"contrasts": found, **result.info}, root / "data/ltr/info.json")
    write_run_record(root / "data/ltr", result.run, root)
    clickmodels = load_table(root / "metrics", root / "data/clicks", "clickmodels")
    md = report.report_markdown(table, report.contrast_markdown(found, p.bootstrap), clickmodels)
    write_text(md, root / "reports/ltr.md")
    report.plot_table(table, p.rankers, p.supervisions).plot(root / "reports/plots/ltr.png")
    print(md)


if __name__ == "__main__":
    main()
