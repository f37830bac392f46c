"""Stage vidore_data (P6): ViDoRe-like pages, queries, qrels and answer regions -> data/vidore_data/
(pages/, pages.parquet, queries.parquet, qrels.parquet, regions.parquet). World pages come from
the world of ``data.seed``/``data.scale``; ``agree.source: folder`` reads ``agree.path``."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.agree.params import AgreeParams
from trustir.agree.pipeline import make_collection
from trustir.sources.params import DataParams
from trustir.stage import stage

if TYPE_CHECKING:
    from trustir.params import Params


@stage("vidore_data", sections=(DataParams, AgreeParams))
def main(params: "Params", root: Path) -> None:
    counts = make_collection(
        params.data.scale, params.data.seed, params.agree, root, root / "data/vidore_data"
    )
    print(f"vidore_data: {counts}")


if __name__ == "__main__":
    main()
