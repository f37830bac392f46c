"""Stage authority_judge (P1): every bench x judge/format x text mode through the LLM and its
label store -> data/authority_judge/ (labels, scores, prefs, costs); this run's ledger ->
runs/data/authority_judge.json (git-ignored)."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.annotate.params import AnnotateParams
from trustir.authority.judging import judge_all
from trustir.authority.params import AuthorityParams
from trustir.authority.truth import samples_from_tables
from trustir.io.runlog import write_run_record
from trustir.io.stable import stable_labels
from trustir.llm.config import LLMParams
from trustir.scale.params import ScaleParams
from trustir.stage import stage
from trustir.tables import read_tables, write_tables

if TYPE_CHECKING:
    from trustir.params import Params


@stage("authority_judge", sections=(LLMParams, AnnotateParams, AuthorityParams, ScaleParams))
def main(params: "Params", root: Path) -> None:
    truth = read_tables(root / "data/authority_truth", ["benches", "items", "pairs", "lists"])
    samples = samples_from_tables(truth)
    out = judge_all(samples, params.authority, params.llm, params.annotate.store,
                    fanout=params.scale.fanout)  # fmt: skip
    tables = {
        "labels": stable_labels(out.labels),
        "scores": out.scores,
        "prefs": out.prefs,
        "costs": out.costs,
    }
    write_tables(tables, root / "data/authority_judge")
    write_run_record(root / "data/authority_judge", out.run, root)
    print(f"authority_judge: {out.costs.height} rows; this run: {out.run}")


if __name__ == "__main__":
    main()
