"""Running ``dvc`` (and other commands) in the e2e tests' repo copies.

A plain module, not a conftest: tests/e2e has no ``__init__.py``, so pytest's default
"prepend" import mode puts it on ``sys.path`` and test modules ``from dvc_helpers import
run_dvc``. ``repo_env(repo)`` is the environment every command gets unless one is given.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

#: the venv running the tests: its ``dvc`` and ``python`` run the copies' stages.
VENV_BIN = Path(sys.executable).parent
#: offline and quiet: for every subprocess the tests start (DVC, stages, Prefect's server).
OFFLINE_ENV = {
    "DVC_NO_ANALYTICS": "1",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "OMP_WAIT_POLICY": "PASSIVE",
    "OMP_NUM_THREADS": "2",
}
#: how much of a failed command's stdout and stderr the AssertionError shows.
TAIL = 3000


def repo_env(repo: Path) -> dict[str, str]:
    """Environment for ``dvc``/stages in a copy: the venv's bin first on PATH, the copy's
    ``src/`` first on PYTHONPATH (not the editable install's), offline switches on."""
    env = {**os.environ, **OFFLINE_ENV}
    env["PATH"] = os.pathsep.join([str(VENV_BIN), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join([str(repo / "src"), env.get("PYTHONPATH", "")])
    return env


def run_cmd(
    repo: Path,
    *args: str,
    env: dict[str, str] | None = None,
    check: bool = True,
    timeout: float = 900,
) -> subprocess.CompletedProcess:
    """Run ``args`` in ``repo`` (env: :func:`repo_env` by default), capturing text output.

    With ``check``, a non-zero exit raises AssertionError with the tails of stdout and stderr.
    """
    proc = subprocess.run(
        args,
        cwd=repo,
        env=repo_env(repo) if env is None else env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} failed ({proc.returncode}) in {repo}:\n"
            f"{proc.stdout[-TAIL:]}\n{proc.stderr[-TAIL:]}"
        )
    return proc


def run_dvc(
    repo: Path,
    *args: str,
    env: dict[str, str] | None = None,
    check: bool = True,
    timeout: float = 900,
) -> subprocess.CompletedProcess:
    """``dvc *args`` in ``repo``, as :func:`run_cmd` runs it."""
    return run_cmd(repo, "dvc", *args, env=env, check=check, timeout=timeout)
