"""Stage report: the first-stage retrieval table as reports/retrieval.md and its plot."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.report import load_table
from trustir.stage import stage

if TYPE_CHECKING:
    from trustir.params import Params


@stage("report")
def main(params: "Params", root: Path) -> None:
    table = load_table(root / "metrics", root / "data/evaluate", "retrieval")
    table.write_markdown(root / "reports/retrieval.md")
    table.plot(root / "reports/plots/retrieval.png")
    print("report: reports/retrieval.md")


if __name__ == "__main__":
    main()
