"""Stage report: render every saved table as reports/<name>.md and a PNG plot (a DVC plot)."""

from pathlib import Path

from trustir.config import Params
from trustir.report import load_table
from trustir.stage import stage

TABLES = ["retrieval"]


@stage("report")
def main(params: Params, root: Path) -> None:
    for name in TABLES:
        table = load_table(root / "metrics", root / "data/evaluate", name)
        table.write_markdown(root / f"reports/{name}.md")
        table.plot(root / f"reports/plots/{name}.png")
        print(f"report: reports/{name}.md")


if __name__ == "__main__":
    main()
