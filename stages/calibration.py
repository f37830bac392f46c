"""Stage calibration (P4's table): every confidence method's ECE (all and by answer count),
AUROC, Brier, accuracy and confidence -> metrics/calibration.json, per-question values,
reports/calibration.md and the reliability diagrams."""

from pathlib import Path

from trustir.calibration.clusters import minilm_embedder
from trustir.calibration.report import calibrate, plot_reliability, report_markdown
from trustir.config import Params, non_default
from trustir.io.atomic import write_json, write_parquet, write_text
from trustir.report import collect_provenance
from trustir.stage import stage
from trustir.tables import read_tables

INPUTS = ["calibration_sample"]


@stage("calibration")
def main(params: Params, root: Path) -> None:
    cp = params.calibration
    t = read_tables(root / "data/calibration_sample", ["qa", "samples", "ptrue"])
    flat = non_default(params)
    keep = {k: v for k, v in flat.items() if k.startswith(("calibration.", "llm.model", "data."))}
    provenance = collect_provenance(root, INPUTS, keep)
    where = cp.qa.source + (" in-context" if cp.qa.source == "world" and cp.qa.in_context else "")
    title = f"P4 MACE: calibration under several correct answers ({where}, {params.llm.model})"
    embed = minilm_embedder(cp.cluster.encoder)
    report = calibrate(t["samples"], t["ptrue"], t["qa"], cp, embed, title, provenance)
    report.table.save(root / "metrics", root / "data/calibration")
    write_parquet(report.judged, root / "data/calibration/judged.parquet")
    write_json(report.details, root / "data/calibration/details.json")
    plot_reliability(report, root / "reports/plots/calibration.png")
    md = report_markdown(report)
    write_text(md, root / "reports/calibration.md")
    print(md)


if __name__ == "__main__":
    main()
