"""Serve the nightly re-annotation: the ``trustir-reannotate`` flow as a cron-scheduled deployment.

``python flows/deploy.py`` registers the deployment ``trustir-reannotate/nightly-reannotate``
(cron ``0 3 * * *``, UTC, unless ``--cron``/``--timezone`` say otherwise) with the Prefect
server named by ``PREFECT_API_URL`` and then serves it: the process stays up, polls the server,
and runs each scheduled or triggered run as a subprocess (``Ctrl-C`` stops it and pauses the
schedule). Each run re-annotates the repo (``--root``, default: the repo holding this file) as a
DVC experiment when the annotator config or the query set changed (``flows/reannotate.py``).
The experiment's results are applied to that repo's workspace, as ``dvc exp run`` does: serve
from a clone kept for the scheduler (set up with ``make demo``) if you edit files in yours.

From the repo root, with the venv active::

    # terminal 1: a local Prefect server (UI and API on http://127.0.0.1:4200)
    PREFECT_HOME=$PWD/.prefect prefect server start
    # terminal 2: register and serve the deployment (runs until Ctrl-C)
    PREFECT_HOME=$PWD/.prefect PREFECT_API_URL=http://127.0.0.1:4200/api python flows/deploy.py
    # terminal 3: trigger a run now instead of waiting for 03:00
    PREFECT_API_URL=http://127.0.0.1:4200/api \\
        prefect deployment run 'trustir-reannotate/nightly-reannotate'
    PREFECT_API_URL=http://127.0.0.1:4200/api prefect deployment run \\
        'trustir-reannotate/nightly-reannotate' --param 'set_params=["annotate.max_queries=80"]'

then watch the runs (logs, the ``dvc exp run`` output, the ``trustir-reannotate`` artifact with
the metrics before/after) at http://127.0.0.1:4200 (Deployments, Runs, Artifacts). Options:
``--cron "0 */6 * * *"``, ``--timezone Europe/Paris``, ``--name``, ``--root DIR``, and
``-S key=value`` (repeatable) for ``set_params`` every scheduled run passes to ``dvc exp run``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: the repo this file belongs to: runs load ``flows/reannotate.py`` relative to it.
PROJECT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: `flows` is importable from the repo root
    sys.path.insert(0, str(PROJECT))
from flows.reannotate import reannotate  # noqa: E402

DEPLOYMENT_NAME = "nightly-reannotate"
DEFAULT_CRON = "0 3 * * *"
DEFAULT_TIMEZONE = "UTC"


def full_name(name: str = DEPLOYMENT_NAME) -> str:
    """``flow/deployment``, as ``prefect deployment run`` and ``run_deployment`` name it."""
    return f"{reannotate.name}/{name}"


def deployment_parameters(root: str | Path, set_params: Sequence[str] = ()) -> dict[str, Any]:
    """The default parameters of every run: the repo, and ``set_params`` when there are any."""
    params: dict[str, Any] = {"root": str(Path(root).resolve())}
    if set_params:
        params["set_params"] = list(set_params)
    return params


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cron", default=DEFAULT_CRON, help=f"default: {DEFAULT_CRON!r}")
    parser.add_argument("--timezone", default=DEFAULT_TIMEZONE, help="IANA name; default UTC")
    parser.add_argument("--name", default=DEPLOYMENT_NAME, help="the deployment's name")
    parser.add_argument("--root", default=str(PROJECT), help="the repo to re-annotate")
    parser.add_argument(
        "-S", "--set-param", action="append", default=[], dest="set_params", metavar="K=V"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Register the deployment and serve it until interrupted (``flow.serve``)."""
    from prefect.schedules import Cron

    args = parse_args(argv)
    # served runs load the flow from its file relative to the serving process's directory
    os.chdir(PROJECT)
    reannotate.serve(
        name=args.name,
        schedule=Cron(args.cron, timezone=args.timezone),
        parameters=deployment_parameters(args.root, args.set_params),
        description="Re-annotate as a DVC experiment when the annotator or the queries changed",
        tags=["trustir", "annotate"],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
