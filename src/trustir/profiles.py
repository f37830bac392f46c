"""Named params profiles: ``profiles/<name>.yaml`` override sets deep-merged over ``params.yaml``.

A profile only overrides keys that ``params.yaml`` already has (a typo is an error, not a new
knob). Two ways to use one: :func:`apply_profile` rewrites ``params.yaml`` with the merge (keeping
its comments), :func:`as_set_args` gives the ``dvc exp run -S key=value`` arguments of the same
change (DVC parses ``-S`` values with Hydra's override grammar, so strings, lists and nulls are
written in that grammar).
"""

from __future__ import annotations

import copy
import io
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from trustir.config import flatten
from trustir.io.atomic import write_text
from trustir.paths import repo_root

PROFILES_DIR = "profiles"
#: Hydra reads these unquoted words as booleans, nulls or floats, not as strings.
_HYDRA_WORDS = {"true", "false", "null", "inf", "+inf", "-inf", "nan"}
_SAFE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./@+")


class ProfileError(ValueError):
    """An unknown profile, or a profile that does not fit ``params.yaml``."""


def available_profiles(root: str | Path | None = None) -> list[str]:
    """Names of the profiles in ``<root>/profiles`` (default root: the repo root)."""
    folder = Path(root or repo_root()) / PROFILES_DIR
    return sorted(p.stem for p in folder.glob("*.yaml"))


def load_profile(name: str, root: str | Path | None = None) -> dict[str, Any]:
    """Read ``<root>/profiles/<name>.yaml`` as a (possibly nested) mapping of overrides."""
    names = available_profiles(root)
    if name not in names:
        listed = ", ".join(names) or "none"
        raise ProfileError(f"unknown profile {name!r}; available profiles: {listed}")
    path = Path(root or repo_root()) / PROFILES_DIR / f"{name}.yaml"
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: a profile must be a mapping, got {type(data).__name__}")
    return data


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """A new dict: ``override`` over ``base``, merging nested mappings; other values (lists
    included) are replaced whole. Neither argument is modified."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def check_profile(params: Mapping[str, Any], profile: Mapping[str, Any], name: str = "") -> None:
    """Raise :class:`ProfileError` naming the first profile key that ``params`` lacks, or that
    puts a value where params has a section (or the reverse)."""
    label = f"profile {name!r}" if name else "profile"
    for key, base, value in _walk(params, profile):
        if base is _MISSING:
            raise ProfileError(f"{label}: key {key!r} is not in params.yaml")
        if isinstance(base, Mapping) != isinstance(value, Mapping):
            kind = "a section" if isinstance(base, Mapping) else "a value"
            raise ProfileError(f"{label}: key {key!r} is {kind} in params.yaml")


def apply_profile(
    params_path: str | Path, name: str, root: str | Path | None = None
) -> dict[str, Any]:
    """Merge profile ``name`` into ``params_path`` and rewrite it atomically; return the merge.

    Profiles are looked up in ``<root>/profiles`` (default root: the params file's folder). The
    file keeps its comments and layout; only the overridden values change.
    """
    params_path = Path(params_path)
    profile = load_profile(name, root or params_path.parent)
    text = params_path.read_text()
    params = yaml.safe_load(text) or {}
    check_profile(params, profile, name)
    write_text(_set_values(text, profile), params_path)
    return deep_merge(params, profile)


def as_set_args(profile: Mapping[str, Any]) -> list[str]:
    """``["-S", "key=value", ...]`` for ``dvc exp run``: the same change as the profile."""
    args: list[str] = []
    for key, value in flatten(profile).items():
        args += ["-S", f"{key}={hydra_value(value)}"]
    return args


def hydra_value(value: Any) -> str:
    """``value`` in Hydra's override grammar (what ``dvc exp run -S`` parses)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _hydra_float(value)
    if isinstance(value, str):
        return value if _plain_ok(value) else _quote(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(hydra_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{k}:{hydra_value(v)}" for k, v in value.items()) + "}"
    raise ProfileError(f"cannot write {value!r} ({type(value).__name__}) as a -S value")


# ------------------------------------------------------------------------------------ helpers

_MISSING = object()


def _walk(
    base: Mapping[str, Any], override: Mapping[str, Any], prefix: str = ""
) -> Iterator[tuple[str, Any, Any]]:
    """Yield ``(dotted key, base value or _MISSING, override value)`` down matching sections."""
    for key, value in override.items():
        dotted = f"{prefix}{key}"
        current = base.get(key, _MISSING) if isinstance(base, Mapping) else _MISSING
        yield dotted, current, value
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            yield from _walk(current, value, dotted + ".")


def _set_values(text: str, profile: Mapping[str, Any]) -> str:
    """Set the profile's leaves in the YAML ``text``, keeping its comments (ruamel round-trip)."""
    from ruamel.yaml import YAML  # comes with dvc, which edits params.yaml the same way

    rt = YAML()
    rt.indent(mapping=2, sequence=4, offset=2)
    rt.width = 4096
    rt.representer.add_representer(
        type(None), lambda r, _: r.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    doc = rt.load(text)
    for key, value in flatten(profile).items():
        *parents, leaf = key.split(".")
        node = doc
        for part in parents:
            node = node[part]
        node[leaf] = copy.deepcopy(value)
    out = io.StringIO()
    rt.dump(doc, out)
    return out.getvalue()


def _hydra_float(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


def _plain_ok(text: str) -> bool:
    """Whether Hydra reads ``text`` unquoted as this same string."""
    if not text or not set(text) <= _SAFE_CHARS or text.lower() in _HYDRA_WORDS:
        return False
    if text[0] in "+-.@/" or text[-1] == ".":
        return False
    try:
        float(text)
    except ValueError:
        return True
    return False


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
