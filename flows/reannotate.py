"""Re-annotation as a DVC experiment: when the annotator or the query set changed, re-run it.

The flow ``trustir-reannotate`` compares what the ``annotate`` stage would use now with what it
used in the last committed run (the ``annotate`` entry of ``HEAD:dvc.lock``):

- the annotator config: the params ``annotate`` records (sections ``llm`` and ``annotate``, and
  ``evaluate.min_rel``, ``data.source``), read from ``params.yaml`` with ``set_params`` applied
  the way ``dvc exp run -S`` applies them;
- the query set and the stage's other inputs: the hashes of its deps (``data/fetch``...) in the
  workspace's ``dvc.lock``, and ``dvc status annotate --with-deps`` (upstream params, data or
  code changed since they last ran), plus ``set_params`` that change an upstream stage's params.

Nothing changed (and not ``force``): the run completes with the message "nothing to
re-annotate" (also when an experiment of this commit already holds exactly these inputs, so a
nightly schedule does not pile up copies). Otherwise one task runs ``dvc exp run [-S k=v ...]
-n NAME`` (its output streamed to the run's log): ``annotate`` and everything downstream of it run
as the experiment NAME (default ``reannotate-<UTC time>``), whose results DVC also applies to the
workspace. The labels come from the persistent label store, so only new items cost LLM calls.
Then ``trustir compare HEAD NAME`` (every paper table side by side, each cell with its delta
and a paired t-test over queries) and the metrics of both commits (``metrics/*.json``: before,
after, delta) are published as the Markdown artifact ``trustir-reannotate``;
``dvc exp show`` and ``dvc exp diff HEAD NAME`` show the same comparison in a shell.

Params hold only the *name* of an API key's environment variable; anything whose key looks like
a secret is shown as ``***`` in logs and artifacts all the same.

Run it once (from the repo root, with the venv active)::

    python flows/reannotate.py                       # re-annotate if something changed
    python flows/reannotate.py -S annotate.max_queries=80 -n more-queries
    python flows/reannotate.py --force               # an experiment even if nothing changed

and nightly with ``flows/deploy.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, State

if __package__ in (None, ""):  # run as a script: `flows` is importable from the repo root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from flows.pipeline import ERROR_TAIL_LINES, logger_sink, run_command, stage_env  # noqa: E402

ARTIFACT_KEY = "trustir-reannotate"
STAGE = "annotate"
NOTHING = "nothing to re-annotate"
PARAMS_FILE = "params.yaml"
LOCK_FILE = "dvc.lock"
METRICS_DIR = "metrics"
#: keys whose values are never shown (``api_key_env`` holds a variable's name: shown).
_SECRET_KEY = re.compile(r"(secret|token|password|passwd|api_?key)(?!_env)", re.IGNORECASE)
_MISSING: Any = type("Missing", (), {"__repr__": lambda _self: "(absent)"})()


class ExperimentFailed(RuntimeError):
    """``dvc exp run`` exited non-zero; the message ends with the tail of its stderr."""

    def __init__(self, name: str, returncode: int, stderr_tail: Iterable[str]) -> None:
        tail = "\n".join(line for line in stderr_tail if line.strip())
        super().__init__(f"experiment '{name}' failed (dvc exp run exit {returncode}):\n{tail}")
        self.name, self.returncode = name, returncode


@dataclass(frozen=True)
class LockEntry:
    """One stage of a ``dvc.lock``: its params (as DVC keys them: ``llm``, ``evaluate.min_rel``),
    its deps' hashes by path, and its outs' paths."""

    params: dict[str, Any]
    deps: dict[str, str | None]
    outs: tuple[str, ...]


@dataclass(frozen=True)
class Experiment:
    """One DVC experiment of the baseline commit, as ``dvc exp show --json`` describes it."""

    name: str
    rev: str
    params: dict[str, Any]
    deps: dict[str, str | None]


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


# ------------------------------------------------------------------------ git and DVC


def git(root: Path, *args: str) -> str:
    """``git ARGS`` in ``root``; its stdout (raises ``RuntimeError`` with stderr on failure)."""
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {root}: {proc.stderr.strip()}")
    return proc.stdout


def git_show(root: Path, rev: str, path: str) -> str | None:
    """The text of ``path`` at ``rev``, or None where that commit lacks it."""
    proc = subprocess.run(
        ["git", "show", f"{rev}:{path}"], cwd=root, capture_output=True, text=True
    )
    return proc.stdout if proc.returncode == 0 else None


def dvc_json(root: Path, *args: str) -> Any:
    """``dvc ARGS --json`` in ``root`` (the project's dvc, offline), parsed."""
    proc = subprocess.run(
        ["dvc", *args, "--json"], cwd=root, env=stage_env(root), capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(f"dvc {' '.join(args)} failed in {root}:\n{proc.stderr.strip()}")
    return json.loads(proc.stdout or "{}")  # DVC writes NaN for undefined metrics: json reads it


def lock_entries(text: str | None) -> dict[str, LockEntry]:
    """The stages of a ``dvc.lock`` text (empty for None or an empty lock)."""
    stages = (yaml.safe_load(text or "") or {}).get("stages") or {}
    return {name: _lock_entry(entry or {}) for name, entry in stages.items()}


def _lock_entry(entry: Mapping[str, Any]) -> LockEntry:
    params: dict[str, Any] = {}
    for values in (entry.get("params") or {}).values():
        params.update(values or {})
    deps = {d["path"]: _hash(d) for d in entry.get("deps") or []}
    return LockEntry(params, deps, tuple(o["path"] for o in entry.get("outs") or []))


def _hash(item: Mapping[str, Any]) -> str | None:
    return item.get("md5") or item.get("etag") or item.get("checksum") or item.get("hash")


def upstream(entries: Mapping[str, LockEntry], stage: str) -> list[str]:
    """The stages whose outs ``stage`` depends on, directly or through others (lock order)."""
    wanted: set[str] = set()
    todo = [stage]
    while todo:
        deps = entries[todo.pop()].deps
        for name, entry in entries.items():
            if name not in wanted and any(_feeds(o, d) for o in entry.outs for d in deps):
                wanted.add(name)
                todo.append(name)
    return [name for name in entries if name in wanted and name != stage]


def _feeds(out: str, dep: str) -> bool:
    return dep == out or dep.startswith(out.rstrip("/") + "/")


def experiments(root: Path) -> list[Experiment]:
    """The experiments of ``HEAD`` (``dvc exp show --json``), newest first."""
    head = git(root, "rev-parse", "HEAD").strip()
    found: list[Experiment] = []
    for commit in dvc_json(root, "exp", "show", "--no-fetch"):
        if commit.get("rev") != head:
            continue
        for group in commit.get("experiments") or []:
            for rev in group.get("revs") or []:
                data = rev.get("data") or {}
                params = ((data.get("params") or {}).get(PARAMS_FILE) or {}).get("data") or {}
                deps = {p: (d or {}).get("hash") for p, d in (data.get("deps") or {}).items()}
                found.append(Experiment(rev.get("name") or "", rev["rev"], params, deps))
    return found


def experiment_rev(root: Path, name: str) -> str:
    """The commit of experiment ``name`` of ``HEAD`` (DVC keeps it under ``refs/exps``)."""
    head = git(root, "rev-parse", "HEAD").strip()
    ref = f"refs/exps/{head[:2]}/{head[2:]}/{name}"
    return git(root, "rev-parse", "--verify", f"{ref}^{{commit}}").strip()


# ------------------------------------------------------------------------ params


def overridden_params(root: Path, set_params: Sequence[str] = ()) -> dict[str, Any]:
    """``params.yaml`` as ``dvc exp run -S`` would leave it (DVC's own Hydra override parser,
    applied to a scratch copy: the workspace is not touched)."""
    source = root / PARAMS_FILE
    if not set_params:
        return yaml.safe_load(source.read_text()) or {}
    from dvc.utils.hydra import apply_overrides

    with tempfile.TemporaryDirectory(prefix="trustir-params-") as tmp:
        scratch = Path(tmp) / PARAMS_FILE
        shutil.copyfile(source, scratch)
        apply_overrides(scratch, [_params_override(s) for s in set_params])
        return yaml.safe_load(scratch.read_text()) or {}


def _params_override(arg: str) -> str:
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
    """The value at ``a.b.c`` in nested params (``_MISSING`` where absent)."""
    node: Any = tree
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def value_changes(key: str, before: Any, after: Any) -> list[str]:
    """One line per changed leaf under ``key``: ``"llm.model: smollm2 -> other"``."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        lines: list[str] = []
        for sub in [*before, *(k for k in after if k not in before)]:
            lines += value_changes(
                f"{key}.{sub}", before.get(sub, _MISSING), after.get(sub, _MISSING)
            )
        return lines
    if before == after:
        return []
    return [f"{key}: {shown(key, before)} -> {shown(key, after)}"]


def shown(key: str, value: Any, width: int = 60) -> str:
    """A short display of a param value; ``***`` for keys that look like secrets."""
    if value is _MISSING:
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


# ------------------------------------------------------------------------ the decision


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
    stale = status_changes(root) + upstream_param_changes(root, work or head, target)
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
    lines = []
    for stage, changes in dvc_json(root, "status", STAGE, "--with-deps").items():
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
    root: Path, entries: Mapping[str, LockEntry], target: Mapping[str, Any]
) -> list[str]:
    """Changes that ``set_params`` make to the params of ``annotate``'s upstream stages (a new
    query set, a new index): target vs the workspace's ``params.yaml``."""
    if STAGE not in entries:
        return []
    current = overridden_params(root)
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


# ------------------------------------------------------------------------ metrics before/after


def metrics_at(root: Path, rev: str) -> dict[str, Any]:
    """Every ``metrics/*.json`` committed at ``rev``, by path (empty where there is none)."""
    listing = subprocess.run(
        ["git", "ls-tree", "--name-only", rev, f"{METRICS_DIR}/"],
        cwd=root,
        capture_output=True,
        text=True,
    ).stdout.split()
    found = {}
    for path in sorted(p for p in listing if p.endswith(".json")):
        text = git_show(root, rev, path)
        if text is not None:
            found[path] = json.loads(text)
    return found


def flatten(cells: Any, prefix: str = "") -> dict[str, Any]:
    """``{"run": {"llm_calls": 3}}`` -> ``{"run.llm_calls": 3}`` (leaves keep their order)."""
    if not isinstance(cells, Mapping):
        return {prefix: cells}
    flat: dict[str, Any] = {}
    for key, value in cells.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def fmt(value: Any) -> str:
    """A metric cell: ints as they are, floats with 4 decimals, missing or NaN as a dash."""
    if value is None or value is _MISSING or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def delta(before: Any, after: Any) -> str:
    """``after - before`` with its sign, for two numbers; a dash otherwise."""
    b, a = _number(before), _number(after)
    if a is None or b is None:
        return "–"
    d = a - b
    if d == 0:
        return "0"
    if isinstance(before, int) and isinstance(after, int):
        return f"{int(d):+d}"
    return f"{d:+.4f}"


def comparison_table(path: str, before: Any, after: Any) -> str:
    """One metrics file as ``| metric | before | after | Δ |`` rows."""
    b, a = flatten(before or {}), flatten(after or {})
    lines = [f"## {path}", "", "| metric | before | after | Δ |", "|---|---:|---:|---:|"]
    for key in [*b, *(k for k in a if k not in b)]:
        old, new = b.get(key, _MISSING), a.get(key, _MISSING)
        lines.append(f"| {key} | {fmt(old)} | {fmt(new)} | {delta(old, new)} |")
    return "\n".join(lines) + "\n"


def comparison_markdown(
    name: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    reasons: Sequence[str],
    revs: tuple[str, str],
) -> str:
    """The artifact: why the experiment ran, then every metrics file before/after/delta."""
    head, exp = (r[:7] for r in revs)
    lines = [
        f"# Re-annotation: experiment `{name}`",
        "",
        f"Baseline `HEAD` (`{head}`) -> experiment `{name}` (`{exp}`). "
        f"In a shell: `dvc exp show`, `dvc exp diff HEAD {name}`.",
        "",
        "Why:",
        *[f"- {reason}" for reason in reasons or ["forced"]],
        "",
    ]
    paths = [*before, *(p for p in after if p not in before)]
    tables = [comparison_table(p, before.get(p), after.get(p)) for p in paths]
    return "\n".join(lines) + "\n" + ("\n".join(tables) or "_no metrics/*.json_\n")


def paper_tables_markdown(root: Path, exp: str) -> str:
    """``trustir compare HEAD EXP``: the paper tables side by side with paired tests (a note
    instead when they cannot be read, so the artifact is still published)."""
    from trustir.report.compare import compare_markdown, compare_revisions
    from trustir.report.revision import RevisionError

    try:
        diffs, ra, rb = compare_revisions(root, "HEAD", exp)
    except RevisionError as exc:
        return f"_paper tables not compared: {exc}_\n"
    if not diffs:
        return "_no paper tables at HEAD or in the experiment_\n"
    return compare_markdown(diffs, ra, rb)


# ------------------------------------------------------------------------ tasks and the flow


def exp_run_command(set_params: Sequence[str], name: str) -> list[str]:
    """``dvc exp run [-S k=v ...] -n NAME``."""
    sets = [arg for s in set_params for arg in ("-S", s)]
    return ["dvc", "exp", "run", *sets, "-n", name]


def default_name(now: datetime | None = None) -> str:
    """``reannotate-YYYYmmdd-HHMMSS`` (UTC): unique per second, a valid git ref name."""
    return f"reannotate-{(now or datetime.now(UTC)):%Y%m%d-%H%M%S}"


@task(name="check-annotation-inputs", cache_policy=NO_CACHE, persist_result=False)
def check_changes(root: str, set_params: list[str]) -> Decision:
    """The decision as a task (its reasons in the task's log)."""
    logger = get_run_logger()
    decision = annotation_changes(root, set_params)
    for reason in decision.reasons:
        logger.info("changed: %s", reason)
    return decision


@task(name="dvc-exp-run", cache_policy=NO_CACHE, persist_result=False)
def run_experiment(root: str, set_params: list[str], name: str) -> str:
    """``dvc exp run`` as a task: DVC's output (and the stages') streamed to the run log."""
    logger = get_run_logger()
    args = exp_run_command(set_params, name)
    logger.info("running: %s", shlex.join(redacted_args(args)))
    run = run_command(args, Path(root), logger_sink(logger))
    if run.returncode != 0:
        raise ExperimentFailed(name, run.returncode, run.stderr_tail[-ERROR_TAIL_LINES:])
    logger.info("experiment '%s' done in %.1f s", name, run.seconds)
    return name


def run_ledger_markdown(repo: Path) -> str:
    """The annotate run's own counts (calls, cache hits, tokens, seconds): the git-ignored run
    ledger, since ``metrics/annotate.json`` holds results only."""
    from trustir.io.runlog import read_run_record

    counts = read_run_record("metrics/annotate.json", repo)
    if not counts:
        return ""
    text = ", ".join(f"{k} {v}" for k, v in counts.items())
    return f"\nThis run's annotate stage (`runs/metrics/annotate.json`): {text}\n"


@flow(name="trustir-reannotate")
def reannotate(
    root: str = ".",
    set_params: list[str] | None = None,
    name: str | None = None,
    force: bool = False,
) -> str | State:
    """Re-annotate ``root`` as the DVC experiment ``name`` when the annotator config or the
    query set changed since HEAD (``force``: even if not); ``set_params`` are ``dvc exp run -S``
    overrides. Returns the experiment's name; completes with "nothing to re-annotate" (and
    returns None) when there is nothing to do."""
    logger = get_run_logger()
    repo = Path(root).resolve()
    overrides = list(set_params or [])
    decision = check_changes(str(repo), overrides)
    if not (force or decision.needed):
        logger.info(decision.message())
        return Completed(message=decision.message())
    exp = run_experiment(str(repo), overrides, name or default_name())
    revs = (git(repo, "rev-parse", "HEAD").strip(), experiment_rev(repo, exp))
    before, after = metrics_at(repo, revs[0]), metrics_at(repo, revs[1])
    markdown = comparison_markdown(exp, before, after, decision.reasons, revs)
    markdown += run_ledger_markdown(repo)
    create_markdown_artifact(
        key=ARTIFACT_KEY,
        markdown=paper_tables_markdown(repo, exp) + "\n" + markdown,
        description=f"trustir compare HEAD {exp}, then every metrics file before/after",
    )
    return exp


def main(argv: Sequence[str] | None = None) -> int:
    """``python flows/reannotate.py [-S k=v ...] [-n NAME] [--force] [--root DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=None, help="the repo (default: the one holding cwd)")
    parser.add_argument("-S", "--set-param", action="append", default=[], dest="set_params")
    parser.add_argument("-n", "--name", default=None, help="experiment name")
    parser.add_argument("--force", action="store_true", help="run even if nothing changed")
    args = parser.parse_args(argv)
    from trustir.paths import repo_root

    result = reannotate(
        root=str(repo_root(args.root)), set_params=args.set_params, name=args.name, force=args.force
    )
    print(result or NOTHING)
    return 0


if __name__ == "__main__":
    sys.exit(main())
