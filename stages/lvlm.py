"""Stage lvlm (P10's table): each confidence signal of the VLM and of its text-only counterpart
-- ECE, AUROC, Brier, accuracy, mean confidence -> metrics/lvlm.json, per-question values,
reports/lvlm.md and the reliability diagrams."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.calibration.report import plot_reliability
from trustir.config import non_default
from trustir.io.atomic import write_parquet, write_text
from trustir.io.stable import write_metrics
from trustir.llm.config import LLMParams
from trustir.lvlm.params import LvlmParams
from trustir.lvlm.pipeline import vlm_statement
from trustir.lvlm.report import judge_all, metrics_table, report_markdown
from trustir.report import collect_provenance
from trustir.report.params import ReportParams
from trustir.stage import stage
from trustir.tables import read_tables
from trustir.vision.params import VisionParams

if TYPE_CHECKING:
    from trustir.params import Params

INPUTS = ["lvlm_sample"]


@stage("lvlm", sections=(LLMParams, VisionParams, LvlmParams, ReportParams))
def main(params: "Params", root: Path) -> None:
    p = params.lvlm
    t = read_tables(root / "data/lvlm_sample", ["vqa", "samples"])
    keep = {k: v for k, v in non_default(params).items() if k.startswith(("lvlm.", "llm.model"))}
    title = (f"P10 LVLM knowledge boundaries: VLM ({params.vision.model}) vs its text-only LLM "
             f"({params.llm.model}) on world-page VQA")  # fmt: skip
    report = metrics_table(judge_all(t["samples"], t["vqa"], p), p, title,
                           collect_provenance(root, INPUTS, keep))  # fmt: skip
    out = root / "data/lvlm"
    report.table.set_noise(params.report.settings()).save(root / "metrics", out)
    write_parquet(report.judged, out / "judged.parquet")
    write_metrics(report.details, out / "details.json")
    plot_reliability(report, root / "reports/plots/lvlm.png")
    md = report_markdown(report, vlm_statement(report.table.cells, p, params.vision.model))
    write_text(md, root / "reports/lvlm.md")
    print(md)


if __name__ == "__main__":
    main()
