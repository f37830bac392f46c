"""What a merge is asked to do: a method, whole-model or per-layer weights, its options (P5)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from trustir.merging.base import MERGES, MergeMethod, resolve_weights


@dataclass(frozen=True)
class MergeSpec:
    """A merge request.

    ``weights``: one per model for the whole model (None: 1 each; linear and the spherical
    merges normalise them, the task-vector merges scale each task vector by its weight).
    ``layer_weights``: per-layer weights, ``{glob over tensor names: weights}``; the first
    pattern (in order) that matches a tensor's name wins, e.g. ``"encoder.layer.0.*": [1, 0]``.
    ``options``: the method's options (``MERGES.get(method).defaults`` lists them).
    """

    method: str
    weights: Sequence[float] | None = None
    layer_weights: Mapping[str, Sequence[float]] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def merge(self) -> MergeMethod:
        return MERGES.get(self.method)

    def resolved_options(self) -> dict[str, Any]:
        return self.merge.options(dict(self.options))

    def weights_for(self, name: str, n: int) -> list[float]:
        """The weights of tensor ``name`` (first matching ``layer_weights`` pattern, else the
        whole-model ``weights``)."""
        for pattern, w in self.layer_weights.items():
            if fnmatchcase(name, pattern):
                try:
                    return resolve_weights(w, n)
                except ValueError as exc:
                    raise ValueError(f"layer_weights[{pattern!r}]: {exc}") from None
        return resolve_weights(self.weights, n)

    def check(self, n: int, has_base: bool) -> None:
        """Fail before any tensor is read: unknown method/options, model count, weights."""
        self.merge.check(n, has_base)
        self.resolved_options()
        resolve_weights(self.weights, n)
        for pattern, w in self.layer_weights.items():
            try:
                resolve_weights(w, n)
            except ValueError as exc:
                raise ValueError(f"layer_weights[{pattern!r}]: {exc}") from None

    def describe(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "weights": None if self.weights is None else list(self.weights),
            "layer_weights": {k: list(v) for k, v in self.layer_weights.items()},
            "options": self.resolved_options(),
        }
