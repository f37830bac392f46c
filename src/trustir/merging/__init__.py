"""Model merging (PAPERS.md P5): merge methods as pure functions over tensors, one registered
module each (linear, task_arithmetic, ties, dare, slerp, multislerp), whole-model or per-layer
weights, in memory (``state.merge_state_dicts``) or streamed between safetensors checkpoints
(``stream.merge_checkpoints``). Adding a method: one module here with ``@register_merge``;
``MERGES`` (``base``) loads every module of this package on first use."""
