"""Stage prag (P9's table): EM / F1 / contains per mode and noise level -> metrics/prag.json,
per-question values, P9's claims as paired tests, adapter cosines and bytes ->
reports/prag.md and reports/plots/prag.png."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.config import non_default
from trustir.io.atomic import write_text
from trustir.io.stable import write_metrics
from trustir.llm.config import LLMParams
from trustir.prag.params import PragParams
from trustir.prag.report import prag_report
from trustir.report import collect_provenance
from trustir.report.params import ReportParams
from trustir.sources.params import DataParams
from trustir.stage import stage
from trustir.tables import read_tables

if TYPE_CHECKING:
    from trustir.params import Params

INPUTS = ["prag_augment", "prag_train", "prag_eval"]


@stage("prag", sections=(DataParams, LLMParams, PragParams, ReportParams))
def main(params: "Params", root: Path) -> None:
    t = read_tables(root / "data/prag_augment", ["questions", "augment"])
    t |= read_tables(root / "data/prag_train", ["adapters"])
    t |= read_tables(root / "data/prag_eval", ["answers", "logprobs", "cosines"])
    keep = {k: v for k, v in non_default(params).items()
            if k.startswith(("prag.", "llm.model", "data."))}  # fmt: skip
    provenance = collect_provenance(root, INPUTS, keep)
    report = prag_report(t, params.prag, params.llm.model, provenance)
    out = root / "data/prag"
    report.table.set_noise(params.report.settings()).save(root / "metrics", out)
    write_metrics(report.details, out / "details.json")
    report.table.plot(root / "reports/plots/prag.png")
    md = report.markdown
    write_text(md, root / "reports/prag.md")
    print(md)


if __name__ == "__main__":
    main()
