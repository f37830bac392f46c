"""Params as ``dvc exp run -S`` leaves them, a dotted lookup, and how values are shown
(secret-looking keys as ``***``: params hold only the *name* of an API key's variable, but a
key that looks like a secret is hidden in logs and artifacts all the same)."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from trustir.versions.repo import PARAMS_FILE

#: keys whose values are never shown (``api_key_env`` holds a variable's name: shown).
_SECRET_KEY = re.compile(r"(secret|token|password|passwd|api_?key)(?!_env)", re.IGNORECASE)
#: the value of a key a params tree lacks (shown as "(absent)").
MISSING: Any = type("Missing", (), {"__repr__": lambda _self: "(absent)"})()


def overridden_params(root: Path, set_params: Sequence[str] = ()) -> dict[str, Any]:
    """``params.yaml`` as ``dvc exp run -S`` would leave it, without touching the workspace.

    DVC has no public API for this: ``dvc.api`` (3.x) reads params already written
    (``params_show``, ``exp_show``), and ``dvc exp run -S`` applies its values only to run or
    queue an experiment (``--dry`` shows none of them). So this applies DVC's own ``-S`` parser,
    ``dvc.utils.hydra.apply_overrides`` (what ``dvc exp run`` calls), to a scratch copy;
    ``tests/unit/test_versions.py`` pins its behaviour (value types, ``+key`` additions, unknown
    keys and grids refused), so a DVC upgrade that changes it fails a test instead of a decision.
    """
    source = root / PARAMS_FILE
    if not set_params:
        return yaml.safe_load(source.read_text()) or {}
    from dvc.utils.hydra import apply_overrides  # internal: see the docstring

    with tempfile.TemporaryDirectory(prefix="trustir-params-") as tmp:
        scratch = Path(tmp) / PARAMS_FILE
        shutil.copyfile(source, scratch)
        apply_overrides(scratch, [params_override(s) for s in set_params])
        return yaml.safe_load(scratch.read_text()) or {}


def params_override(arg: str) -> str:
    """``[params.yaml:]key=value`` -> ``key=value``; another params file is not supported."""
    head, sep, _value = arg.partition("=")
    if not sep:
        raise ValueError(f"set_params entry {arg!r} is not key=value")
    file, colon, _key = head.rpartition(":")
    if not colon:
        return arg
    if file != PARAMS_FILE:
        raise ValueError(f"set_params entry {arg!r}: only {PARAMS_FILE} keys are supported")
    return arg[len(file) + 1 :]


def param_at(tree: Mapping[str, Any], dotted: str) -> Any:
    """The value at ``a.b.c`` in nested params (:data:`MISSING` where absent)."""
    node: Any = tree
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return MISSING
        node = node[part]
    return node


def value_changes(key: str, before: Any, after: Any) -> list[str]:
    """One line per changed leaf under ``key``: ``"llm.model: smollm2 -> other"``."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        lines: list[str] = []
        for sub in [*before, *(k for k in after if k not in before)]:
            lines += value_changes(
                f"{key}.{sub}", before.get(sub, MISSING), after.get(sub, MISSING)
            )
        return lines
    if before == after:
        return []
    return [f"{key}: {shown(key, before)} -> {shown(key, after)}"]


def shown(key: str, value: Any, width: int = 60) -> str:
    """A short display of a param value; ``***`` for keys that look like secrets."""
    if value is MISSING:
        return "(absent)"
    if _SECRET_KEY.search(key.rsplit(".", 1)[-1]) and value is not None:
        return "***"
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= width else text[: width - 3] + "..."


def redacted_args(args: Sequence[str]) -> list[str]:
    """A command line with the values of secret-looking ``-S key=value`` arguments hidden."""
    out: list[str] = []
    for arg in args:
        key, sep, value = arg.partition("=")
        out.append(f"{key}={shown(key, value)}" if sep and not arg.startswith("-") else arg)
    return out
