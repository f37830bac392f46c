"""Typed params of multi-task training, merging and BOOM (PAPERS.md P5); light to import."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from trustir.retrieval.train_params import TrainParams
from trustir.section import Section

#: the task families of the mini-world's ``tasks`` facet (trustir.sources.world.tasks.FAMILIES).
TASK_FAMILIES = ("qa", "dupq", "claim", "title", "etype")


def _check_method(names: str | list[str], where: str) -> None:
    """Merge method names must be registered (``MERGES`` imports torch: every stage that reads
    ``boom`` trains or merges models, but ``multitask_tasks``, which reads only its task lists)."""
    from trustir.merging.base import MERGES

    MERGES.check(names, where)


class MergeParams(Section):
    """The ``merge/<method>`` rows: one expert per in-domain task, merged by each method."""

    #: the merge methods compared (one row each).
    methods: list[str] = ["linear", "task_arithmetic", "ties", "dare", "slerp", "multislerp"]
    #: whole-model weights, one per expert in ``boom.tasks`` order; null = 1 each (linear and
    #: the spherical merges normalise them; task arithmetic, TIES and DARE scale task vectors).
    weights: list[float] | None = None
    #: per-layer weights: {glob over tensor names: weights}; the first match wins.
    layer_weights: dict[str, list[float]] = {}
    #: per-method options (trustir.merging: ``MERGES.get(m).defaults``).
    options: dict[str, dict[str, Any]] = {
        "task_arithmetic": {"scale": 0.5},
        "ties": {"density": 0.5, "scale": 1.0},
        "dare": {"density": 0.5, "combine": "ties", "scale": 1.0, "seed": 13},
        "slerp": {"relative": True},
        "multislerp": {"relative": True},
    }
    #: the streaming merge reads large tensors in row chunks of about this many MiB.
    chunk_mb: float = Field(2.0, gt=0)

    @model_validator(mode="after")
    def _known(self) -> MergeParams:
        if not self.methods:
            raise ValueError("merge.methods must name at least one method")
        _check_method([*self.methods, *self.options], "merge")
        return self


class BaggingParams(Section):
    """BOOM: ``models`` models from the same start, each on a bag (a ``ratio`` sample of every
    in-domain set, without replacement, seeded per bag), merged by ``method``."""

    models: int = Field(2, ge=2)
    ratio: float = Field(0.5, gt=0, le=1)
    method: str = "multislerp"
    options: dict[str, Any] = {"relative": True}
    seed: int = 13

    @model_validator(mode="after")
    def _known(self) -> BaggingParams:
        _check_method(self.method, "bagging.method")
        return self


class IncrementalParams(Section):
    """Incremental update: an existing model trained on the core sets (``boom.tasks`` less
    ``new_task``) is updated by training on ``new_task`` plus an ``old_sample`` share of each core
    set, then merged into the existing model; compared with retraining on everything."""

    new_task: str = "title"
    old_sample: float = Field(0.4, ge=0, le=1)
    #: where the update's training starts: the existing model, or the base model.
    init: Literal["existing", "base"] = "existing"
    method: str = "slerp"
    #: merge weights: (existing model, updated model).
    weights: list[float] = [0.5, 0.5]
    options: dict[str, Any] = {}

    @model_validator(mode="after")
    def _known(self) -> IncrementalParams:
        _check_method(self.method, "incremental.method")
        if len(self.weights) != 2:
            raise ValueError("incremental.weights: two weights (existing, updated)")
        return self


class BoomParams(Section):
    """Multi-task embedding training and model merging (P5) on the world's task families."""

    section_name: ClassVar[str] = "boom"

    #: in-domain task families (trained on and evaluated), in schedule order.
    tasks: list[str] = ["qa", "dupq", "title", "etype"]
    #: held-out families: evaluated only (out-of-domain).
    ood: list[str] = ["claim"]
    #: queries per task family; null = the world's number of queries.
    queries_per_task: int | None = Field(None, gt=0)
    #: at most this many training queries per task (a seeded, stable choice); null = all.
    max_train_per_task: int | None = Field(12, gt=0)
    #: the ``multitask`` matrix: batch schedules (shuffle | sequential | two_stage).
    schedules: list[str] = ["shuffle", "sequential", "two_stage"]
    #: two_stage: the tasks of the first stage (the rest follow).
    two_stage_first: list[str] = ["qa", "title"]
    #: the measure of every column (an ir_measures name).
    measure: str = "nDCG@10"
    #: evaluation subsets per task: at most this many test queries (seeded, stable)...
    eval_max_queries: int | None = Field(6, gt=0)
    #: ...against their relevant documents, their first ``eval_pool_depth`` hard negatives and
    #: a seeded sample of the task corpus, up to this many documents; null = the whole corpus.
    eval_max_docs: int | None = Field(24, gt=0)
    eval_pool_depth: int = Field(2, ge=0)
    eval_seed: int = 13
    #: training settings of every model (trustir.retrieval.train_params.TrainParams).
    train: TrainParams = TrainParams(
        batch_size=8,
        max_length=64,
        lr=5e-5,
        hard_negatives=0,
        max_positives=1,
        epochs=1,
        length_buckets=1,
    )
    merge: MergeParams = MergeParams()
    bagging: BaggingParams = BaggingParams()
    incremental: IncrementalParams = IncrementalParams()

    @model_validator(mode="after")
    def _consistent(self) -> BoomParams:
        for name in [*self.tasks, *self.ood]:
            if name not in TASK_FAMILIES:
                raise ValueError(f"unknown task {name!r}; known: {', '.join(TASK_FAMILIES)}")
        if len(self.tasks) < 2:
            raise ValueError("boom.tasks: at least two in-domain tasks")
        if set(self.tasks) & set(self.ood):
            raise ValueError(
                f"boom.ood overlaps boom.tasks: {sorted(set(self.tasks) & set(self.ood))}"
            )
        from trustir.multitask.schedules import SCHEDULES

        SCHEDULES.check(self.schedules, "boom.schedules")
        if "shuffle" not in self.schedules:
            raise ValueError("boom.schedules must include shuffle (BOOM and retrain compare to it)")
        first = set(self.two_stage_first)
        if not first or not first < set(self.tasks):
            raise ValueError("boom.two_stage_first: some, not all, of boom.tasks")
        if self.incremental.new_task not in self.tasks:
            raise ValueError("boom.incremental.new_task must be one of boom.tasks")
        if self.train.grad_accum != 1:
            raise ValueError("boom.train.grad_accum must be 1: one optimizer step per batch")
        if self.merge.weights is not None and len(self.merge.weights) != len(self.tasks):
            raise ValueError("boom.merge.weights: one weight per task in boom.tasks")
        return self

    @property
    def core_tasks(self) -> list[str]:
        """The tasks the existing model of the incremental update was trained on."""
        return [t for t in self.tasks if t != self.incremental.new_task]
