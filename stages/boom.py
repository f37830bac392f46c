"""Stage boom (P5's table): the untrained model, every schedule, merge, BOOM and the incremental
update on the same task subsets -> metrics/boom.json, per-query values, reports/boom.md, plot."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.config import non_default
from trustir.io.atomic import write_text
from trustir.multitask.boom import load_context, untrained_row
from trustir.multitask.params import BoomParams
from trustir.multitask.report import boom_table, report_markdown, score_table, table_rows
from trustir.report import collect_provenance
from trustir.report.params import ReportParams
from trustir.retrieval.params import IndexParams
from trustir.stage import stage

if TYPE_CHECKING:
    from trustir.params import Params

INPUTS = ["multitask_tasks", "multitask", "boom_merge", "boom_bags", "boom_incremental"]


@stage("boom", sections=(IndexParams, BoomParams, ReportParams))
def main(params: "Params", root: Path) -> None:
    ctx = load_context(params, root / "data/multitask/tasks")
    data = root / "data"
    rows = table_rows(
        params.boom,
        untrained_row(ctx),
        data / "multitask/schedules",
        data / "boom/merge",
        data / "boom/bags",
        data / "boom/incremental",
    )
    provenance = collect_provenance(root, INPUTS, non_default(params))
    table = boom_table(rows, params.boom, provenance)
    table.set_noise(params.report.settings()).save(root / "metrics", data / "boom/table")
    write_text(report_markdown(table, params.boom), root / "reports/boom.md")
    score_table(table, params.boom).plot(root / "reports/plots/boom.png")
    print(report_markdown(table, params.boom))


if __name__ == "__main__":
    main()
