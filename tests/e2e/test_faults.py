"""Faults (issue 19): SIGKILL during annotate, a training stage and a merge, then a re-run;
two ``dvc repro`` at once in one workspace. Tiny profile; each kill hits the whole process
group (DVC and its stage, as a crash would).

After each kill: DVC sees the stage as not done (``dvc status`` names it), no half-written
output is taken as good (the re-run rebuilds it), and no finished label is lost (annotate's
re-run serves every label the store held at the kill from the store: cache hits, no calls).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from dvc_helpers import repo_env, run_dvc

pytestmark = pytest.mark.slow


def start_dvc(repo: Path, *args: str) -> subprocess.Popen:
    """``dvc *args`` in its own process group (so a kill reaches the stage it runs)."""
    return subprocess.Popen(
        ["dvc", *args],
        cwd=repo,
        env=repo_env(repo),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def kill_when(proc: subprocess.Popen, ready: Callable[[], bool], timeout: float = 900) -> None:
    """SIGKILL ``proc``'s process group as soon as ``ready()``; fail if it ends first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if ready():
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return
        if proc.poll() is not None:
            pytest.fail(f"finished before the kill:\n{proc.stdout.read()[-3000:]}")
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    pytest.fail("the kill condition never held")


def store_rows(store: Path) -> int:
    if not store.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM labels").fetchone()[0]
    except sqlite3.OperationalError:  # the table is not created yet
        return 0


def not_done(repo: Path, stage: str) -> bool:
    out = run_dvc(repo, "status", stage).stdout
    return f"{stage}:" in out


def subfolders(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_dir()] if folder.is_dir() else []


def test_sigkill_during_annotate_keeps_every_finished_label(
    tiny_repo_factory, param_setter, tmp_path
):
    repo = tiny_repo_factory(tmp_path / "repo")
    store = tmp_path / "labels.sqlite"
    param_setter(repo, "annotate.store", str(store))
    param_setter(repo, "annotate.flush_every", 2)
    run_dvc(repo, "repro", "index")
    proc = start_dvc(repo, "repro", "annotate")
    kill_when(proc, lambda: store_rows(store) >= 4)
    kept = store_rows(store)
    assert not_done(repo, "annotate")
    assert not (repo / "data/annotate/labels.parquet").exists()  # nothing half-written as good
    run_dvc(repo, "repro", "annotate")
    counts = json.loads((repo / "runs/metrics/annotate.json").read_text())
    assert counts["cache_hits"] >= kept  # every label finished before the kill was reused
    labels = pl.read_parquet(repo / "data/annotate/labels.parquet")
    assert set(labels["status"]) == {"ok"} and labels.height >= kept
    assert store_rows(store) >= labels.height
    print(
        f"annotate killed with {kept} labels stored; re-run: {counts['cache_hits']} cache hits, "
        f"{counts['llm_calls']} calls, {labels.height} labels, all ok"
    )
    assert not not_done(repo, "annotate")


def test_sigkill_during_training_and_merge_reruns_them(tiny_repo_factory, tmp_path):
    repo = tiny_repo_factory(tmp_path / "repo")
    experts = repo / "data/boom/experts"
    run_dvc(repo, "repro", "multitask_tasks")
    proc = start_dvc(repo, "repro", "boom_experts")
    kill_when(proc, lambda: len(subfolders(experts)) >= 1)  # one expert saved, others not
    print(f"boom_experts killed with {len(subfolders(experts))} expert folder(s) written")
    assert not_done(repo, "boom_experts")
    merge = repo / "data/boom/merge"
    proc = start_dvc(repo, "repro", "boom_merge")  # retrains every expert, then merges
    kill_when(proc, lambda: len(subfolders(merge)) >= 1)
    print(f"boom_merge killed with {len(subfolders(merge))} merge folder(s) written")
    assert not_done(repo, "boom_merge")
    assert not not_done(repo, "boom_experts")  # its re-run completed before the merge started
    run_dvc(repo, "repro", "boom_merge")
    assert not not_done(repo, "boom_merge")
    for method in subfolders(merge):  # every merged model complete and loadable
        assert (method / "metrics.json").is_file(), method


def test_two_repros_at_once_second_fails_fast_with_dvcs_lock_message(tiny_repo_factory, tmp_path):
    repo = tiny_repo_factory(tmp_path / "repo")
    first = start_dvc(repo, "repro", "validate")
    lines: list[str] = []
    while True:  # wait until the first holds the lock and runs a stage
        line = first.stdout.readline()
        lines.append(line)
        if "Running stage" in line or not line:
            break
    t0 = time.monotonic()
    second = run_dvc(repo, "repro", "validate", check=False, timeout=120)
    waited = time.monotonic() - t0
    out = first.communicate(timeout=900)[0]
    message = second.stderr + second.stdout
    assert second.returncode != 0
    # DVC's own words: the repo lock ("Unable to acquire lock") or, while a stage runs, the
    # rwlock of its outputs ("... is busy, it is being blocked by: (PID n: dvc repro ...)")
    assert "Unable to acquire lock" in message or "is busy, it is being blocked by" in message
    assert f"PID {first.pid}" in message or "Unable to acquire lock" in message
    assert waited < 30, waited
    print(f"second dvc repro refused after {waited:.1f} s: {message.strip()[:160]}")
    assert first.returncode == 0, "".join(lines) + out
    assert not not_done(repo, "validate")
