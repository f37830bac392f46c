"""Supervision of P8's rankers: which labels, in which order, with which per-query weights.

A supervision turns the two label sources into training phases (``Phase``: rows, grades,
groups, per-row weights, a share of the training budget); a ranker trains on the phases in
order, each later one warm-starting from the model so far (:func:`train_ranker`).
- ``click`` / ``llm``: one source, every query weight 1.
- ``click_then_llm`` / ``llm_then_click``: data scheduling — the first source for a
  ``schedule_share`` of the budget (boosting rounds, epochs), then the other for the rest.
- ``famol`` (frequency-aware multi-objective learning): one phase whose loss is, per query,
  w(freq) * L_click + (1 - w(freq)) * L_llm: each query's click-labelled list weighted w and its
  LLM-labelled list weighted 1 - w (a query with one source contributes that term only; lists
  with weight 0 are dropped). LightGBM takes the weights as per-row sample weights (they scale
  the query's lambda gradients), the MLP multiplies each list's loss.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from trustir.registry import Registry


class NoTrainingData(ValueError):
    """A supervision needs a label source that has no usable query (>= 2 labelled documents
    with different grades)."""


@dataclass(frozen=True)
class LabelledSet:
    """One source's training lists: rows grouped by query (consecutive)."""

    name: str
    query_ids: list[str]  # one per group
    X: np.ndarray  # [n, d]
    y: np.ndarray  # [n] int grades
    groups: np.ndarray  # [Q] group sizes

    @property
    def empty(self) -> bool:
        return len(self.query_ids) == 0


@dataclass(frozen=True)
class Phase:
    """One training call: rows, grades, group sizes, per-row weights, share of the budget."""

    name: str
    X: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    weights: np.ndarray
    budget: float


def labelled_set(
    name: str, features: pl.DataFrame, labels: pl.DataFrame, columns: list[str]
) -> LabelledSet:
    """The lists of ``labels`` (query_id, doc_id, relevance) with their feature rows; a pair
    without features is dropped, and so is a query with < 2 documents or one grade only."""
    rows = (
        labels.select("query_id", "doc_id", pl.col("relevance").cast(pl.Int64))
        .unique(["query_id", "doc_id"], keep="first")
        .join(features, on=["query_id", "doc_id"], how="inner")
    )
    usable = (
        rows.group_by("query_id")
        .agg(pl.len().alias("n"), pl.col("relevance").n_unique().alias("grades"))
        .filter((pl.col("n") >= 2) & (pl.col("grades") >= 2))
        .select("query_id")
    )
    rows = rows.join(usable, on="query_id", how="semi").sort(["query_id", "doc_id"])
    sizes = rows.group_by("query_id", maintain_order=True).len()
    return LabelledSet(
        name=name,
        query_ids=sizes["query_id"].to_list(),
        X=rows.select(columns).to_numpy().astype(np.float64).reshape(rows.height, len(columns)),
        y=rows["relevance"].to_numpy().astype(np.int64),
        groups=sizes["len"].to_numpy().astype(np.int64),
    )


def _require(*sets: LabelledSet) -> None:
    for s in sets:
        if s.empty:
            raise NoTrainingData(f"no usable training query with {s.name} labels")


def _phase(s: LabelledSet, budget: float, query_weight: np.ndarray | None = None) -> Phase:
    w = np.ones(len(s.groups)) if query_weight is None else np.asarray(query_weight, float)
    return Phase(s.name, s.X, s.y, s.groups, np.repeat(w, s.groups), budget)


def weighted_union(parts: list[tuple[LabelledSet, np.ndarray]], name: str) -> Phase:
    """One phase of several sources' lists, each list weighted; weight-0 lists dropped."""
    xs, ys, gs, ws = [], [], [], []
    for s, w in parts:
        starts = np.concatenate([[0], np.cumsum(s.groups)[:-1]]).astype(np.int64)
        for start, size, weight in zip(starts, s.groups, w, strict=True):
            if weight <= 0:
                continue
            xs.append(s.X[start : start + size])
            ys.append(s.y[start : start + size])
            gs.append(size)
            ws.append(np.full(size, float(weight)))
    if not gs:
        raise NoTrainingData(f"{name}: every list has weight 0")
    return Phase(name, np.vstack(xs), np.concatenate(ys), np.asarray(gs), np.concatenate(ws), 1.0)


SupervisionFn = Callable[[LabelledSet, LabelledSet, Callable[[str], float], float], list[Phase]]
SUPERVISIONS: Registry[SupervisionFn] = Registry("supervision")


@SUPERVISIONS.register("click")
def click_only(click, llm, weight_of, share) -> list[Phase]:
    _require(click)
    return [_phase(click, 1.0)]


@SUPERVISIONS.register("llm")
def llm_only(click, llm, weight_of, share) -> list[Phase]:
    _require(llm)
    return [_phase(llm, 1.0)]


@SUPERVISIONS.register("click_then_llm")
def click_then_llm(click, llm, weight_of, share) -> list[Phase]:
    _require(click, llm)
    return [_phase(click, share), _phase(llm, 1.0 - share)]


@SUPERVISIONS.register("llm_then_click")
def llm_then_click(click, llm, weight_of, share) -> list[Phase]:
    _require(click, llm)
    return [_phase(llm, share), _phase(click, 1.0 - share)]


@SUPERVISIONS.register("famol")
def famol(click, llm, weight_of, share) -> list[Phase]:
    """Per query: w(freq) on its click list, 1 - w(freq) on its LLM list (``weight_of``)."""
    _require(click, llm)
    w_click = np.array([weight_of(q) for q in click.query_ids])
    w_llm = np.array([1.0 - weight_of(q) for q in llm.query_ids])
    return [weighted_union([(click, w_click), (llm, w_llm)], "famol")]


def build_phases(
    name: str,
    click: LabelledSet,
    llm: LabelledSet,
    weight_of: Callable[[str], float],
    share: float,
) -> list[Phase]:
    """The training phases of supervision ``name``."""
    return SUPERVISIONS.get(name)(click, llm, weight_of, share)


def train_ranker(factory: Callable[[], object], phases: list[Phase]):
    """A fresh ranker from ``factory`` trained on ``phases`` in order (warm starts after the
    first)."""
    ranker = factory()
    for i, ph in enumerate(phases):
        ranker.fit(ph.X, ph.y, ph.groups, ph.weights, budget=ph.budget, warm_start=i > 0)
    return ranker
