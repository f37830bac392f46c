"""Stage prag_augment (P9 PRAG): the questions, their BM25 top-k and noise contexts, and every
document's rewrites and QA pairs (through the label store) -> data/prag_augment/; this run's
ledger -> runs/data/prag_augment.json (git-ignored)."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.io.runlog import write_run_record
from trustir.llm.config import LLMParams
from trustir.llm.ledger import Ledger
from trustir.llm.store import LabelStore
from trustir.prag.augment import augment_docs
from trustir.prag.data import build_inputs
from trustir.prag.model import BaseModel
from trustir.prag.params import PragParams
from trustir.retrieval.params import IndexParams
from trustir.sources.params import DataParams
from trustir.stage import stage
from trustir.tables import write_tables

if TYPE_CHECKING:
    from trustir.params import Params


@stage("prag_augment", sections=(DataParams, IndexParams, LLMParams, PragParams))
def main(params: "Params", root: Path) -> None:
    pp = params.prag
    inputs = build_inputs(pp, params.data, params.index.bm25, root)
    base = BaseModel(params.llm)
    ledger = Ledger(run="prag-augment", model=base.model_id)
    with LabelStore(Path(pp.store).expanduser() if pp.store else None) as st:
        aug = augment_docs(inputs.docs, pp.augment, base, st, ledger)
    ledger.append()
    out = root / "data/prag_augment"
    tables = {"questions": inputs.questions, "contexts": inputs.contexts, "docs": inputs.docs}
    write_tables({**tables, "augment": aug}, out)
    write_run_record(out, ledger.to_metrics(), root)
    errors = aug.filter(aug["status"] != "ok").height
    print(f"prag_augment: {inputs.questions.height} questions (top-k hit rate "
          f"{inputs.hit_rate:.2f}), {inputs.docs.height} docs, {aug.height} rows "
          f"({errors} unparseable); this run: {ledger.to_metrics()}")  # fmt: skip


if __name__ == "__main__":
    main()
