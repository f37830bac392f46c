"""Stage authority_truth (P1): each bench's ground truth and sample (items, easy/hard pairs,
lists) and the RAGAuth questions -> data/authority_truth/*.parquet."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.authority.params import AuthorityParams
from trustir.authority.truth import build_truth
from trustir.sources.params import DataParams
from trustir.stage import stage
from trustir.tables import write_tables

if TYPE_CHECKING:
    from trustir.params import Params


@stage("authority_truth", sections=(DataParams, AuthorityParams))
def main(params: "Params", root: Path) -> None:
    tables = build_truth(params.authority, params.data, root)
    write_tables(tables, root / "data/authority_truth")
    print(tables["benches"].select("bench", "population", "levels_present"))
    print(f"authority_truth: {tables['items'].height} items, {tables['pairs'].height} pairs, "
          f"{tables['rag_questions'].height} RAGAuth questions")  # fmt: skip


if __name__ == "__main__":
    main()
