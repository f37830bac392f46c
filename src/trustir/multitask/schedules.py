"""Batch schedules over several training sets: every batch from one set (PAPERS.md P5).

Batches drawn from a single set keep in-batch negatives meaningful (a classification label is not
a negative for a question). Each set is cut into batches of its own items (seeded order per set
and epoch; the last batch of a set may be smaller), then the schedule orders the batches:

* ``shuffle`` - batch-level shuffling: the batches of all sets, shuffled together, per epoch;
* ``sequential`` - set after set (in the given order), each for all its epochs;
* ``two_stage`` - the sets of ``first`` shuffled together for all epochs, then the others.

A schedule is ``fn(sets, batch_size, epochs, seed, **options) -> list[Batch]``; it sees items of
any type (torch-free).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np

from trustir.registry import Registry

T = TypeVar("T")


@dataclass(frozen=True)
class Batch(Generic[T]):
    """One batch: items of a single set."""

    task: str
    items: tuple[T, ...]


Schedule = Callable[..., list[Batch[Any]]]
SCHEDULES: Registry[Schedule] = Registry("schedule")


def _rng(seed: int, task_index: int, epoch: int) -> np.random.Generator:
    return np.random.default_rng([seed, task_index, epoch])


def set_batches(
    sets: Mapping[str, Sequence[T]], task: str, batch_size: int, epoch: int, seed: int
) -> list[Batch[T]]:
    """The batches of one set for one epoch: its items in a seeded order, cut every
    ``batch_size`` (the seed depends on the set's position in ``sets`` and the epoch)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    items = sets[task]
    order = _rng(seed, list(sets).index(task), epoch).permutation(len(items)).tolist()
    return [
        Batch(task, tuple(items[i] for i in order[s : s + batch_size]))
        for s in range(0, len(order), batch_size)
    ]


def _shuffled(batches: list[Batch[T]], seed: int, epoch: int) -> list[Batch[T]]:
    order = np.random.default_rng([seed, 1_000_003, epoch]).permutation(len(batches)).tolist()
    return [batches[i] for i in order]


def _check(sets: Mapping[str, Sequence[Any]], epochs: int) -> None:
    if not sets:
        raise ValueError("no training set to schedule")
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")


@SCHEDULES.register("shuffle")
def shuffle(
    sets: Mapping[str, Sequence[T]], batch_size: int, epochs: int = 1, seed: int = 0
) -> list[Batch[T]]:
    """Batch-level shuffling: per epoch, the batches of every set in one seeded order."""
    _check(sets, epochs)
    out: list[Batch[T]] = []
    for epoch in range(epochs):
        batches = [b for t in sets for b in set_batches(sets, t, batch_size, epoch, seed)]
        out += _shuffled(batches, seed, epoch)
    return out


@SCHEDULES.register("sequential")
def sequential(
    sets: Mapping[str, Sequence[T]], batch_size: int, epochs: int = 1, seed: int = 0
) -> list[Batch[T]]:
    """Set after set, in the order of ``sets``; each set for all its epochs before the next."""
    _check(sets, epochs)
    return [
        b
        for task in sets
        for epoch in range(epochs)
        for b in set_batches(sets, task, batch_size, epoch, seed)
    ]


@SCHEDULES.register("two_stage")
def two_stage(
    sets: Mapping[str, Sequence[T]],
    batch_size: int,
    epochs: int = 1,
    seed: int = 0,
    first: Sequence[str] = (),
) -> list[Batch[T]]:
    """The sets named in ``first`` (batch-level shuffled, all epochs), then the other sets."""
    _check(sets, epochs)
    unknown = [t for t in first if t not in sets]
    if unknown or not first or len(set(first)) == len(sets):
        raise ValueError(f"two_stage: first must name some, not all, of {list(sets)}: {first}")
    out: list[Batch[T]] = []
    stages = ([t for t in sets if t in first], [t for t in sets if t not in first])
    for k, stage in enumerate(stages):
        for epoch in range(epochs):
            batches = [b for t in stage for b in set_batches(sets, t, batch_size, epoch, seed)]
            out += _shuffled(batches, seed, epochs * k + epoch)  # a fresh order per stage
    return out
