"""A real local Prefect server (``prefect server start``) and workers, as subprocesses.

A plain module like ``dvc_helpers``: ``with local_prefect(home) as api:`` starts a server on a
free loopback port with its database under ``home``, waits for ``/api/health``, yields the API
URL, and stops it (and any worker started through :func:`start_worker`) on the way out.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from dvc_helpers import OFFLINE_ENV, VENV_BIN


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on (now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prefect_env(home: Path, api: str | None = None) -> dict[str, str]:
    """The environment of the server, the CLI and workers: PREFECT_HOME, offline, the venv."""
    env = {**os.environ, **OFFLINE_ENV, "PREFECT_HOME": str(home)}
    env["PATH"] = os.pathsep.join([str(VENV_BIN), env.get("PATH", "")])
    if api:
        env["PREFECT_API_URL"] = api
    return env


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def local_prefect(home: Path, startup_s: float = 180) -> Iterator[str]:
    """A ``prefect server start`` on a free port; yields its API URL (``.../api``)."""
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    log = (home / "server.log").open("w")
    env = prefect_env(home) | {"PREFECT_UI_API_URL": api}  # the UI's calls go to this server
    proc = subprocess.Popen(
        ["prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + startup_s
        while True:
            try:
                with urllib.request.urlopen(f"{api}/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"prefect server did not start:\n{(home / 'server.log').read_text()[-3000:]}"
                )
            time.sleep(0.5)
        yield api
    finally:
        _stop(proc)
        log.close()


@contextlib.contextmanager
def worker(home: Path, api: str, pool: str, cwd: Path) -> Iterator[subprocess.Popen]:
    """``prefect worker start --pool POOL`` (its log in ``home/worker-POOL.log``), stopped after."""
    log = (home / f"worker-{pool}.log").open("w")
    proc = subprocess.Popen(
        ["prefect", "worker", "start", "--pool", pool, "--prefetch-seconds", "5"],
        cwd=cwd,
        env=prefect_env(home, api),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield proc
    finally:
        _stop(proc)
        log.close()
