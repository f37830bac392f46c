"""Stage authority_rag (P1 RAGAuth): judge the documents' domains, answer each yes/no question
with all / judged-filtered / oracle-filtered documents -> data/authority_rag/; this run's
ledger -> runs/data/authority_rag.json (git-ignored)."""

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from trustir.annotate.params import AnnotateParams
from trustir.authority.judging import rag_all
from trustir.authority.params import AuthorityParams
from trustir.io.runlog import write_run_record
from trustir.io.stable import stable_labels
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
    tables = {
        "answers": out.answers,
        "rag_domains": out.domains,
        "labels": stable_labels(out.labels),
    }
    write_tables(tables, root / "data/authority_rag")
    write_run_record(root / "data/authority_rag", out.run, root)
    acc = out.answers.group_by("condition", maintain_order=True).agg(
        accuracy=pl.col("correct").mean()
    )
    print(f"authority_rag: {acc.rows()}; this run: {out.run}")


if __name__ == "__main__":
    main()
