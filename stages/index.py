"""Stage index: BM25 and dense (faiss) runs for every query, as parquet and TREC run files."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.io.atomic import write_parquet
from trustir.io.trec import write_trec_run
from trustir.retrieval.bm25 import bm25_run
from trustir.retrieval.dense import dense_run
from trustir.retrieval.params import IndexParams
from trustir.stage import stage
from trustir.tables import read_tables

if TYPE_CHECKING:
    from trustir.params import Params


@stage("index", sections=(IndexParams,))
def main(params: "Params", root: Path) -> None:
    t = read_tables(root / "data/fetch", ["corpus", "queries"])
    p, out = params.index, root / "data/index"
    runs = {
        p.bm25.name: bm25_run(t["corpus"], t["queries"], p.bm25, p.depth),
        p.dense.name: dense_run(
            t["corpus"], t["queries"], p.dense, p.depth, index_path=out / f"{p.dense.name}.faiss"
        ),
    }
    for name, run in runs.items():
        write_parquet(run, out / f"{name}.run.parquet")
        write_trec_run(run, out / f"{name}.trec")


if __name__ == "__main__":
    main()
