"""Confidence methods of P4 (issue 14): one registered module each.

Each method maps an :class:`Item` to (answer, confidence in [0, 1]); higher means more
confident. A method flagged ``minmax`` (SCA) is min-max normalised over the dataset afterwards.
Cross-check: lm-polygraph 0.7.0 cannot be installed here (it pulls ~40 packages: spacy,
datasets, fschat, bitsandbytes, hydra, flask...; its package ``__init__`` imports its model
wrappers), so each method follows lm-polygraph's estimator formula where one exists (named in
its docstring; lm-polygraph returns uncertainty, trustir confidence) and the contract test
checks hand-worked values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from trustir.calibration.items import Item
from trustir.registry import Registry


@dataclass(frozen=True)
class Method:
    """A confidence method: ``judge(item, params)`` -> (answer, confidence)."""

    name: str
    judge: Callable[[Item, object], tuple[str, float]]
    minmax: bool = False


#: confidence methods by name: every module of this package registers one (autoloaded).
METHODS: Registry[Method] = Registry("confidence method", autoload="trustir.calibration.methods")


def register(name: str, minmax: bool = False) -> Callable:
    """Decorator: register ``judge`` as method ``name``."""

    def deco(fn: Callable[[Item, object], tuple[str, float]]) -> Callable:
        METHODS.register(name)(Method(name, fn, minmax))
        return fn

    return deco
