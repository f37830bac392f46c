"""P5 orchestration: schedules, experts and their merges, BOOM, and the incremental update,
each producing one or more rows of the BOOM table (PAPERS.md P5).

* ``<schedule>``: one model trained from the base on every in-domain set with that schedule;
* ``merge/<method>``: one expert per in-domain set (trained from the base), merged by method;
* ``boom``: M models trained from the base on bags (a ratio sample of every set), merged;
* ``existing`` / ``incremental`` / ``retrain``: a model trained on the core sets; updated by
  training on the new set + a sample of the core sets and merging into it; retraining on
  everything is the ``shuffle`` model (the same data and schedule).

Compute is counted as training examples seen and seconds of training (+ merging); the existing
model's cost is sunk for both the update and the retraining, so it is reported on its own row.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trustir.io.atomic import write_json
from trustir.io.runlog import read_run_record, write_run_record
from trustir.multitask.data import Task, corpus_texts, read_tasks, task_eval_set, train_queries
from trustir.multitask.evaluate import RowResult, score_tasks, timed
from trustir.multitask.params import BoomParams
from trustir.multitask.training import sample_sets, schedule_batches, train_on_batches

if TYPE_CHECKING:
    from trustir.params import Params
    from trustir.retrieval.multipos import EvalSet
    from trustir.retrieval.train import TrainQuery

MODEL = "model"
EXPERTS_INDEX = "experts.json"
UNTRAINED_ROW = "untrained"
EXISTING_ROW = "existing"


@dataclass
class Context:
    """Everything a P5 stage reads: params, the task sets, their texts; the evaluation subsets
    are built on first use (a training-only stage does not read the ``eval_*`` params)."""

    params: Params
    tasks: dict[str, Task]
    texts: dict[str, str]
    _evals: dict[str, EvalSet] | None = None

    @property
    def bp(self) -> BoomParams:
        return self.params.boom

    @property
    def evals(self) -> dict[str, EvalSet]:
        """Each task's evaluation subset (``boom.eval_*``)."""
        if self._evals is None:
            bp = self.bp
            self._evals = {
                n: task_eval_set(
                    t, bp.eval_max_queries, bp.eval_max_docs, bp.eval_seed, bp.eval_pool_depth
                )
                for n, t in self.tasks.items()
            }
        return self._evals

    def sets(self, names: list[str]) -> dict[str, list[TrainQuery]]:
        """The training queries of the tasks ``names`` (capped per task)."""
        cap, seed = self.bp.max_train_per_task, self.bp.train.seed
        return {n: train_queries(self.tasks[n], cap, seed) for n in names}


def load_context(params: Params, tasks_dir: Path) -> Context:
    """Read the in-domain and out-of-domain task sets."""
    bp = params.boom
    tasks = read_tasks(tasks_dir, [*bp.tasks, *bp.ood])
    return Context(params, tasks, corpus_texts(tasks))


def evaluate_model(
    row: str, model: str | Path, ctx: Context, examples: int, seconds: float, info: dict[str, Any]
) -> RowResult:
    """Score ``model`` on every task's evaluation subset (the dense settings of ``index``)."""
    dense, bp = ctx.params.index.dense, ctx.bp
    scores, per_query = score_tasks(
        str(model),
        ctx.evals,
        bp.measure,
        bp.train.pooling,
        dense.max_length,
        dense.batch_size,
        dense.device,
        ctx.params.index.depth,
    )
    return RowResult(row, scores, per_query, examples, seconds, info)


def _schedule_options(name: str, bp: BoomParams) -> dict[str, Any]:
    return {"first": bp.two_stage_first} if name == "two_stage" else {}


def run_schedule(name: str, ctx: Context, out_dir: Path) -> RowResult:
    """Row ``<name>``: train from the base on every in-domain set with schedule ``name``."""
    bp = ctx.bp
    batches = schedule_batches(name, ctx.sets(bp.tasks), bp.train, **_schedule_options(name, bp))
    res = train_on_batches(batches, ctx.texts, bp.train, out_dir / MODEL, meta={"row": name})
    info = {"steps": res.steps, "train_seconds": round(res.seconds, 2)}
    return evaluate_model(name, res.model_dir, ctx, res.examples, res.seconds, info)


def train_experts(ctx: Context, out_dir: Path) -> dict[str, Any]:
    """One expert per in-domain set, each trained from the base on its set alone
    (``<out_dir>/<task>/model``); ``experts.json`` records their examples and steps (their
    wall seconds go to the run ledger)."""
    bp, index, timing = ctx.bp, {}, {}
    for task, queries in ctx.sets(bp.tasks).items():
        batches = schedule_batches("shuffle", {task: queries}, bp.train)
        res = train_on_batches(
            batches, ctx.texts, bp.train, out_dir / task / MODEL, meta={"expert": task}
        )
        index[task] = {"examples": res.examples, "steps": res.steps}
        timing[task] = round(res.seconds, 3)
    write_json(index, out_dir / EXPERTS_INDEX)
    write_run_record(out_dir, {"seconds": timing})  # wall seconds: the git-ignored run ledger
    return index


def base_checkpoint(model: str, cache_dir: Path) -> Path:
    """A folder with the base model's ``model.safetensors``: the model's own folder when it
    has one, else the model loaded by transformers and saved under ``cache_dir``."""
    from trustir.retrieval.encoders import CONFIG_MODELS, resolve_model

    path = Path(resolve_model(model))
    if model not in CONFIG_MODELS and (path / "model.safetensors").is_file():
        return path
    target = cache_dir / "base"
    if not (target / "model.safetensors").is_file():
        from trustir.retrieval.encoders import Encoder

        Encoder(model).model.save_pretrained(target)
    return target


def merge_models(
    models: list[Path], out_dir: Path, method: str, ctx: Context, **spec: Any
) -> tuple[Path, float]:
    """Stream-merge ``models`` into ``out_dir`` with ``method`` (base: the start model)."""
    from trustir.merging.spec import MergeSpec
    from trustir.merging.stream import merge_checkpoints

    base = base_checkpoint(ctx.bp.train.model, out_dir.parent)
    merge_spec = MergeSpec(method, **spec)
    return timed(merge_checkpoints, models, out_dir, merge_spec, base, ctx.bp.merge.chunk_mb, False)


def merge_experts(method: str, ctx: Context, experts_dir: Path, out_dir: Path) -> RowResult:
    """Row ``merge/<method>``: the experts merged by ``method`` (weights from params)."""
    mp = ctx.bp.merge
    index = json.loads((experts_dir / EXPERTS_INDEX).read_text())
    missing = [t for t in ctx.bp.tasks if t not in index]
    if missing:
        raise FileNotFoundError(f"{experts_dir}: no expert for {missing}: run boom_experts")
    models = [experts_dir / t / MODEL for t in ctx.bp.tasks]
    merged, secs = merge_models(
        models,
        out_dir / MODEL,
        method,
        ctx,
        weights=mp.weights,
        layer_weights=mp.layer_weights,
        options=mp.options.get(method, {}),
    )
    examples = sum(int(index[t]["examples"]) for t in ctx.bp.tasks)
    expert_secs = read_run_record(experts_dir).get("seconds", {})  # {} on a fresh clone: NaN
    seconds = sum(float(expert_secs.get(t, math.nan)) for t in ctx.bp.tasks) + secs
    info = {"merge_seconds": round(secs, 3), "experts": ctx.bp.tasks}
    return evaluate_model(f"merge/{method}", merged, ctx, examples, seconds, info)


def run_boom(ctx: Context, out_dir: Path) -> RowResult:
    """Row ``boom``: M models from the base on bags of every in-domain set, merged."""
    bp, bag = ctx.bp, ctx.bp.bagging
    sets = ctx.sets(bp.tasks)
    models, examples, seconds = [], 0, 0.0
    for i in range(bag.models):
        tp = bp.train.model_copy(update={"seed": bp.train.seed + i})
        bagged = sample_sets(sets, bag.ratio, bag.seed, salt=i)
        batches = schedule_batches("shuffle", bagged, tp)
        res = train_on_batches(batches, ctx.texts, tp, out_dir / f"bag-{i}" / MODEL)
        models.append(Path(res.model_dir))
        examples, seconds = examples + res.examples, seconds + res.seconds
    merged, secs = merge_models(models, out_dir / MODEL, bag.method, ctx, options=bag.options)
    info = {"models": bag.models, "ratio": bag.ratio, "merge_seconds": round(secs, 3)}
    return evaluate_model("boom", merged, ctx, examples, seconds + secs, info)


def run_incremental(ctx: Context, out_dir: Path) -> tuple[RowResult, RowResult]:
    """Rows ``existing`` (trained on the core sets) and ``incremental`` (trained on the new set
    + a sample of the core sets, from ``incremental.init``, then merged into the existing)."""
    bp, inc = ctx.bp, ctx.bp.incremental
    core = ctx.sets(bp.core_tasks)
    batches = schedule_batches("shuffle", core, bp.train)
    old = train_on_batches(batches, ctx.texts, bp.train, out_dir / EXISTING_ROW / MODEL)
    existing = evaluate_model(
        EXISTING_ROW, old.model_dir, ctx, old.examples, old.seconds, {"tasks": bp.core_tasks}
    )
    update = {
        **ctx.sets([inc.new_task]),
        **sample_sets(core, inc.old_sample, bp.train.seed, salt=1),
    }
    init = str(old.model_dir) if inc.init == "existing" else None
    batches = schedule_batches("shuffle", update, bp.train)
    new = train_on_batches(batches, ctx.texts, bp.train, out_dir / "updated" / MODEL, init)
    merged, secs = merge_models(
        [Path(old.model_dir), Path(new.model_dir)],
        out_dir / MODEL,
        inc.method,
        ctx,
        weights=inc.weights,
        options=inc.options,
    )
    info = {
        "new_task": inc.new_task,
        "old_sample": inc.old_sample,
        "init": inc.init,
        "merge_seconds": round(secs, 3),
        "update_examples": {t: len(q) for t, q in update.items()},
    }
    incremental = evaluate_model("incremental", merged, ctx, new.examples, new.seconds + secs, info)
    return existing, incremental


def untrained_row(ctx: Context) -> RowResult:
    """Row ``untrained``: the base model before any training."""
    return evaluate_model(UNTRAINED_ROW, ctx.bp.train.model, ctx, 0, 0.0, {})
