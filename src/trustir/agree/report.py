"""P6's table: nDCG@1 / nDCG@5 per row (global-only, AGREE x local loss x λ), per-query values,
paired tests against global-only, and how well the target Ã finds the answer region."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from trustir.agree.evaluate import MEASURES
from trustir.agree.params import AgreeParams
from trustir.evaluate.significance import randomization
from trustir.report import Provenance, Table

TITLE = "P6 AGREE: ViDoRe-like visual retrieval, global-only vs attention-grounded local losses"


def vidore_table(p: AgreeParams, folder: Path, provenance: Provenance) -> Table:
    """The ``vidore`` table from ``data/agree_train/`` (rows/<row>/, target_quality.json)."""
    cells: dict[str, dict[str, float]] = {}
    parts = []
    for row, _, _ in p.rows():
        sub = folder / "rows" / row
        for f in ("metrics.json", "per_query.parquet"):
            if not (sub / f).is_file():
                raise FileNotFoundError(f"{sub / f} is missing (run agree_train)")
        cells[row] = json.loads((sub / "metrics.json").read_text())
        pq = pl.read_parquet(sub / "per_query.parquet")
        parts.append(pq.select(pl.lit(row).alias("row"), pl.col("measure").alias("column"),
                               "query_id", "value"))  # fmt: skip
    per_query = pl.concat(parts)
    notes = [_setup_note(p), *target_notes(p, folder), *paired_notes(per_query, p)]
    return Table(
        name="vidore", title=TITLE, cells=cells, per_query=per_query, row_label="training",
        provenance=provenance, notes=notes,
    )  # fmt: skip


def _setup_note(p: AgreeParams) -> str:
    return (
        f"{p.source} pages at {p.image_size} px ({(p.image_size // 28) ** 2} patches), backbone "
        f"{p.model} (vision tower frozen), dim {p.dim}; {p.epochs} epochs, batch {p.batch_size}; "
        f"global softplus(S(q,d-hardest) - S(q,d+)) at tau {p.global_temperature}; "
        f"target {p.target} from {p.target_model}; rows agree-<local loss>-l<lambda>."
    )


def target_notes(p: AgreeParams, folder: Path) -> list[str]:
    """How much of Ã's mass lies in the recorded answer region, against the region's share of
    the page (what a uniform map would put there)."""
    path = folder / "target_quality.json"
    if not path.is_file():
        return ["no local-loss row: no target computed"]
    q = json.loads(path.read_text())
    if not q.get("with_region"):
        return [f"target {q['target']}: no recorded answer regions (folder data), quality unknown"]
    return [
        f"target {q['target']} on {q['with_region']} training pairs: mass inside the answer "
        f"region {q['mass_in_region']:.3f} (a uniform map: {q['region_share']:.3f}); its top "
        f"patch lies in the region for {q['top_patch_in_region']:.3f} of the pairs "
        f"(cache: {q['cache']['hits']} hits, {q['cache']['misses']} computed)"
    ]


def paired_notes(per_query: pl.DataFrame, p: AgreeParams) -> list[str]:
    """Randomization-test p-values of every AGREE row against global-only, per measure."""
    out = []
    for measure in MEASURES:
        base = per_query.filter((pl.col("row") == "global") & (pl.col("column") == measure))
        for row, local, _ in p.rows():
            if local is None:
                continue
            other = per_query.filter((pl.col("row") == row) & (pl.col("column") == measure))
            joined = base.join(other, on="query_id", suffix="_v").sort("query_id")
            delta = float((joined["value_v"] - joined["value"]).mean())
            pval = randomization(joined["value"].to_list(), joined["value_v"].to_list())
            out.append(f"{row} vs global, {measure} over {joined.height} queries: "
                       f"delta {delta:+.4f}, randomization p = {pval:.3g}")  # fmt: skip
    return out
