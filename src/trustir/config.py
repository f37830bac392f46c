"""Generic params machinery: read ``params.yaml``, validate sections, flatten, diff defaults.

Each area defines its own section models (``trustir.section.Section`` subclasses with a
``section_name``: ``DataParams`` in ``trustir.sources.params``, ``IndexParams`` in
``trustir.retrieval.params``...). This module knows none of them, so it imports no area: a stage
validates only the sections it declares (:func:`load_sections`), and ``trustir.params.Params``
composes every section for ``trustir params``, tests and flows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from trustir.section import Section

__all__ = [
    "ParamsError",
    "ParamsView",
    "Section",
    "UndeclaredSection",
    "flatten",
    "load_sections",
    "non_default",
    "read_params_file",
    "validate_model",
]

M = TypeVar("M", bound=Section)


class ParamsError(ValueError):
    """A params file that does not match the typed sections."""


class UndeclaredSection(AttributeError):
    """A stage read a params section it did not declare (a bug in the stage, not bad input)."""


def read_params_file(path: str | Path) -> dict[str, Any]:
    """The raw mapping of a params YAML file (empty file = ``{}``); errors name the file."""
    path = Path(path)
    with path.open() as fh:
        raw = yaml.safe_load(fh) or {}
    if not isinstance(raw, dict):
        raise ParamsError(f"{path.name}: expected a mapping of sections, got {type(raw).__name__}")
    return raw


def validate_model(model: type[M], raw: Any, origin: str = "params.yaml", prefix: str = "") -> M:
    """``model.model_validate(raw)``; every error names ``origin`` and the dotted key."""
    try:
        return model.model_validate({} if raw is None else raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join([prefix, *map(str, err["loc"])] if prefix else map(str, err["loc"]))
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{origin}: {key}: {msg}" if key else f"{origin}: {msg}")
        raise ParamsError("\n".join(lines)) from None


class ParamsView:
    """The params sections one stage declared, as attributes (``params.data``, ...).

    Reading any other section raises :class:`UndeclaredSection` naming the stage and the section,
    so a stage's declared sections are exactly what it reads (and its import closure holds only
    their areas).
    """

    def __init__(self, stage: str, sections: Mapping[str, Section]) -> None:
        object.__setattr__(self, "_stage", stage)
        object.__setattr__(self, "_sections", dict(sections))

    def __getattr__(self, name: str) -> Any:
        sections = object.__getattribute__(self, "_sections")
        if name in sections:
            return sections[name]
        if name.startswith("__"):
            raise AttributeError(name)
        stage = object.__getattribute__(self, "_stage")
        declared = ", ".join(sections) or "none"
        raise UndeclaredSection(
            f"stage {stage!r} reads params section {name!r} but does not declare it "
            f"(declared: {declared}); add its model to @stage({stage!r}, sections=...)"
        )

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("params are read-only")

    @property
    def section_names(self) -> list[str]:
        """The declared sections, in declaration order."""
        return list(object.__getattribute__(self, "_sections"))

    def model_dump(self) -> dict[str, Any]:
        """``{section: values}`` of the declared sections (as ``Params.model_dump`` would)."""
        return {k: v.model_dump() for k, v in object.__getattribute__(self, "_sections").items()}

    def __repr__(self) -> str:
        return f"ParamsView({object.__getattribute__(self, '_stage')!r}, {self.section_names})"


def load_sections(
    raw: Mapping[str, Any],
    models: Iterable[type[Section]],
    origin: str = "params.yaml",
    stage: str = "?",
) -> ParamsView:
    """Validate the sections ``models`` name (each by its ``section_name``) from ``raw``."""
    sections: dict[str, Section] = {}
    for model in models:
        name = model.section_name
        if not name:
            raise TypeError(f"{model.__name__} is not a top-level params section (no section_name)")
        if name in sections:
            raise TypeError(f"stage {stage!r} declares section {name!r} twice")
        sections[name] = validate_model(model, raw.get(name), origin, prefix=name)
    return ParamsView(stage, sections)


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; an empty section overrides nothing (dropped)."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def non_default(params: Section | ParamsView) -> dict[str, Any]:
    """The params that differ from the defaults, as a flat ``{"a.b": value}`` mapping.

    ``params`` is a composition (``trustir.params.Params``), a stage's :class:`ParamsView`
    (keys of its declared sections), or one section (keys prefixed by its ``section_name``).
    """
    if isinstance(params, ParamsView):
        out: dict[str, Any] = {}
        for name in params.section_names:
            out.update(non_default(getattr(params, name)))
        return out
    prefix = f"{params.section_name}." if params.section_name else ""
    cur = flatten(params.model_dump(), prefix)
    ref = flatten(type(params)().model_dump(), prefix)
    return {k: v for k, v in cur.items() if ref.get(k) != v}
