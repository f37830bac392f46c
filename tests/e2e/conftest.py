"""End-to-end fixtures: a temp git+DVC copy of the repo on a profile, and one Prefect test server.

``tiny_repo`` (one per session) is a copy of the project in a new git repo with one commit, the
``tiny`` profile merged into its params.yaml, no DVC outputs, lock or cache; run DVC in it with
``tiny_env``, e.g. ``run_dvc(tiny_repo, "repro")`` (``dvc_helpers``; ``tiny_env`` is its default).
``tiny_repo_factory(dest)`` makes more never-run copies, for tests that need their own;
``repo_maker(dest, profile, source)`` builds one from another source folder or profile.
``tiny_reproduced`` is ``tiny_repo`` after one full ``dvc repro`` (once per session): the paper
tests read their tables from it and compare them with ``golden.json`` (``golden.check``).
``prefect_harness`` starts Prefect's temporary server once per session (it takes 6-20 s).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dvc_helpers import OFFLINE_ENV, repo_env

from trustir.profiles import apply_profile

REPO_ROOT = Path(__file__).resolve().parents[2]
#: never copied: environments, VCS data, DVC outputs, caches and run state.
EXCLUDED = (
    ".venv",
    ".git",
    "data",
    ".dvc/cache",
    ".dvc/tmp",
    ".dvc/config.local",
    ".prefect",
    "metrics",
    "reports",
    "dvc.lock",
)
_GIT_ID = [
    "-c",
    "user.name=trustir tests",
    "-c",
    "user.email=tests@trustir.invalid",
    "-c",
    "commit.gpgsign=false",
]


def _excluded(rel: str) -> bool:
    return any(rel == e or rel.startswith(e + "/") for e in EXCLUDED)


def project_files(root: Path = REPO_ROOT) -> list[str]:
    """The project's files, relative to ``root``: git's tracked and untracked-not-ignored files
    (``git ls-files``), less :data:`EXCLUDED`."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode()
    files = {f for f in out.split("\0") if f}
    return sorted(f for f in files if not _excluded(f) and (root / f).is_file())


def _run(args: list[str], cwd: Path) -> None:
    proc = subprocess.run(args, cwd=cwd, env=repo_env(cwd), capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed in {cwd}:\n{proc.stdout}\n{proc.stderr}")


def make_repo(dest: Path, profile: str | None = "tiny", source: Path = REPO_ROOT) -> Path:
    """Copy the project into ``dest``, merge ``profile`` into its params.yaml, ``git init`` and
    commit it, with DVC's analytics and update check off. Returns ``dest``."""
    for rel in project_files(source):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / rel, target)
    if profile:
        apply_profile(dest / "params.yaml", profile)
    _run(["git", "-c", "init.defaultBranch=main", "init", "-q"], dest)
    if not (dest / ".dvc").is_dir():
        _run(["dvc", "init", "-q"], dest)
    _run(["dvc", "config", "core.analytics", "false"], dest)
    _run(["dvc", "config", "core.check_update", "false"], dest)
    _run(["git", "add", "-A"], dest)
    _run(["git", *_GIT_ID, "commit", "-q", "-m", f"trustir, profile {profile or 'none'}"], dest)
    return dest


def set_param(repo: Path, dotted: str, value: object, commit: bool = False) -> None:
    """Set one params.yaml key of ``repo`` (``"annotate.store"``), optionally committing it."""
    import yaml

    params = yaml.safe_load((repo / "params.yaml").read_text())
    *parents, leaf = dotted.split(".")
    node = params
    for key in parents:
        node = node[key]
    node[leaf] = value
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    if commit:
        _run(["git", "add", "params.yaml"], repo)
        _run(["git", *_GIT_ID, "commit", "-q", "-m", f"set {dotted}"], repo)


@pytest.fixture(scope="session")
def repo_maker() -> Callable[..., Path]:
    """:func:`make_repo`, for tests that build a repo from other sources or profiles."""
    return make_repo


@pytest.fixture(scope="session")
def tiny_repo_factory(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], Path]:
    """``factory(dest) -> dest``: a fresh, never-run tiny repo at ``dest`` (a copy of one
    pristine repo built once per session)."""
    template = make_repo(tmp_path_factory.mktemp("tiny-template") / "repo")
    # LLM labels of test repos go to a session store, never the user's label cache
    store = tmp_path_factory.mktemp("labels") / "labels.sqlite"
    set_param(template, "annotate.store", str(store), commit=True)
    set_param(template, "calibration.store", str(store), commit=True)
    set_param(template, "lvlm.store", str(store), commit=True)

    def factory(dest: Path) -> Path:
        shutil.copytree(template, dest, symlinks=True)
        return dest

    return factory


@pytest.fixture(scope="session")
def tiny_repo(
    tiny_repo_factory: Callable[[Path], Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A git+DVC copy of the project on the tiny profile, shared by the session (tests that
    must start from a never-run repo take their own from ``tiny_repo_factory``)."""
    return tiny_repo_factory(tmp_path_factory.mktemp("tiny") / "repo")


@pytest.fixture(scope="session")
def tiny_reproduced(tiny_repo: Path) -> Path:
    """``tiny_repo`` after ``dvc repro`` of the whole DAG, once per session. Its parent folder
    has no ``shared/``: the default profile must read nothing outside the repo (issue 20)."""
    from dvc_helpers import run_dvc

    assert not (tiny_repo.parent / "shared").exists()
    run_dvc(tiny_repo, "repro", timeout=3600)
    return tiny_repo


@pytest.fixture(scope="session")
def tiny_env(tiny_repo: Path) -> dict[str, str]:
    """The environment to run ``dvc`` (and so the stages) in ``tiny_repo``."""
    return repo_env(tiny_repo)


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Prefect's temporary server and database, once per session; PREFECT_HOME in tmp and the
    offline switches set for the flows' subprocesses."""
    home = tmp_path_factory.mktemp("prefect-home")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in {**OFFLINE_ENV, "PREFECT_HOME": str(home)}.items():
            mp.setenv(key, value)
        from prefect.settings import (
            PREFECT_HOME,
            PREFECT_SERVER_ANALYTICS_ENABLED,
            PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
            temporary_settings,
        )
        from prefect.testing.utilities import prefect_test_harness

        settings = {
            PREFECT_HOME: home,
            PREFECT_SERVER_ANALYTICS_ENABLED: False,
            PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: 120,
        }
        with temporary_settings(updates=settings), prefect_test_harness(server_startup_timeout=120):
            yield


@pytest.fixture(scope="session")
def param_setter() -> Callable[..., None]:
    """:func:`set_param`: ``param_setter(repo, "annotate.max_queries", 8, commit=False)``."""
    return set_param
