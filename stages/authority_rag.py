"""Stage authority_rag (P1 RAGAuth): judge the documents' domains, answer each yes/no question
with all / judged-filtered / oracle-filtered documents -> data/authority_rag/."""

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from trustir.annotate.params import AnnotateParams
from trustir.authority.judging import rag_all
from trustir.authority.params import AuthorityParams
from trustir.io.atomic import write_json
from trustir.llm.config import LLMParams
from trustir.stage import stage
from trustir.tables import read_tables, write_tables

if TYPE_CHECKING:
    from trustir.params import Params


@stage("authority_rag", sections=(LLMParams, AnnotateParams, AuthorityParams))
def main(params: "Params", root: Path) -> None:
    truth = read_tables(root / "data/authority_truth", ["rag_questions", "rag_docs"])
    out = rag_all(truth["rag_questions"], truth["rag_docs"], params.authority, params.llm,
                  params.annotate.store)  # fmt: skip
    tables = {"answers": out.answers, "rag_domains": out.domains, "labels": out.labels}
    write_tables(tables, root / "data/authority_rag")
    write_json(out.run, root / "data/authority_rag/run.json")
    acc = out.answers.group_by("condition", maintain_order=True).agg(
        accuracy=pl.col("correct").mean()
    )
    print(f"authority_rag: {acc.rows()}; this run: {out.run}")


if __name__ == "__main__":
    main()
