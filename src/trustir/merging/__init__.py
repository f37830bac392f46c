"""Model merging (PAPERS.md P5): merge methods as pure functions over tensors, one registered
module each (linear, task_arithmetic, ties, dare, slerp, multislerp), whole-model or per-layer
weights, in memory (``merge_state_dicts``) or streamed between safetensors checkpoints
(``merge_checkpoints``). Adding a method: one module with ``@register_merge`` and one import."""

from trustir.merging import (  # noqa: F401
    dare,
    linear,
    multislerp,
    slerp,
    task_arithmetic,
    ties,
)
from trustir.merging.base import MERGES, MergeMethod, register_merge
from trustir.merging.spec import MergeSpec
from trustir.merging.state import merge_state_dicts
from trustir.merging.stream import checkpoint_file, merge_checkpoints

__all__ = [
    "MERGES",
    "MergeMethod",
    "MergeSpec",
    "checkpoint_file",
    "merge_checkpoints",
    "merge_state_dicts",
    "register_merge",
]
