"""Stage lvlm_sample (P10 LVLM knowledge boundaries): VQA items on the rendered world pages and
every reply of the VLM (page image) and of its text-only counterpart (SmolLM2 on the page's
text) -- samples, verbalized, rephrased questions, perturbed images -- through the label store
-> data/lvlm_sample/; this run's ledger -> runs/data/lvlm_sample.json (git-ignored)."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.io.runlog import write_run_record
from trustir.llm.config import LLMParams
from trustir.llm.ledger import Ledger
from trustir.lvlm.params import LvlmParams
from trustir.lvlm.pipeline import sample_all
from trustir.sources.params import DataParams
from trustir.stage import stage
from trustir.tables import write_tables
from trustir.vision.params import VisionParams

if TYPE_CHECKING:
    from trustir.params import Params


@stage("lvlm_sample", sections=(DataParams, LLMParams, VisionParams, LvlmParams))
def main(params: "Params", root: Path) -> None:
    tables, run = sample_all(params, root, Ledger)
    write_tables(tables, root / "data/lvlm_sample")
    write_run_record(root / "data/lvlm_sample", run, root)
    print(f"lvlm_sample: {tables['vqa'].height} questions, {tables['samples'].height} replies; "
          f"this run: {run}")  # fmt: skip


if __name__ == "__main__":
    main()
