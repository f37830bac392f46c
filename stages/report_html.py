"""Stage report_html: reports/index.html, one offline page with every paper table (the
catalog in trustir.report.catalog), its provenance and its plot embedded."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.report.build import write_report
from trustir.stage import stage

if TYPE_CHECKING:
    from trustir.params import Params


@stage("report_html")
def main(params: "Params", root: Path) -> None:
    print(f"report_html: {write_report(root).relative_to(root)}")


if __name__ == "__main__":
    main()
