"""Stage fetch: materialise the configured data source (params `data`) as tables in data/fetch/."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.io.atomic import write_json
from trustir.sources.params import DataParams
from trustir.sources.registry import fetch_tables
from trustir.stage import stage
from trustir.tables import write_tables

if TYPE_CHECKING:
    from trustir.params import Params


@stage("fetch", sections=(DataParams,))
def main(params: "Params", root: Path) -> None:
    tables = fetch_tables(params.data, root)
    write_tables(tables, root / "data/fetch")
    counts = {name: df.height for name, df in tables.items()}
    write_json(
        {"source": params.data.source, "name": params.data.name, "rows": counts},
        root / "data/fetch_summary.json",
    )
    print("fetch:", ", ".join(f"{n}={c}" for n, c in counts.items()))


if __name__ == "__main__":
    main()
