"""Stage prag_eval (P9 PRAG): every mode's answer at every noise level, scored (EM, F1,
contains), the gold answer's log-probability per mode (noise 0), and the adapters' cosines
(same entity vs unrelated) -> data/prag_eval/."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.io.runlog import write_run_record
from trustir.llm.config import LLMParams
from trustir.llm.ledger import Ledger
from trustir.llm.store import LabelStore
from trustir.prag.analysis import cosine_pairs
from trustir.prag.infer import answer_all, answer_logprobs
from trustir.prag.metrics import score_answers
from trustir.prag.model import BaseModel
from trustir.prag.params import PragParams
from trustir.prag.store import AdapterStore
from trustir.prag.train import doc_states
from trustir.stage import stage
from trustir.tables import read_tables, write_tables

if TYPE_CHECKING:
    from trustir.params import Params


@stage("prag_eval", sections=(LLMParams, PragParams))
def main(params: "Params", root: Path) -> None:
    pp = params.prag
    t = read_tables(root / "data/prag_augment", ["questions", "contexts", "docs"])
    adapters = read_tables(root / "data/prag_train", ["adapters"])["adapters"]
    store = AdapterStore(Path(pp.adapter_store).expanduser() if pp.adapter_store else None)
    base = BaseModel(params.llm)
    ledger = Ledger(run="prag-eval", model=base.model_id)
    with LabelStore(Path(pp.store).expanduser() if pp.store else None) as st:
        args = (t["questions"], t["contexts"], t["docs"], adapters, pp, base, st, store, ledger)
        answers = answer_all(*args)
        logprobs = answer_logprobs(*args)
    ledger.append()
    states = doc_states(store, adapters)
    entity = dict(t["docs"].select("doc_id", "entity").iter_rows())
    scored = score_answers(answers, t["questions"])
    out = root / "data/prag_eval"
    tables = {"answers": scored, "logprobs": logprobs, "cosines": cosine_pairs(states, entity)}
    write_tables(tables, out)
    write_run_record(out, ledger.to_metrics(), root)
    print(f"prag_eval: {scored.height} answers; this run: {ledger.to_metrics()}")


if __name__ == "__main__":
    main()
