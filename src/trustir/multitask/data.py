"""Task sets on disk and what training and evaluation take from them (PAPERS.md P5).

A task folder ``<dir>/<task>/`` holds ``queries``, ``corpus``, ``qrels`` and ``negatives``
parquet files; ``<dir>/tasks.json`` lists every task with its kind and training-positive grade.
Training queries are the train split's queries with a positive (grade >= the task's positive
grade), capped by a seeded stable choice; evaluation uses a seeded subset of the test split.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from trustir.retrieval.bm25 import document_texts
from trustir.sources.subset import stable_order

if TYPE_CHECKING:
    from trustir.retrieval.multipos import EvalSet
    from trustir.retrieval.train import TrainQuery
    from trustir.sources.params import DataParams
    from trustir.sources.world.tasks import TaskSet

TABLES = ("queries", "corpus", "qrels", "negatives")
INDEX = "tasks.json"


@dataclass(frozen=True)
class Task:
    """A task read back from disk."""

    name: str
    kind: str
    description: str
    positive_grade: int
    tables: dict[str, pl.DataFrame]

    @property
    def queries(self) -> pl.DataFrame:
        return self.tables["queries"]

    @property
    def corpus(self) -> pl.DataFrame:
        return self.tables["corpus"]

    @property
    def qrels(self) -> pl.DataFrame:
        return self.tables["qrels"]

    @property
    def negatives(self) -> pl.DataFrame:
        return self.tables["negatives"]


def world_task_sets(
    data: DataParams, families: list[str], n: int | None = None
) -> dict[str, TaskSet]:
    """The task sets ``families`` of the mini-world that ``data`` describes (the world is
    rebuilt from ``data.scale``/``seed``: the ``tasks`` facet needs its ground truth, not only
    the fetched tables); ``n`` queries per family (None: the world's number of queries).

    Whatever ``data.source`` is, the task families come from the mini-world: with a real
    collection as ``data.source`` the rest of the DAG runs on it and P5 keeps its world tasks.
    """
    from trustir.sources.world import Sizes, build_world
    from trustir.sources.world.tasks import generate_tasks

    sizes = Sizes.at(data.scale)
    world = build_world(sizes, data.seed, data.test_fraction)
    return generate_tasks(world, data.seed, n or sizes.queries, data.test_fraction, families)


def write_task_sets(tasks: Mapping[str, TaskSet], out_dir: str | Path) -> dict[str, Any]:
    """Write every task's tables and the index into a fresh folder replacing ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        index: dict[str, Any] = {}
        for name, t in tasks.items():
            (tmp / name).mkdir()
            for table, df in t.tables().items():
                df.write_parquet(tmp / name / f"{table}.parquet", compression="zstd")
            split = t.queries.group_by("split").len().sort("split").rows()
            index[name] = {
                "kind": t.kind,
                "description": t.description,
                "positive_grade": t.positive_grade,
                "queries": dict(split),
                "documents": t.corpus.height,
                "qrels": t.qrels.height,
            }
        (tmp / INDEX).write_text(json.dumps(index, indent=2) + "\n")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return index


def read_tasks(folder: str | Path, names: list[str]) -> dict[str, Task]:
    """The tasks ``names`` from a folder written by :func:`write_task_sets`."""
    folder = Path(folder)
    if not (folder / INDEX).exists():
        raise FileNotFoundError(f"{folder / INDEX} is missing: run the multitask_tasks stage")
    index = json.loads((folder / INDEX).read_text())
    out = {}
    for name in names:
        if name not in index:
            raise ValueError(f"task {name!r} is not in {folder / INDEX} (has {sorted(index)})")
        meta = index[name]
        tables = {t: pl.read_parquet(folder / name / f"{t}.parquet") for t in TABLES}
        out[name] = Task(name, meta["kind"], meta["description"], meta["positive_grade"], tables)
    return out


def corpus_texts(tasks: Mapping[str, Task]) -> dict[str, str]:
    """doc_id -> text (title + " " + text) over every task (ids are task-prefixed)."""
    out: dict[str, str] = {}
    for t in tasks.values():
        out.update(zip(t.corpus["doc_id"].to_list(), document_texts(t.corpus), strict=True))
    return out


def train_queries(task: Task, cap: int | None, seed: int) -> list[TrainQuery]:
    """The task's training queries (train split, with a positive), at most ``cap`` of them in
    a seeded stable order; positives best grade first, the facet's hard negatives in order."""
    from trustir.retrieval.train import TrainQuery

    train = task.queries.filter(pl.col("split") == "train")
    pos = (
        task.qrels.filter(pl.col("relevance") >= task.positive_grade)
        .join(train.select("query_id"), on="query_id", how="semi")
        .sort(["query_id", "relevance", "doc_id"], descending=[False, True, False])
        .group_by("query_id", maintain_order=True)
        .agg(pl.col("doc_id"), pl.col("relevance"))
    )
    negs = dict(
        task.negatives.sort(["query_id", "rank"])
        .group_by("query_id", maintain_order=True)
        .agg("doc_id")
        .iter_rows()
    )
    texts = dict(train.select("query_id", "text").iter_rows())
    positives = {q: list(zip(d, r, strict=True)) for q, d, r in pos.iter_rows()}
    ids = sorted(positives)
    if not ids:
        raise ValueError(f"task {task.name}: no training query has a positive")
    if cap is not None:
        ids = sorted(stable_order(ids, seed)[:cap])
    return [TrainQuery(q, texts[q], positives[q], negs.get(q, [])) for q in ids]


def task_eval_set(
    task: Task, max_queries: int | None, max_docs: int | None, seed: int, pool_depth: int
) -> EvalSet:
    """The task's evaluation subset: test queries, their relevant documents (grade >= the
    positive grade), their first ``pool_depth`` hard negatives, a seeded corpus sample."""
    from trustir.retrieval.multipos import eval_set

    pool = task.negatives.select("query_id", "doc_id", "rank")
    return eval_set(
        task.corpus,
        task.queries,
        task.qrels,
        max_queries,
        max_docs,
        seed,
        task.positive_grade,
        pool,
        pool_depth,
    )
