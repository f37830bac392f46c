"""Stage calibration_sample (P4 MACE): the questions (``qa``) and every LLM sample and P(True)
score the confidence methods need, through the label store -> data/calibration_sample/."""

import time
from pathlib import Path

from trustir.calibration.collect import collect
from trustir.calibration.qa import load_qa
from trustir.config import Params
from trustir.io.atomic import write_json
from trustir.llm import LabelStore, Ledger, make_backend
from trustir.stage import stage
from trustir.tables import write_tables


@stage("calibration_sample")
def main(params: Params, root: Path) -> None:
    t0 = time.perf_counter()
    cp = params.calibration
    qa = load_qa(cp, params.data, root)
    backend = make_backend(params.llm)
    ledger = Ledger(run="calibration-sample", model=backend.model_id)
    store = Path(cp.store).expanduser() if cp.store else None
    with LabelStore(store) as st, ledger.track(backend):
        out = collect(qa, cp, backend, st, ledger)
    ledger.append()
    write_tables({"qa": qa, **out}, root / "data/calibration_sample")
    run = {**ledger.to_metrics(), "stage_seconds": round(time.perf_counter() - t0, 2)}
    write_json(run, root / "data/calibration_sample/run.json")
    counts = qa.group_by("n_answers").len().sort("n_answers").rows()
    print(f"calibration_sample: {qa.height} questions {counts}, {out['samples'].height} replies; "
          f"this run: {run}")  # fmt: skip


if __name__ == "__main__":
    main()
