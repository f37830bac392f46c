"""A sentinel API key through a real stage (issue 19, "Security: API keys").

``dvc repro annotate`` on the tiny profile with the ``openai`` backend against a ``serve-llm``
process that demands the key as its bearer token (so the key demonstrably travels: without it
every request would be a 401 and no label ``ok``); then every file of the repo (outputs,
``dvc.lock``, DVC's cache and tmp, run ledgers, reports), the label store (with its WAL), the
stage's stdout/stderr and the server's log are searched for the key's bytes: nothing may match.
Prefect artifacts are not included: the flow would run the same stage (same outputs) behind a
Prefect server, too costly beside it on the shared cores.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import polars as pl
import pytest
from dvc_helpers import repo_env, run_dvc

from trustir.llm.testing import Replica, build_tiny_model

pytestmark = pytest.mark.slow

KEY_ENV = "TRUSTIR_SENTINEL_KEY"
#: made at run time, so that no source file (the test itself is copied into the repo) holds it
KEY = f"sk-sentinel-{secrets.token_hex(16)}"


def files_under(root: Path, skip: tuple[str, ...] = (".git",)) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p.relative_to(root).parts[0] not in skip]


def test_a_sentinel_key_appears_in_no_output_log_lock_or_label(
    tiny_repo_factory, param_setter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    model = build_tiny_model(tmp_path / "model")
    repo = tiny_repo_factory(tmp_path / "repo")
    store = tmp_path / "store" / "labels.sqlite"
    server_log = tmp_path / "serve-llm.log"
    with Replica(model, token=KEY, log_path=server_log) as server:
        for key, value in {
            "annotate.store": str(store),
            "annotate.judge": "relevance",
            "llm.backend": "openai",
            "llm.base_url": server.url,
            "llm.model": "tiny",
            "llm.api_key_env": KEY_ENV,
            "llm.score_mode": "completions",
            "llm.tokenizer": str(model),
            "llm.batch_size": 4,
        }.items():
            param_setter(repo, key, value)
        env = {**repo_env(repo), KEY_ENV: KEY, "NO_PROXY": "127.0.0.1,localhost"}
        proc = run_dvc(repo, "repro", "annotate", env=env, timeout=1500)
    labels = pl.read_parquet(repo / "data/annotate/labels.parquet")
    assert labels.height > 0 and set(labels["status"]) == {"ok"}  # the key reached the server
    (tmp_path / "dvc.out").write_text(proc.stdout + proc.stderr)

    scanned = [*files_under(repo), *files_under(store.parent), server_log, tmp_path / "dvc.out"]
    assert (repo / "dvc.lock") in scanned and store in scanned
    needle = KEY.encode()
    leaks = [str(p) for p in scanned if needle in p.read_bytes()]
    assert leaks == [], f"the key leaked into {leaks}"
    assert len(scanned) > 20  # outputs, lock, cache, ledger, store, logs were all read
    assert os.environ.get(KEY_ENV) is None  # the test never exported it beyond the stage
    print(f"\nsentinel key: {len(scanned)} files scanned, 0 matches")
