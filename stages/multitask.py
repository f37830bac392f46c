"""Stage multitask (P5): one model trained from the base on every in-domain task with one batch
schedule, scored on every task -> data/multitask/schedules/<schedule>/ (model/, metrics.json,
per_query.parquet).

Usage (one item of the dvc.yaml foreach): ``python stages/multitask.py SCHEDULE``.
"""

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from trustir.multitask.boom import load_context, run_schedule
from trustir.multitask.params import BoomParams
from trustir.retrieval.params import IndexParams
from trustir.stage import stage

if TYPE_CHECKING:
    from trustir.params import Params


@stage("multitask", sections=(IndexParams, BoomParams))
def main(params: "Params", root: Path) -> None:
    schedule = sys.argv[1]
    ctx = load_context(params, root / "data/multitask/tasks")
    out = root / "data/multitask/schedules" / schedule
    row = run_schedule(schedule, ctx, out)
    row.save(out)
    print(f"multitask {schedule}: {row.scores} ({row.train_examples} examples)")


if __name__ == "__main__":
    main()
