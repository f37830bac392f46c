"""No-op ``dvc repro`` vs ``dvc status`` on an up-to-date pipeline (the tiny profile, temp copy).

A second ``dvc repro`` must cost about what checking the status costs; prints the ratio.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import best_times_interleaved, report

ROOT = Path(__file__).resolve().parents[1]
SKIP = {".venv", ".git", "data", "metrics", "reports", ".prefect", ".pytest_cache", ".ruff_cache"}


def sh(cmd: list[str], cwd: Path, env: dict[str, str]) -> str:
    return subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout  # noqa: S603  dvc with fixed argv from the benchmark


def main() -> None:
    from trustir.profiles import apply_profile

    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "DVC_NO_ANALYTICS": "1",
        "HF_HUB_OFFLINE": "1",
    }
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        shutil.copytree(
            ROOT,
            repo,
            ignore=lambda d, names: (
                [n for n in names if n in SKIP and Path(d) == ROOT]
                + [n for n in names if n == "cache" and Path(d).name == ".dvc"]
            ),
        )
        apply_profile(repo / "params.yaml", "tiny", repo)
        sh(["git", "init", "-q"], repo, env)
        sh(["git", "add", "-A"], repo, env)
        sh(["git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "b"], repo, env)
        sh(["dvc", "repro", "-q"], repo, env)
        out = sh(["dvc", "repro"], repo, env)
        assert "up to date" in out, out
        t_repro, t_status = best_times_interleaved(
            lambda: sh(["dvc", "repro"], repo, env), lambda: sh(["dvc", "status"], repo, env), 6
        )
    report("no-op", t_repro, t_status, "dvc status")


if __name__ == "__main__":
    main()
