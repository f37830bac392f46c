"""The default profile reads nothing outside the repo (issue 20): no value of the default
``params.yaml``, and no default of the typed params models, is a path that leaves the repo
(an absolute path, a home path, or one with a ``..`` component). The lab's shared folders are
opt-in, in ``profiles/lab.yaml`` and ``profiles/study.yaml``."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

REPO = Path(__file__).resolve().parents[2]
#: "C:\\x" or "C:/x": a Windows drive path also leaves the repo.
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


def leaves_repo(value: str) -> bool:
    """Whether ``value``, read as a path relative to the repo root, names a place outside it."""
    text = value.strip()
    if text.startswith(("/", "\\", "~")) or _DRIVE.match(text):
        return True
    return ".." in re.split(r"[\\/]", text)


def walk_values(node: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """``(dotted key, leaf value)`` of nested mappings and lists (list items as ``key[i]``)."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk_values(v, f"{key}.{k}" if key else str(k))
    elif isinstance(node, list | tuple):
        for i, v in enumerate(node):
            yield from walk_values(v, f"{key}[{i}]")
    else:
        yield key, node


def walk_model_defaults(model: type[BaseModel], key: str = "") -> Iterator[tuple[str, Any]]:
    """``(dotted key, default)`` of every field of ``model`` and of the models it nests (by
    annotation, so a sub-model whose default is ``None`` is walked too)."""
    for name, field in model.model_fields.items():
        dotted = f"{key}.{name}" if key else name
        default = field.get_default(call_default_factory=True)
        if isinstance(default, BaseModel):
            default = default.model_dump()
        yield from walk_values(default, dotted)
        for sub in nested_models(field.annotation):
            yield from walk_model_defaults(sub, dotted)


def nested_models(annotation: Any) -> Iterator[type[BaseModel]]:
    """The pydantic model classes inside a field annotation (``X``, ``X | None``, ``list[X]``,
    ``dict[str, X]``...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in getattr(annotation, "__args__", ()) or ():
        yield from nested_models(arg)


def outside_paths(pairs: Iterator[tuple[str, Any]]) -> list[str]:
    """``"key = 'value'"`` for each string value that leaves the repo, once each, in order."""
    found = [f"{k} = {v!r}" for k, v in pairs if isinstance(v, str) and leaves_repo(v)]
    return list(dict.fromkeys(found))


def full_params_model() -> type[BaseModel]:
    """The composition of every params section (``trustir.params.Params`` where it exists,
    else ``trustir.config.Params``)."""
    for module in ("trustir.params", "trustir.config"):
        try:
            return importlib.import_module(module).Params
        except (ImportError, AttributeError):
            continue
    raise ImportError("no Params composition in trustir.params or trustir.config")


def test_default_params_yaml_names_no_path_outside_the_repo() -> None:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    found = outside_paths(walk_values(params))
    assert not found, f"params.yaml: defaults that leave the repo: {found}"


def test_params_models_default_to_no_path_outside_the_repo() -> None:
    found = outside_paths(walk_model_defaults(full_params_model()))
    assert not found, f"params models: defaults that leave the repo: {found}"


def test_the_check_names_the_key_of_a_path_outside() -> None:
    tree = {"ltr": {"clicks": {"yandex": "../shared/data/y"}}, "a": ["ok/x", "/abs/p"]}
    assert outside_paths(walk_values(tree)) == [
        "ltr.clicks.yandex = '../shared/data/y'",
        "a[1] = '/abs/p'",
    ]


@pytest.mark.parametrize(
    ("value", "outside"),
    [
        ("../shared/data", True),
        ("data/../../x", True),
        ("~/.cache/x", True),
        ("C:\\data", True),
        ("/tmp/x", True),  # noqa: S108  a path string under test, nothing is written
        ("data/fetch", False),
        ("point/point_score", False),
        ("nDCG@10", False),
        ("..hidden/x", False),  # a name that starts with two dots, not a parent step
    ],
)
def test_leaves_repo(value: str, outside: bool) -> None:
    assert leaves_repo(value) is outside


def test_lab_and_study_profiles_name_the_shared_folders() -> None:
    for name in ("lab", "study"):
        profile = yaml.safe_load((REPO / "profiles" / f"{name}.yaml").read_text())
        assert profile["ltr"]["clicks"]["yandex"] == "../shared/data/yandex_wscd_pyclick_sample"
        assert profile["authority"]["shared_data"] == "../shared/data"
