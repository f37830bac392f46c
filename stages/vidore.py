"""Stage vidore (P6's table): nDCG@1/@5 per row with per-query values, paired tests against
global-only and the target's mass in the answer region -> metrics/vidore.json, data/vidore/,
reports/vidore.md, reports/plots/vidore.png."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.agree.params import AgreeParams
from trustir.agree.report import vidore_table
from trustir.config import non_default
from trustir.io.atomic import write_text
from trustir.report import collect_provenance
from trustir.report.params import ReportParams
from trustir.stage import stage

if TYPE_CHECKING:
    from trustir.params import Params

INPUTS = ["vidore_data", "agree_train"]


@stage("vidore", sections=(AgreeParams, ReportParams))
def main(params: "Params", root: Path) -> None:
    provenance = collect_provenance(root, INPUTS, non_default(params))
    table = vidore_table(params.agree, root / "data/agree_train", provenance)
    table.set_noise(params.report.settings()).save(root / "metrics", root / "data/vidore")
    write_text(table.to_markdown(), root / "reports/vidore.md")
    table.plot(root / "reports/plots/vidore.png")
    print(table.to_markdown())


if __name__ == "__main__":
    main()
