"""Stage boom_bags (P5): BOOM - models trained from the same start on bagged samples of every
in-domain task, merged -> data/boom/bags/ (bag-<i>/model/, model/, metrics.json, per-query)."""

from pathlib import Path

from trustir.config import Params
from trustir.multitask.boom import load_context, run_boom
from trustir.stage import stage


@stage("boom_bags")
def main(params: Params, root: Path) -> None:
    ctx = load_context(params, root / "data/multitask/tasks")
    out = root / "data/boom/bags"
    row = run_boom(ctx, out)
    row.save(out)
    print(f"boom_bags: {row.scores} ({row.train_examples} examples)")


if __name__ == "__main__":
    main()
