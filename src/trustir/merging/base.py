"""The merge-method registry and the contract every method follows (PAPERS.md P5).

A merge method is a pure function over tensors: ``MERGES.get(name)(tensors, base, weights=...,
key=..., **options) -> tensor`` merges the N versions of one parameter tensor (``tensors``, all
of one shape) given the start model's version ``base`` (None for methods that need none).

Every method is written as two parts, so a checkpoint can be merged in row chunks of a large
tensor (streaming, ``trustir.merging.stream``) with the same result as in memory:

* ``stats(source, weights, **options)``: the few global numbers the method needs over the whole
  tensor (a Gram matrix for SLERP, per-model magnitude thresholds for TIES; ``{}`` for the
  element-wise methods), read from a :class:`TensorSource`;
* ``combine(chunks, base_chunk, weights, stats, offset, key, **options)``: the element-wise map
  applied to any slice of rows; ``offset`` is the flat index of the slice's first element in
  the whole tensor (DARE's seeded drop mask is a function of it, so chunking cannot change it).

Tensors are merged in float32 (float64 for the spherical maths) and cast back to their dtype.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
from torch import Tensor

from trustir.registry import Registry

Stats = dict[str, Any]
StatsFn = Callable[..., Stats]
CombineFn = Callable[..., Tensor]


class TensorSource(Protocol):
    """The N versions of one tensor (and the base's), readable whole or in row chunks."""

    n: int
    has_base: bool

    def chunks(self) -> Iterator[tuple[list[Tensor], Tensor | None]]:
        """Row slices of the N tensors (float32) and of the base, covering the tensor in order."""
        ...

    def full(self, i: int) -> Tensor:
        """Model ``i``'s whole tensor (float32), a copy the caller may change in place."""
        ...

    def full_base(self) -> Tensor | None:
        """The base's whole tensor (float32), None when there is no base."""
        ...


@dataclass(frozen=True)
class InMemory:
    """A :class:`TensorSource` over tensors already in memory (one chunk: the whole tensor)."""

    tensors: Sequence[Tensor]
    base: Tensor | None = None

    @property
    def n(self) -> int:
        return len(self.tensors)

    @property
    def has_base(self) -> bool:
        return self.base is not None

    def chunks(self) -> Iterator[tuple[list[Tensor], Tensor | None]]:
        yield [t.float() for t in self.tensors], None if self.base is None else self.base.float()

    def full(self, i: int) -> Tensor:
        return self.tensors[i].float().clone()

    def full_base(self) -> Tensor | None:
        return None if self.base is None else self.base.float()


def no_stats(source: TensorSource, weights: Sequence[float], **options: Any) -> Stats:
    """The statistics of an element-wise method: none."""
    return {}


@dataclass(frozen=True)
class MergeMethod:
    """A registered merge: its statistics pass, its element-wise map and its option defaults."""

    name: str
    combine: CombineFn
    stats: StatsFn = no_stats
    needs_base: bool = False
    defaults: dict[str, Any] = field(default_factory=dict)
    #: the number of models it merges (None: any number >= 1).
    n_models: int | None = None

    def options(self, options: dict[str, Any]) -> dict[str, Any]:
        """``options`` over the defaults; an unknown option is an error naming the known ones."""
        unknown = sorted(set(options) - set(self.defaults))
        if unknown:
            known = ", ".join(sorted(self.defaults)) or "(none)"
            raise ValueError(f"merge {self.name!r} has no option(s) {unknown}; known: {known}")
        return {**self.defaults, **options}

    def check(self, n: int, has_base: bool) -> None:
        """Fail early on a number of models or a missing base the method cannot take."""
        if self.needs_base and not has_base:
            raise ValueError(f"merge {self.name!r} needs the base (start) model")
        if self.n_models is not None and n != self.n_models:
            raise ValueError(f"merge {self.name!r} merges {self.n_models} models, got {n}")
        if n < 1:
            raise ValueError("nothing to merge: no model given")

    def __call__(
        self,
        tensors: Sequence[Tensor],
        base: Tensor | None = None,
        weights: Sequence[float] | None = None,
        key: str = "",
        **options: Any,
    ) -> Tensor:
        """Merge in memory: ``tensors`` (N of one shape) -> one tensor of their dtype."""
        self.check(len(tensors), base is not None)
        shapes = {tuple(t.shape) for t in [*tensors, *([] if base is None else [base])]}
        if len(shapes) != 1:
            raise ValueError(f"tensor {key or '?'}: shapes differ across models: {sorted(shapes)}")
        w = resolve_weights(weights, len(tensors))
        opts = self.options(options)
        source = InMemory(tensors, base)
        stats = self.stats(source, w, **opts)
        chunks, base_chunk = next(source.chunks())
        out = self.combine(chunks, base_chunk, w, stats, 0, key, **opts)
        return out.to(tensors[0].dtype)


def resolve_weights(weights: Sequence[float] | None, n: int) -> list[float]:
    """``weights`` as floats (None: 1 each); their number must be the number of models."""
    if weights is None:
        return [1.0] * n
    w = [float(x) for x in weights]
    if len(w) != n:
        raise ValueError(f"{len(w)} merge weights for {n} models")
    return w


MERGES: Registry[MergeMethod] = Registry("merge method", autoload="trustir.merging")


def register_merge(
    name: str,
    stats: StatsFn = no_stats,
    needs_base: bool = False,
    n_models: int | None = None,
) -> Callable[[CombineFn], CombineFn]:
    """Decorator on a ``combine`` function: record the method in ``MERGES`` under ``name``; its
    keyword-only parameters with defaults are the method's options."""

    def deco(fn: CombineFn) -> CombineFn:
        sig = inspect.signature(fn)
        defaults = {
            p.name: p.default
            for p in sig.parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is not inspect.Parameter.empty
        }
        MERGES.register(name)(MergeMethod(name, fn, stats, needs_base, defaults, n_models))
        return fn

    return deco


def task_vectors(chunks: Sequence[Tensor], base: Tensor | None) -> list[Tensor]:
    """tau_i = theta_i - base for each model's chunk (each [*chunk])."""
    if base is None:
        raise ValueError("task vectors need the base model")
    return [t - base for t in chunks]


def weighted_sum(tensors: Sequence[Tensor], weights: Sequence[float]) -> Tensor:
    """sum_i w_i * t_i (all [*shape])."""
    out = torch.zeros_like(tensors[0])
    for t, w in zip(tensors, weights, strict=True):
        out.add_(t, alpha=w)
    return out


def sign_consensus(vectors: Sequence[Tensor], weights: Sequence[float]) -> Tensor:
    """TIES' elect + disjoint merge: the elected sign of each element is that of
    sum_i w_i v_i; the result is the weighted mean of the v_i that agree with it (0 if none):
    sum_{i in A} w_i v_i / sum_{i in A} w_i, A = {i : v_i != 0 and sign(v_i) = elected}."""
    elected = torch.sign(weighted_sum(vectors, weights))  # [*shape]
    num = torch.zeros_like(vectors[0])
    den = torch.zeros_like(vectors[0])
    for v, w in zip(vectors, weights, strict=True):
        agree = (torch.sign(v) == elected) & (v != 0)  # [*shape] bool
        num.add_(torch.where(agree, v, 0.0), alpha=w)
        den.add_(agree.to(v.dtype), alpha=w)
    return torch.where(den != 0, num / den.where(den != 0, torch.ones_like(den)), 0.0)
