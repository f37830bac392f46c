"""Merging whole state dicts in memory (the reference the streaming merge is tested against)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor

from trustir.merging.spec import MergeSpec


def check_same_keys(names: Sequence[str], key_sets: Sequence[set[str]]) -> list[str]:
    """The tensor names of the first model, after checking every model has exactly those."""
    first = key_sets[0]
    for name, keys in zip(names[1:], key_sets[1:], strict=True):
        missing, extra = sorted(first - keys), sorted(keys - first)
        if missing or extra:
            raise ValueError(
                f"{name}: tensors differ from {names[0]}: missing {missing[:5]}, extra {extra[:5]}"
            )
    return sorted(first)


def merge_state_dicts(
    models: Sequence[Mapping[str, Tensor]],
    spec: MergeSpec,
    base: Mapping[str, Tensor] | None = None,
) -> dict[str, Tensor]:
    """Merge N state dicts tensor by tensor with ``spec``; non-float tensors (buffers such as
    position ids) must be equal across models and are copied."""
    n = len(models)
    spec.check(n, base is not None)
    names = [f"model {i}" for i in range(n)]
    keys = check_same_keys(names, [set(m) for m in models])
    merge, options = spec.merge, spec.resolved_options()
    uses_base = uses_base_model(spec)
    if uses_base and base is None:
        raise ValueError(f"merge {spec.method!r} with these options needs the base model")
    out: dict[str, Tensor] = {}
    for key in keys:
        tensors = [m[key] for m in models]
        if not tensors[0].is_floating_point():
            if any(not torch.equal(t, tensors[0]) for t in tensors[1:]):
                raise ValueError(f"non-float tensor {key} differs across models")
            out[key] = tensors[0].clone()
            continue
        if uses_base and key not in base:  # type: ignore[operator]
            raise ValueError(f"the base model lacks tensor {key}")
        b = base[key] if uses_base else None  # type: ignore[index]
        out[key] = merge(tensors, b, spec.weights_for(key, n), key=key, **options)
    return out


def uses_base_model(spec: MergeSpec) -> bool:
    """Whether the method reads the base (needs it, or a relative spherical merge)."""
    return spec.merge.needs_base or bool(spec.resolved_options().get("relative"))
