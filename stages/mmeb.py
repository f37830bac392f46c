"""Stage mmeb (P2/P7's table): Precision@1 per variant (none / cocoa / coma) and task, with
per-item values -> metrics/mmeb.json, data/mmeb/, reports/mmeb.md, reports/plots/mmeb.png."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.config import non_default
from trustir.io.atomic import write_text
from trustir.report import collect_provenance
from trustir.report.params import ReportParams
from trustir.stage import stage
from trustir.vision.params import VisionParams
from trustir.vision.report import mmeb_table

if TYPE_CHECKING:
    from trustir.params import Params

INPUTS = ["vision_world", "mm_train"]


@stage("mmeb", sections=(VisionParams, ReportParams))
def main(params: "Params", root: Path) -> None:
    provenance = collect_provenance(root, INPUTS, non_default(params))
    table = mmeb_table(params.vision, root / "data/mm_train", provenance)
    table.set_noise(params.report.settings()).save(root / "metrics", root / "data/mmeb")
    write_text(table.to_markdown(), root / "reports/mmeb.md")
    table.plot(root / "reports/plots/mmeb.png")
    print(table.to_markdown())


if __name__ == "__main__":
    main()
