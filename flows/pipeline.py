"""A monitored run of the DVC DAG: one Prefect task per DVC stage, each ``dvc repro -s STAGE``.

DVC stays the source of truth (what is stale, what is cached, the lock file); Prefect adds the
run history, per-stage logs and states, and the metrics table as an artifact. Stages run one at
a time in the order ``dvc repro`` would run them (``foreach``/``matrix`` items such as
``train@a`` are stages of their own). A stage DVC skips is reported as a Completed state named
"Cached" (Prefect 3 has no Skipped state); a failing stage fails the flow with that stage's own
error and the stages after it do not run. After a successful run the metrics (``metrics/*.json``)
are published as the Markdown artifact ``trustir-metrics``.

Watch it in the Prefect UI (from the repo root, with the venv active)::

    # terminal 1: a local Prefect server, its database under the project
    PREFECT_HOME=$PWD/.prefect prefect server start
    # terminal 2: run the DAG as a flow, reporting to that server
    PREFECT_HOME=$PWD/.prefect PREFECT_API_URL=http://127.0.0.1:4200/api python flows/pipeline.py

then open http://127.0.0.1:4200. It runs the DAG of the repo holding the current directory;
without ``PREFECT_API_URL`` it runs against a temporary local server. ``trustir pipeline
[STAGE...] [--force]`` runs the same flow (only those stages; ``--force`` re-runs cached ones).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, State

from trustir.stage import BAD_INPUT_EXIT

log = logging.getLogger(__name__)

METRICS_ARTIFACT = "trustir-metrics"
STAGES_ARTIFACT = "trustir-stages"
#: how many of a failing stage's last stderr lines go into the error message.
ERROR_TAIL_LINES = 25
#: what DVC prints (on stdout) when it does not run a stage's command.
_CACHED = (
    (re.compile(r"^Stage '.+' didn't change, skipping"), "up to date"),
    (re.compile(r"^Stage '.+' is cached - skipping run"), "restored from the run cache"),
)


@dataclass(frozen=True)
class StageRun:
    """What one ``dvc repro -s`` did: ran the command, or reused DVC's cache (and why)."""

    stage: str
    cached: bool
    detail: str  # "ran", "up to date", "restored from the run cache"
    seconds: float


#: DVC's last words when a stage's command fails: "... failed to run: CMD, exited with N".
_CMD_EXIT = re.compile(r"failed to run: .*, exited with (-?\d+)\s*$")


class StageFailed(RuntimeError):
    """A DVC stage that exited non-zero; the message ends with the tail of its stderr.

    ``command_exit`` is the exit status of the stage's own command (None when DVC failed
    before or around it); ``transient`` is False when that status is
    :data:`trustir.stage.BAD_INPUT_EXIT` (bad input: a re-run cannot help, never retried).
    """

    def __init__(self, stage: str, returncode: int, stderr_tail: Iterable[str]) -> None:
        lines = [line for line in stderr_tail if line.strip()]
        tail = "\n".join(lines)
        super().__init__(f"stage '{stage}' failed (dvc repro exit {returncode}):\n{tail}")
        self.stage, self.returncode = stage, returncode
        found = [m for line in lines if (m := _CMD_EXIT.search(line))]
        self.command_exit = int(found[-1].group(1)) if found else None
        self.transient = self.command_exit != BAD_INPUT_EXIT


# ------------------------------------------------------------------------ the DAG, from DVC


def dag_stages(root: str | Path = ".", only: Iterable[str] | None = None) -> list[str]:
    """The stages ``dvc repro`` would run in ``root``, in its order, as DVC addresses them.

    ``only`` keeps just these targets (stage names, or a ``foreach``/``matrix`` group name for
    all its items), still in DAG order; an unknown name raises DVC's own error.
    """
    from dvc.repo import Repo
    from dvc.repo.reproduce import collect_stages, get_active_graph, plan_repro

    # DVC resolves targets such as "dvc.yaml" against the working directory (restored after).
    with contextlib.chdir(root), Repo(".") as repo:
        graph = get_active_graph(repo.index.graph)
        order = [s.addressing for s in plan_repro(graph, collect_stages(repo, ["dvc.yaml"]))]
        if only is None:
            return order
        wanted = {s.addressing for s in collect_stages(repo, list(only))}
    return [s for s in order if s in wanted]


# ------------------------------------------------------------------------ one stage


def stage_env(root: Path) -> dict[str, str]:
    """The environment of a stage's subprocess: this interpreter's venv first on PATH (so
    ``dvc`` and the stages' ``python`` are the project's), the repo's ``src/`` first on
    PYTHONPATH (the stages import the code DVC hashes as their deps), unbuffered output."""
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")]).rstrip(os.pathsep)
    src = root / "src"
    if src.is_dir():
        env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        )
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("DVC_NO_ANALYTICS", "1")
    return env


def repro_command(stage: str, force: bool = False) -> list[str]:
    """``dvc repro [-f] -s STAGE``: this stage only; its upstream ran before it."""
    return ["dvc", "repro", *(["-f"] if force else []), "-s", stage]


def _pump(stream: IO[str], sink: Callable[[str], None]) -> None:
    for line in stream:
        sink(line.rstrip("\n"))


@dataclass(frozen=True)
class CommandRun:
    """A finished subprocess: exit status, every stdout line, the last stderr lines, seconds."""

    returncode: int
    stdout: list[str]
    stderr_tail: list[str]
    seconds: float


def run_command(
    args: list[str], root: Path, log: Callable[[str, str], None] | None = None
) -> CommandRun:
    """Run ``args`` in ``root`` with :func:`stage_env`; stream each output line to
    ``log(stream, line)`` as it comes. Never raises on a non-zero exit (see ``returncode``)."""
    log = log or (lambda _stream, _line: None)
    stdout: list[str] = []
    stderr: deque[str] = deque(maxlen=200)
    start = time.perf_counter()
    proc = subprocess.Popen(  # noqa: S603  dvc repro -s <stage from dvc.yaml>, argv list, no shell
        args,
        cwd=root,
        env=stage_env(root),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        bufsize=1,
    )
    assert proc.stdout is not None and proc.stderr is not None  # noqa: S101  type narrowing: Popen(stdout=PIPE, stderr=PIPE) sets both
    readers = [
        threading.Thread(target=_pump, args=(proc.stdout, _tee(stdout, "stdout", log))),
        threading.Thread(target=_pump, args=(proc.stderr, _tee(stderr, "stderr", log))),
    ]
    for reader in readers:
        reader.start()
    try:
        returncode = proc.wait()
    finally:  # interrupted or cancelled: do not leave the command running
        if proc.poll() is None:
            proc.terminate()
            proc.wait()
        for reader in readers:
            reader.join()
    return CommandRun(returncode, stdout, list(stderr), time.perf_counter() - start)


def run_stage(
    stage: str, root: Path, force: bool = False, log: Callable[[str, str], None] | None = None
) -> StageRun:
    """Run ``dvc repro -s STAGE`` in ``root``; stream each output line to ``log(stream, line)``.

    Returns a :class:`StageRun`; raises :class:`StageFailed` (with the stderr tail) on failure.
    """
    run = run_command(repro_command(stage, force), root, log)
    if run.returncode != 0:
        raise StageFailed(stage, run.returncode, run.stderr_tail[-ERROR_TAIL_LINES:])
    detail = next((why for line in run.stdout for rx, why in _CACHED if rx.match(line)), "ran")
    return StageRun(stage, detail != "ran", detail, run.seconds)


def _tee(
    keep: list[str] | deque[str], stream: str, log: Callable[[str, str], None]
) -> Callable[[str], None]:
    def sink(line: str) -> None:
        keep.append(line)
        log(stream, line)

    return sink


def logger_sink(logger: Any) -> Callable[[str, str], None]:
    """Send each line of a command's output to ``logger`` (DVC's ERROR/WARNING lines as such)."""

    def log(_stream: str, line: str) -> None:
        if not line.strip():
            return
        if line.startswith("ERROR"):
            logger.error(line)
        elif line.startswith("WARNING"):
            logger.warning(line)
        else:
            logger.info(line)

    return log


def retry_transient(_task: Any, _task_run: Any, state: State) -> bool:
    """Prefect's ``retry_condition_fn``: retry a failed stage unless it failed on bad input."""
    err = state.result(raise_on_failure=False)
    return not isinstance(err, StageFailed) or err.transient


@dataclass(frozen=True)
class Retries:
    """How often a stage task is re-run after a transient failure, and the wait between."""

    retries: int = 0
    delay_s: float = 0.0

    @classmethod
    def of(cls, root: Path, retries: int | None = None, delay_s: float | None = None) -> Retries:
        """The ``scale`` params of ``root``'s params.yaml, overridden by any given value."""
        from trustir.config import load_sections, read_params_file
        from trustir.scale.params import ScaleParams

        path = root / "params.yaml"
        raw = read_params_file(path) if path.is_file() else {}
        scale = load_sections(raw, (ScaleParams,), origin="params.yaml", stage="pipeline").scale
        return cls(
            scale.retries if retries is None else retries,
            scale.retry_delay_s if delay_s is None else delay_s,
        )


@task(cache_policy=NO_CACHE, persist_result=False, retry_condition_fn=retry_transient)
def repro_stage(stage: str, root: str, force: bool = False) -> State:
    """One DVC stage as a Prefect task: Completed ("Cached" when DVC skipped it) or Failed."""
    logger = get_run_logger()  # bound to this task run; the reader threads log through it
    run = run_stage(stage, Path(root), force, logger_sink(logger))
    if run.cached:
        logger.info("stage '%s' cached: %s", stage, run.detail)
        return Completed(name="Cached", message=f"cached: {run.detail}", data=run)
    return Completed(message=f"ran in {run.seconds:.1f} s", data=run)


# ------------------------------------------------------------------------ metrics artifact


def metrics_markdown(root: str | Path) -> str:
    """Every ``metrics/<name>.json`` as a Markdown table (through ``trustir.report`` when the
    table's layout file ``data/*/<name>.table.json`` exists: title, best values, provenance)."""
    root = Path(root)
    files = sorted((root / "metrics").glob("*.json"))
    if not files:
        return "_no metrics yet (metrics/*.json)_\n"
    return "\n".join(_metrics_table(root, f) for f in files)


def _metrics_table(root: Path, path: Path) -> str:
    """One metrics file as Markdown: through its saved layout when it has one. A layout that
    cannot be read (a stage mid-write, a stale layout) is no reason to fail the flow's artifact,
    but it is never silent: the plain table then comes under a note naming the failure, and the
    failure is logged."""
    layouts = sorted(root.glob(f"data/*/{path.stem}.table.json"))
    note = ""
    if layouts:
        from trustir.report import load_table

        try:
            return load_table(path.parent, layouts[0].parent, path.stem).to_markdown()
        except Exception as exc:  # any failure to render the layout: reported, plain fallback
            why = f"{type(exc).__name__}: {exc}"
            log.warning("metrics artifact: the layout of %s is unreadable (%s)", path.name, why)
            note = f"_layout {layouts[0].relative_to(root)} unreadable ({why}); plain table:_\n\n"
    return note + plain_table(path.stem, json.loads(path.read_text()))


def plain_table(name: str, cells: dict[str, Any]) -> str:
    """``{row: {measure: value}}`` as a Markdown table (flat ``{measure: value}`` as one row)."""
    if cells and not all(isinstance(v, dict) for v in cells.values()):
        cells = {name: cells}
    columns: list[str] = []
    for row in cells.values():
        columns += [c for c in row if c not in columns]
    lines = [f"## {name}", "", "| | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1)]
    lines[-1] += "|"
    for row, values in cells.items():
        lines.append(f"| {row} | " + " | ".join(_fmt(values.get(c)) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def stages_markdown(runs: list[StageRun]) -> str:
    """The run's stages: what DVC did for each and how long it took."""
    lines = ["| stage | result | seconds |", "|---|---|---|"]
    lines += [f"| {r.stage} | {r.detail} | {r.seconds:.1f} |" for r in runs]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------ the flow


@flow(name="trustir-pipeline")
def pipeline(
    root: str = ".",
    stages: list[str] | None = None,
    force: bool = False,
    profile: str | None = None,
    retries: int | None = None,
    retry_delay_s: float | None = None,
) -> dict:
    """Run the DVC DAG in ``root`` stage by stage (``stages``: only these, in DAG order;
    ``force``: re-run even cached stages; ``profile``: first merge ``profiles/<profile>.yaml``
    into params.yaml, as ``trustir profile NAME --write`` does). A stage failing transiently is
    re-run up to ``retries`` times, ``retry_delay_s`` apart (default: params ``scale``); one
    failing on bad input never is. Returns ``{stage: "ran" | "cached"}``."""
    logger = get_run_logger()
    repo = str(Path(root).resolve())
    if profile:
        from trustir.profiles import apply_profile

        apply_profile(Path(repo) / "params.yaml", profile, repo)
        logger.info("params.yaml: applied profile %r", profile)
    retry = Retries.of(Path(repo), retries, retry_delay_s)
    order = dag_stages(repo, stages)
    logger.info("DVC stages, in order: %s (retries %d)", ", ".join(order), retry.retries)
    runs: list[StageRun] = []
    for stage in order:
        task_ = repro_stage.with_options(
            task_run_name=stage, retries=retry.retries, retry_delay_seconds=retry.delay_s
        )
        state = task_(stage, repo, force, return_state=True)
        runs.append(state.result())  # a failed stage raises its StageFailed here
    create_markdown_artifact(
        key=STAGES_ARTIFACT, markdown=stages_markdown(runs), description="DVC stages of this run"
    )
    create_markdown_artifact(
        key=METRICS_ARTIFACT, markdown=metrics_markdown(repo), description="metrics/*.json"
    )
    return {r.stage: "cached" if r.cached else "ran" for r in runs}


def main(argv: list[str] | None = None) -> int:
    """``python flows/pipeline.py [STAGE...] [--force]`` (what ``trustir pipeline`` runs)."""
    import argparse

    from trustir.paths import repo_root

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stages", nargs="*", help="only these stages (default: all, in DAG order)")
    parser.add_argument("--force", action="store_true", help="re-run stages even if cached")
    parser.add_argument("--profile", help="merge profiles/PROFILE.yaml into params.yaml first")
    parser.add_argument("--retries", type=int, help="default: params scale.retries")
    args = parser.parse_args(argv)
    pipeline(
        root=str(repo_root()),
        stages=args.stages or None,
        force=args.force,
        profile=args.profile,
        retries=args.retries,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
