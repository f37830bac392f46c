"""Re-annotation as a DVC experiment: when the annotator or the query set changed, re-run it.

The flow ``trustir-reannotate`` asks ``trustir.versions.decision`` what changed for the
``annotate`` stage since the last committed run (its params with ``set_params`` applied as
``dvc exp run -S`` applies them, its deps' hashes, ``dvc status --with-deps``). Nothing changed
(and not ``force``), or an experiment of this commit already holds exactly these inputs: the run
completes with the message "nothing to re-annotate". Otherwise one task runs ``dvc exp run
[-S k=v ...] -n NAME`` (output streamed to the run's log): ``annotate`` and everything
downstream of it run as the experiment NAME (default ``reannotate-<UTC time>``), whose results
DVC also applies to the workspace. Labels come from the persistent label store, so only new
items cost LLM calls. Then ``trustir compare HEAD NAME`` and every ``metrics/*.json`` before,
after and delta are published as the Markdown artifact ``trustir-reannotate``. Values of
secret-looking params are shown as ``***`` in logs and artifacts.

Run it once (from the repo root, with the venv active)::

    python flows/reannotate.py                       # re-annotate if something changed
    python flows/reannotate.py -S annotate.max_queries=80 -n more-queries
    python flows/reannotate.py --force               # an experiment even if nothing changed

and nightly with ``flows/deploy.py``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, State

from trustir.versions.before_after import comparison_markdown, paper_tables_markdown
from trustir.versions.decision import NOTHING, Decision, annotation_changes
from trustir.versions.overrides import redacted_args
from trustir.versions.repo import (
    ExperimentFailed,
    default_name,
    exp_run_command,
    experiment_rev,
    git,
    metrics_at,
)

if __package__ in (None, ""):  # run as a script: `flows` is importable from the repo root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from flows.pipeline import ERROR_TAIL_LINES, logger_sink, run_command  # noqa: E402

ARTIFACT_KEY = "trustir-reannotate"


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
