"""Stage multitask_tasks (P5): the mini-world's task families (its ``tasks`` facet), in-domain and
out-of-domain -> data/multitask/tasks/<task>/{queries,corpus,qrels,negatives}.parquet. They come
from the world of ``data.seed``/``data.scale`` whatever ``data.source`` is."""

from pathlib import Path

from trustir.config import Params
from trustir.multitask.data import world_task_sets, write_task_sets
from trustir.stage import stage


@stage("multitask_tasks")
def main(params: Params, root: Path) -> None:
    bp = params.boom
    tasks = world_task_sets(params.data, [*bp.tasks, *bp.ood], bp.queries_per_task)
    index = write_task_sets(tasks, root / "data/multitask/tasks")
    for name, meta in index.items():
        print(f"multitask_tasks {name}: {meta['queries']} queries, {meta['documents']} documents")


if __name__ == "__main__":
    main()
