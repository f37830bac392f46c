"""Stage boom_incremental (P5): an existing model (core tasks) updated with a new task plus a
sample of the core tasks and merged into it -> data/boom/incremental/ (existing/, updated/,
model/, metrics.json, per-query)."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.multitask.boom import EXISTING_ROW, load_context, run_incremental
from trustir.multitask.params import BoomParams
from trustir.retrieval.params import IndexParams
from trustir.stage import stage

if TYPE_CHECKING:
    from trustir.params import Params


@stage("boom_incremental", sections=(IndexParams, BoomParams))
def main(params: "Params", root: Path) -> None:
    ctx = load_context(params, root / "data/multitask/tasks")
    out = root / "data/boom/incremental"
    existing, incremental = run_incremental(ctx, out)
    existing.save(out / EXISTING_ROW)
    incremental.save(out)
    print(f"boom_incremental: existing {existing.scores}, incremental {incremental.scores}")


if __name__ == "__main__":
    main()
