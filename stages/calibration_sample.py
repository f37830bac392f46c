"""Stage calibration_sample (P4 MACE): the questions (``qa``) and every LLM sample and P(True)
score the confidence methods need, through the label store -> data/calibration_sample/; this
run's ledger -> runs/data/calibration_sample.json (git-ignored)."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.calibration.collect import collect
from trustir.calibration.params import CalibrationParams
from trustir.calibration.qa import load_qa
from trustir.io.runlog import write_run_record
from trustir.llm.config import LLMParams, make_backend
from trustir.llm.ledger import Ledger
from trustir.llm.store import LabelStore
from trustir.sources.params import DataParams
from trustir.stage import stage
from trustir.tables import write_tables

if TYPE_CHECKING:
    from trustir.params import Params


@stage("calibration_sample", sections=(DataParams, LLMParams, CalibrationParams))
def main(params: "Params", root: Path) -> None:
    cp = params.calibration
    qa = load_qa(cp, params.data, root)
    backend = make_backend(params.llm)
    ledger = Ledger(run="calibration-sample", model=backend.model_id)
    store = Path(cp.store).expanduser() if cp.store else None
    with LabelStore(store) as st, ledger.track(backend):
        out = collect(qa, cp, backend, st, ledger)
    ledger.append()
    write_tables({"qa": qa, **out}, root / "data/calibration_sample")
    run = ledger.to_metrics()
    write_run_record(root / "data/calibration_sample", run, root)
    counts = qa.group_by("n_answers").len().sort("n_answers").rows()
    print(f"calibration_sample: {qa.height} questions {counts}, {out['samples'].height} replies; "
          f"this run: {run}")  # fmt: skip


if __name__ == "__main__":
    main()
