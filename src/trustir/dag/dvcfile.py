"""``dvc.yaml``'s code deps against the import closure of each stage's script.

A stage's *code deps* are its deps under ``src/`` or ``stages/``; what they should be is the
stage script (from ``cmd``: ``python stages/x.py ...`` or ``python -m pkg.mod``), then every file
of its import closure (``trustir.dag.imports``), sorted. Every other dep is data and keeps its
place after them. ``foreach``/``matrix`` stages are templates: their ``cmd`` and ``deps`` are
read unexpanded (the script path holds no ``${...}``); ``expand`` names their variants as DVC
does, for ``affected``.

The file is read and written with ruamel.yaml's round-trip mode, so comments and layout stay.
"""

from __future__ import annotations

import io
import itertools
import re
import shlex
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trustir.dag.imports import import_closure

#: deps under these folders are code (the closure decides them); everything else is data.
CODE_PREFIXES = ("src/", "stages/")
#: where the package lives (the second search root, after the script's own folder).
SRC_DIR = "src"


def _yaml() -> Any:
    from ruamel.yaml import YAML  # comes with dvc, which edits dvc.yaml the same way

    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 4096
    return y


def load_dvcfile(path: Path) -> Any:
    """``dvc.yaml`` as a ruamel round-trip mapping (comments kept)."""
    return _yaml().load(Path(path).read_text(encoding="utf-8"))


def dump_dvcfile(doc: Any) -> str:
    buf = io.StringIO()
    _yaml().dump(doc, buf)
    return buf.getvalue()


def _norm(dep: str) -> str:
    return dep.removeprefix("./").rstrip("/")


def is_code_dep(dep: object) -> bool:
    return isinstance(dep, str) and _norm(dep).startswith(CODE_PREFIXES)


# -- stages ---------------------------------------------------------------------------------------
@dataclass
class StageDef:
    """One stage of ``dvc.yaml`` as written (a template for foreach/matrix stages)."""

    name: str
    body: Any  # the mapping holding cmd/deps/outs (the stage, or its ``do:``)
    stage: Any  # the stage's own mapping (foreach/matrix live here)

    @property
    def cmds(self) -> list[str]:
        cmd = self.body.get("cmd", [])
        return [cmd] if isinstance(cmd, str) else [str(c) for c in cmd]

    @property
    def deps(self) -> list[Any]:
        return list(self.body.get("deps") or [])

    def entry_points(self, root: Path) -> list[str]:
        """Repo-relative paths of the Python files the ``cmd`` runs (a script or ``-m``)."""
        return [e for c in self.cmds if (e := entry_point(c, root)) is not None]


def entry_point(cmd: str, root: Path) -> str | None:
    """``python [opts] stages/x.py ...`` -> ``stages/x.py``; ``python -m a.b`` ->
    ``src/a/b.py`` (or its ``__init__.py``); None when ``cmd`` runs no Python file."""
    try:
        argv = shlex.split(cmd)
    except ValueError:
        return None
    for i, tok in enumerate(argv):
        if not re.fullmatch(r"python(\d+(\.\d+)?)?", Path(tok).name):
            continue
        rest = argv[i + 1 :]
        while rest and rest[0].startswith("-") and rest[0] != "-m":
            rest = rest[1:]
        if rest[:1] == ["-m"] and len(rest) > 1:
            base = Path(SRC_DIR, *rest[1].split(".")).as_posix()
            return f"{base}/__init__.py" if (root / base).is_dir() else f"{base}.py"
        if rest and rest[0].endswith(".py"):
            return _norm(rest[0])
        return None
    return next((_norm(t) for t in argv if t.endswith(".py")), None)


def stage_defs(doc: Any) -> list[StageDef]:
    """Every stage of a loaded ``dvc.yaml``, in file order."""
    out = []
    for name, stage in (doc.get("stages") or {}).items():
        body = stage.get("do", stage) if "foreach" in stage else stage
        out.append(StageDef(str(name), body, stage))
    return out


# -- what the deps should be ----------------------------------------------------------------------
def expected_code_deps(stage: StageDef, root: Path, cache: dict | None = None) -> list[str] | None:
    """The script(s) first, then the sorted closure; None when the cmd runs no Python file.
    ``cache``: shared between stages, so each file is parsed once."""
    root = root.resolve()
    entries = stage.entry_points(root)
    if not entries:
        return None
    closure: set[str] = set()
    for entry in entries:
        script = root / entry
        if not script.is_file():
            raise FileNotFoundError(f"stage {stage.name}: its cmd runs {entry}, which is missing")
        roots = [script.parent, root / SRC_DIR]
        closure |= {p.relative_to(root).as_posix() for p in import_closure(script, roots, cache)}
    return [*dict.fromkeys(entries), *sorted(closure - set(entries))]


def rewritten_deps(stage: StageDef, root: Path, cache: dict | None = None) -> list[Any] | None:
    """The deps ``--write`` gives: the code deps, then the data deps in their order."""
    code = expected_code_deps(stage, root, cache)
    if code is None:
        return None
    return [*code, *(d for d in stage.deps if not is_code_dep(d))]


@dataclass
class StageCheck:
    """How a stage's listed code deps differ from its import closure."""

    stage: str
    missing: list[str] = field(default_factory=list)  # imported, not listed
    extra: list[str] = field(default_factory=list)  # listed, not imported
    reordered: bool = False  # same set, not in the order --write gives
    unchecked: bool = False  # the cmd runs no Python file

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.reordered)

    def lines(self) -> list[str]:
        out = [f"{self.stage}: missing {m} (imported, not in deps)" for m in self.missing]
        out += [f"{self.stage}: extra {e} (in deps, not imported)" for e in self.extra]
        if self.reordered and not out:
            out.append(f"{self.stage}: deps not in the order `trustir dag deps --write` gives")
        return out


def check_stage(stage: StageDef, root: Path, cache: dict | None = None) -> StageCheck:
    """How ``stage``'s deps differ from what ``--write`` would give them."""
    want = rewritten_deps(stage, root, cache)
    if want is None:
        return StageCheck(stage.name, unchecked=True)
    listed = [_norm(d) for d in stage.deps if is_code_dep(d)]
    code = [d for d in want if is_code_dep(d)]
    return StageCheck(
        stage.name,
        missing=[d for d in code if d not in listed],
        extra=[d for d in dict.fromkeys(listed) if d not in code],
        reordered=[_norm(d) if is_code_dep(d) else d for d in stage.deps] != want,
    )


def check_dvcfile(path: Path, root: Path | None = None) -> list[StageCheck]:
    """One :class:`StageCheck` per stage of ``path``; ``root`` (default: its folder) holds the
    stage scripts and ``src/``."""
    path, cache = Path(path), {}
    root = path.parent if root is None else Path(root)
    return [check_stage(s, root, cache) for s in stage_defs(load_dvcfile(path))]


def _set_deps(stage: StageDef, deps: list[Any]) -> None:
    """Replace the deps list in place, keeping the comment after its last item (a blank line
    before the next key or stage)."""
    from ruamel.yaml.comments import CommentedSeq

    seq = stage.body.get("deps")
    if not isinstance(seq, CommentedSeq):
        new = CommentedSeq(deps)
        keys = list(stage.body)
        pos = keys.index("cmd") + 1 if "cmd" in keys else len(keys)
        stage.body.insert(pos, "deps", new)
        return
    tail = seq.ca.items.get(len(seq) - 1) if len(seq) else None
    seq.ca.items.clear()
    seq[:] = deps
    if tail is not None and deps:
        seq.ca.items[len(deps) - 1] = tail


def write_dvcfile(path: Path) -> list[str]:
    """Rewrite every stage's code deps to its closure (atomically); the changed stages' names."""
    from trustir.io.atomic import write_text

    path, cache = Path(path), {}
    doc = load_dvcfile(path)
    changed = []
    for stage in stage_defs(doc):
        want = rewritten_deps(stage, path.parent, cache)
        if want is not None and want != stage.deps:
            _set_deps(stage, want)
            changed.append(stage.name)
    if changed:
        write_text(dump_dvcfile(doc), path)
    return changed


# -- variants, and which stages a file feeds ------------------------------------------------------
_INTERP = re.compile(r"\$\{\s*([^}]+?)\s*\}")


def _lookup(ctx: dict[str, Any], dotted: str) -> Any:
    value: Any = ctx
    for part in dotted.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise KeyError(f"${{{dotted}}} is not defined (params.yaml / vars / item)")
    return value


def interpolate(value: Any, ctx: dict[str, Any]) -> Any:
    """DVC's ``${a.b}``: a whole-string reference keeps its type, else string substitution."""
    if isinstance(value, str):
        whole = _INTERP.fullmatch(value)
        if whole:
            return _lookup(ctx, whole.group(1))
        return _INTERP.sub(lambda m: str(_lookup(ctx, m.group(1))), value)
    return value


@dataclass(frozen=True)
class Variant:
    """One runnable stage: its name as DVC prints it (``train@a-b``), its deps and outs."""

    name: str
    template: str
    deps: tuple[str, ...]
    outs: tuple[str, ...]


def _paths(entries: Sequence[Any], ctx: dict[str, Any]) -> tuple[str, ...]:
    out = []
    for e in entries or []:
        key = next(iter(e)) if isinstance(e, dict) else e
        out.append(_norm(str(interpolate(str(key), ctx))))
    return tuple(out)


def _items(stage: Any, ctx: dict[str, Any]) -> Iterator[tuple[str | None, dict[str, Any]]]:
    """(variant suffix, extra context) of each variant, as DVC names them."""
    if "foreach" in stage:
        seq = interpolate(stage["foreach"], ctx)
        pairs = seq.items() if isinstance(seq, dict) else enumerate(seq)
        for key, item in pairs:
            scalar = not isinstance(item, dict | list)
            suffix = str(key) if isinstance(seq, dict) or not scalar else str(item)
            yield suffix, {"item": item, "key": key}
    elif "matrix" in stage:
        axes = {k: interpolate(v, ctx) for k, v in stage["matrix"].items()}
        for combo in itertools.product(*(list(enumerate(v)) for v in axes.values())):
            item = {k: v for k, (_, v) in zip(axes, combo, strict=True)}
            parts = [
                str(v) if not isinstance(v, dict | list) else f"{k}{i}"
                for k, (i, v) in zip(axes, combo, strict=True)
            ]
            yield "-".join(parts), {"item": item}
    else:
        yield None, {}


def expand(doc: Any, params: dict[str, Any]) -> list[Variant]:
    """Every variant of every stage, deps and outs (outs, metrics, plots) interpolated."""
    out = []
    base = {**params, **_plain(doc.get("vars"))}
    for s in stage_defs(doc):
        for suffix, extra in _items(s.stage, base):
            ctx = {**base, **extra}
            outs = [o for k in ("outs", "metrics", "plots") for o in _paths(s.body.get(k), ctx)]
            name = s.name if suffix is None else f"{s.name}@{suffix}"
            out.append(Variant(name, s.name, _paths(s.deps, ctx), tuple(outs)))
    return out


def _plain(vars_: Any) -> dict[str, Any]:
    """Inline ``vars:`` mappings (file references are not read)."""
    merged: dict[str, Any] = {}
    for v in vars_ or []:
        if isinstance(v, dict):
            merged.update(v)
    return merged


def _covers(listed: str, path: str) -> bool:
    return path == listed or path.startswith(listed + "/")


def stages_listing(variants: Sequence[Variant], path: str) -> list[str]:
    """Variants with ``path`` among their deps, directly or under a listed folder."""
    path = _norm(path)
    return [v.name for v in variants if any(_covers(d, path) for d in v.deps)]


def downstream(variants: Sequence[Variant], names: Sequence[str]) -> list[str]:
    """``names`` and every variant that depends, transitively, on one of their outputs."""
    reached = set(names)
    grew = True
    while grew:
        grew = False
        outs = [o for v in variants if v.name in reached for o in v.outs]
        for v in variants:
            if v.name not in reached and any(
                _covers(o, d) or _covers(d, o) for d in v.deps for o in outs
            ):
                reached.add(v.name)
                grew = True
    return [v.name for v in variants if v.name in reached]


def load_params(root: Path) -> dict[str, Any]:
    """``params.yaml`` as plain data (the context of ``${...}``), or {} when there is none."""
    path = Path(root) / "params.yaml"
    if not path.exists():
        return {}
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
