"""Stage boom_bags (P5): BOOM - models trained from the same start on bagged samples of every
in-domain task, merged -> data/boom/bags/ (bag-<i>/model/, model/, metrics.json, per-query)."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.multitask.boom import load_context, run_boom
from trustir.multitask.params import BoomParams
from trustir.retrieval.params import IndexParams
from trustir.stage import stage

if TYPE_CHECKING:
    from trustir.params import Params


@stage("boom_bags", sections=(IndexParams, BoomParams))
def main(params: "Params", root: Path) -> None:
    ctx = load_context(params, root / "data/multitask/tasks")
    out = root / "data/boom/bags"
    row = run_boom(ctx, out)
    row.save(out)
    print(f"boom_bags: {row.scores} ({row.train_examples} examples)")


if __name__ == "__main__":
    main()
