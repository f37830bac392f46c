"""Whether the ``annotate`` stage must run again: what it would use now vs what it used in the
last committed run (the ``annotate`` entry of ``HEAD:dvc.lock``).

- the annotator config: the params ``annotate`` records (sections ``llm`` and ``annotate``, and
  ``evaluate.min_rel``, ``data.source``), read from ``params.yaml`` with ``set_params`` applied
  the way ``dvc exp run -S`` applies them;
- the query set and the stage's other inputs: the hashes of its deps (``data/fetch``...) in the
  workspace's ``dvc.lock``, and ``dvc status annotate --with-deps`` (upstream params, data or
  code changed since they last ran), plus ``set_params`` that change an upstream stage's params.

Nothing changed: nothing to re-annotate; also when an experiment of this commit already holds
exactly these inputs (so a nightly schedule does not pile up copies).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trustir.versions.overrides import overridden_params, param_at, value_changes
from trustir.versions.repo import (
    LOCK_FILE,
    LockEntry,
    dvc_json,
    experiments,
    git_show,
    lock_entries,
    upstream,
)

STAGE = "annotate"
NOTHING = "nothing to re-annotate"


@dataclass(frozen=True)
class Decision:
    """Why re-annotation is needed (``reasons``), or the experiment that already did it."""

    reasons: list[str]
    duplicate_of: str | None = None

    @property
    def needed(self) -> bool:
        return bool(self.reasons) and self.duplicate_of is None

    def message(self) -> str:
        if self.duplicate_of:
            return f"{NOTHING}: experiment '{self.duplicate_of}' already has these inputs"
        return f"{NOTHING}: annotator config and query set unchanged since HEAD"


def annotation_changes(root: str | Path, set_params: Sequence[str] = ()) -> Decision:
    """What changed for ``annotate`` since the last committed run (see the module docstring)."""
    root = Path(root).resolve()
    head = lock_entries(git_show(root, "HEAD", LOCK_FILE))
    work_path = root / LOCK_FILE
    work = lock_entries(work_path.read_text() if work_path.exists() else None)
    if STAGE not in head:
        return Decision([f"no committed run of '{STAGE}' (HEAD:{LOCK_FILE} lacks it)"])
    base, now = head[STAGE], work.get(STAGE)
    target = overridden_params(root, set_params)
    reasons = config_changes(base, target) + dep_changes(base, now)
    current = overridden_params(root)
    stale = status_changes(root) + upstream_param_changes(work or head, current, target)
    if not (reasons or stale):
        return Decision([])
    duplicate = None if stale or now is None else duplicate_experiment(root, base, now, target)
    return Decision(reasons + stale, duplicate)


def config_changes(base: LockEntry, target: Mapping[str, Any]) -> list[str]:
    """The params ``annotate`` recorded at HEAD vs their target values, one line per leaf."""
    return [
        line
        for key, before in base.params.items()
        for line in value_changes(key, before, param_at(target, key))
    ]


def dep_changes(base: LockEntry, now: LockEntry | None) -> list[str]:
    """``annotate``'s deps (``data/fetch``: the query set...) whose hash in the workspace's
    ``dvc.lock`` differs from HEAD's."""
    lines = []
    for path, digest in base.deps.items():
        current = now.deps.get(path) if now else None
        if current != digest:
            lines.append(f"{path} changed since HEAD ({_short(digest)} -> {_short(current)})")
    return lines


def _short(digest: str | None) -> str:
    return (digest or "none")[:8]


def status_changes(root: Path) -> list[str]:
    """``dvc status annotate --with-deps``: what changed in ``annotate`` and its upstream
    stages since they last ran (deps, params, outs), one line per stage."""
    return status_lines(dvc_json(root, "status", STAGE, "--with-deps"))


def status_lines(status: Mapping[str, Any]) -> list[str]:
    """``dvc status --json`` output as one line per stage and kind of change."""
    lines = []
    for stage, changes in status.items():
        for change in changes if isinstance(changes, list) else [changes]:
            if isinstance(change, Mapping):
                for kind, what in change.items():
                    lines.append(f"{stage}: {kind} {_status_items(what)}")
            else:
                lines.append(f"{stage}: {change}")
    return lines


def _status_items(what: Any) -> str:
    if not isinstance(what, Mapping):
        return str(what)
    items = []
    for path, state in what.items():
        if isinstance(state, Mapping):  # params file: {key: "modified"}
            items += [f"{key} ({st})" for key, st in state.items()]
        else:
            items.append(f"{path} ({state})")
    return ", ".join(items)


def upstream_param_changes(
    entries: Mapping[str, LockEntry], current: Mapping[str, Any], target: Mapping[str, Any]
) -> list[str]:
    """Changes that ``set_params`` make to the params of ``annotate``'s upstream stages (a new
    query set, a new index): ``target`` vs the workspace's ``params.yaml`` (``current``)."""
    if STAGE not in entries:
        return []
    lines = []
    for stage in upstream(entries, STAGE):
        for key in entries[stage].params:
            changed = value_changes(key, param_at(current, key), param_at(target, key))
            lines += [f"{stage}: {line}" for line in changed]
    return lines


def duplicate_experiment(
    root: Path, base: LockEntry, now: LockEntry, target: Mapping[str, Any]
) -> str | None:
    """The newest experiment of ``HEAD`` whose annotate params equal ``target`` and whose
    annotate deps equal the workspace's: re-running would only copy it."""
    for exp in experiments(root):
        same_params = all(param_at(exp.params, k) == param_at(target, k) for k in base.params)
        same_deps = all(exp.deps.get(path) == digest for path, digest in now.deps.items())
        if same_params and same_deps:
            return exp.name
    return None
