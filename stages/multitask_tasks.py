"""Stage multitask_tasks (P5): the mini-world's task families (its ``tasks`` facet), in-domain and
out-of-domain -> data/multitask/tasks/<task>/{queries,corpus,qrels,negatives}.parquet. They come
from the world of ``data.seed``/``data.scale`` whatever ``data.source`` is."""

from pathlib import Path
from typing import TYPE_CHECKING

from trustir.multitask.data import world_task_sets, write_task_sets
from trustir.multitask.params import BoomParams
from trustir.sources.params import DataParams
from trustir.stage import stage

if TYPE_CHECKING:
    from trustir.params import Params


@stage("multitask_tasks", sections=(DataParams, BoomParams))
def main(params: "Params", root: Path) -> None:
    bp = params.boom
    tasks = world_task_sets(params.data, [*bp.tasks, *bp.ood], bp.queries_per_task)
    index = write_task_sets(tasks, root / "data/multitask/tasks")
    for name, meta in index.items():
        print(f"multitask_tasks {name}: {meta['queries']} queries, {meta['documents']} documents")


if __name__ == "__main__":
    main()
