"""``trustir dag``: keep dvc.yaml's code deps equal to what each stage imports.

``trustir dag deps`` prints each stage's code deps as the imports give them; ``--check`` exits 1
listing, per stage, the files it imports but does not list and those it lists but does not
import; ``--write`` rewrites them in dvc.yaml. ``trustir dag affected FILE...`` names the stages
that list each file (directly or under a listed folder): those ``dvc repro`` reruns after an
edit of it (``--downstream``: and every stage below them, were their outputs to change).
``trustir dag why STAGE FILE`` prints the chain of imports that brings FILE into STAGE.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from trustir.dag.dvcfile import (
    SRC_DIR,
    check_dvcfile,
    downstream,
    expand,
    expected_code_deps,
    load_dvcfile,
    load_params,
    stage_defs,
    stages_listing,
    write_dvcfile,
)
from trustir.dag.imports import import_chain
from trustir.paths import repo_root


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``dag`` subcommand's own actions (``deps``, ``affected``) on its parser."""
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    s = sub.add_parser("deps", help="each stage's code deps from its imports (--check, --write)")
    mode = s.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 if dvc.yaml differs")
    mode.add_argument("--write", action="store_true", help="rewrite the code deps in dvc.yaml")
    s = sub.add_parser("affected", help="the stages that list each FILE (what an edit reruns)")
    s.add_argument("files", nargs="+", metavar="FILE")
    s.add_argument("--downstream", action="store_true", help="add the stages below them")
    s = sub.add_parser("why", help="a shortest import chain from STAGE's script to FILE")
    s.add_argument("stage", metavar="STAGE", help="a stage name as in dvc.yaml (no @variant)")
    s.add_argument("target", metavar="FILE")
    for s in sub.choices.values():
        s.add_argument("--file", default="dvc.yaml", help="the dvc.yaml (default: the repo's)")


def _dvcfile(arg: str) -> Path:
    path = Path(arg)
    path = path if path.is_absolute() or path.exists() else repo_root() / path
    if not path.is_file():
        raise FileNotFoundError(f"no {arg} here or at the repo root")
    return path


def deps(path: Path, check: bool, write: bool) -> int:
    """The ``deps`` action; the exit status."""
    if write:
        changed = write_dvcfile(path)
        print(f"{path.name}: rewrote the code deps of {len(changed)} stage(s)", *changed)
        return 0
    if not check:
        cache: dict = {}
        for stage in stage_defs(load_dvcfile(path)):
            code = expected_code_deps(stage, path.parent, cache)
            print(f"{stage.name}:", *(code or ["(its cmd runs no Python file)"]), sep="\n  ")
        return 0
    results = check_dvcfile(path)
    bad = [r for r in results if not r.ok]
    for r in bad:
        print(f"{r.stage}: {len(r.missing)} missing, {len(r.extra)} extra")
        print(*(f"  {line.split(': ', 1)[1]}" for line in r.lines()), sep="\n")
    for r in results:
        if r.unchecked:
            print(f"{r.stage}: not checked (its cmd runs no Python file)")
    if bad:
        print(f"{path.name}: {len(bad)} stage(s) out of step; `trustir dag deps --write` fixes it")
        return 1
    print(f"{path.name}: the code deps of {len(results)} stage(s) match their imports")
    return 0


def _repo_relative(file: str, *roots: Path) -> str:
    full = Path(file).resolve()
    for root in roots:
        if full.is_relative_to(root.resolve()):
            return full.relative_to(root.resolve()).as_posix()
    return file


def affected(path: Path, files: list[str], with_downstream: bool) -> int:
    """The ``affected`` action: per file, the stage variants that list it. ``${...}`` come from
    the params.yaml beside ``path``, else the repo's (so an old dvc.yaml can be read from /tmp)."""
    root = path.parent
    params = load_params(root) if (root / "params.yaml").exists() else load_params(repo_root())
    variants = expand(load_dvcfile(path), params)
    for f in files:
        rel = _repo_relative(f, root, repo_root())
        hit = stages_listing(variants, rel)
        print(f"{rel}: {len(hit)} stage(s)", *hit)
        if with_downstream:
            below = [n for n in downstream(variants, hit) if n not in hit]
            print(f"  + {len(below)} downstream", *below)
    return 0


def why(path: Path, stage_name: str, target: str) -> int:
    """The ``why`` action: the import chain, or exit 1 when the stage does not import it."""
    root = path.parent.resolve()
    stages = {s.name: s for s in stage_defs(load_dvcfile(path))}
    if stage_name not in stages:
        raise KeyError(f"no stage {stage_name!r} in {path}; stages: {', '.join(stages)}")
    goal = root / _repo_relative(target, root)
    for entry in stages[stage_name].entry_points(root):
        script = root / entry
        chain = import_chain(script, goal, [script.parent, root / SRC_DIR])
        if chain:
            print(*(p.relative_to(root).as_posix() for p in chain), sep="\n  imports ")
            return 0
    print(f"{stage_name} does not import {goal.relative_to(root).as_posix()}")
    return 1


def run(args: argparse.Namespace) -> int:
    """Run the parsed ``trustir dag ...``; the exit status."""
    path = _dvcfile(args.file)
    if args.action == "deps":
        return deps(path, args.check, args.write)
    if args.action == "why":
        return why(path, args.stage, args.target)
    return affected(path, args.files, args.downstream)
