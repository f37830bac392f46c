"""Stage calibration (P4's table): every confidence method's ECE (all and by answer count),
AUROC, Brier, accuracy and confidence -> metrics/calibration.json, per-question values,
reports/calibration.md and the reliability diagrams."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.calibration.clusters import minilm_embedder
from trustir.calibration.params import CalibrationParams
from trustir.calibration.report import calibrate, plot_reliability, report_markdown
from trustir.config import non_default
from trustir.io.atomic import write_parquet, write_text
from trustir.io.stable import write_metrics
from trustir.llm.config import LLMParams
from trustir.report import collect_provenance
from trustir.report.params import ReportParams
from trustir.sources.params import DataParams
from trustir.stage import stage
from trustir.tables import read_tables

if TYPE_CHECKING:
    from trustir.params import Params

INPUTS = ["calibration_sample"]


@stage("calibration", sections=(DataParams, LLMParams, CalibrationParams, ReportParams))
def main(params: "Params", root: Path) -> None:
    cp = params.calibration
    t = read_tables(root / "data/calibration_sample", ["qa", "samples", "ptrue"])
    flat = non_default(params)
    keep = {k: v for k, v in flat.items() if k.startswith(("calibration.", "llm.model", "data."))}
    provenance = collect_provenance(root, INPUTS, keep)
    where = cp.qa.source + (" in-context" if cp.qa.source == "world" and cp.qa.in_context else "")
    title = f"P4 MACE: calibration under several correct answers ({where}, {params.llm.model})"
    embed = minilm_embedder(cp.cluster.encoder)
    report = calibrate(t["samples"], t["ptrue"], t["qa"], cp, embed, title, provenance)
    out = root / "data/calibration"
    report.table.set_noise(params.report.settings()).save(root / "metrics", out)
    write_parquet(report.judged, out / "judged.parquet")
    write_metrics(report.details, out / "details.json")
    plot_reliability(report, root / "reports/plots/calibration.png")
    md = report_markdown(report)
    write_text(md, root / "reports/calibration.md")
    print(md)


if __name__ == "__main__":
    main()
