"""llama.cpp as a serving peer (issue 13): llama-cpp-python's OpenAI-compatible server on loopback.

``make llamacpp`` builds llama-cpp-python from source once (a wheel under the cache) and installs
it with its ``[server]`` extra into its own venv, ``<cache>/llamacpp-venv``: the server's deps
(fastapi, starlette, pydantic-settings, ...) never move the versions the project venv holds for
prefect, and the server is a subprocess anyway. trustir talks to it with its ``openai`` backend.
It is no ``llm.backend`` of its own: on the 2-core CPU measured here it is slower than the hf
backend (README, "The judge bench"), so it serves as the real third-party server the ``openai``
backend is tested and benchmarked against.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import requests

from trustir.paths import cache_dir

#: the venv ``make llamacpp`` installs the server into (under the trustir cache)
VENV_NAME = "llamacpp-venv"
#: the model name the server answers to (``--model_alias``; the openai backend's ``llm.model``)
ALIAS = "smollm2-gguf"


def server_python() -> Path | None:
    """The python of the llama.cpp server venv, or None when ``make llamacpp`` has not run.
    ``TRUSTIR_LLAMACPP_PYTHON`` names another interpreter that has ``llama_cpp.server``."""
    named = os.environ.get("TRUSTIR_LLAMACPP_PYTHON")
    path = Path(named) if named else cache_dir(VENV_NAME) / "bin" / "python"
    return path if path.is_file() else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident memory (VmHWM) of a live process, in MiB (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/{pid}/status has no VmHWM line")


class LlamaCppServer:
    """``python -m llama_cpp.server`` on 127.0.0.1 for one GGUF, for the life of a ``with`` block.

    ``logits_all`` keeps every position's logits, which echoed prompt log-probs need (the
    query-likelihood judge, ``/completions`` option scoring); chat-mode option scoring reads the
    first generated token's alternatives and does without. ``n_threads`` 1 matches one torch
    thread.
    """

    def __init__(
        self,
        model_path: str | Path,
        python: str | Path | None = None,
        n_threads: int = 1,
        n_ctx: int = 2048,
        logits_all: bool = True,
        startup_s: float = 180.0,
    ) -> None:
        py = python or server_python()
        if py is None:
            raise FileNotFoundError("llama-cpp-python is not built: run make llamacpp")
        self.python = Path(py)
        self.model_path = Path(model_path)
        self.n_threads = n_threads
        self.n_ctx = n_ctx
        self.logits_all = logits_all
        self.startup_s = startup_s
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None  # the server's stdout and stderr

    def command(self) -> list[str]:
        threads = str(self.n_threads)
        return [
            str(self.python),
            "-m",
            "llama_cpp.server",
            "--model", str(self.model_path),
            "--model_alias", ALIAS,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_threads", threads,
            "--n_threads_batch", threads,
            "--n_ctx", str(self.n_ctx),
            "--logits_all", str(self.logits_all),
            "--verbose", "False",
        ]  # fmt: skip

    def log_tail(self, n: int = 2000) -> str:
        return self.log_path.read_text(errors="replace")[-n:] if self.log_path else ""

    def start(self) -> LlamaCppServer:
        """Start the server and wait until ``/v1/models`` answers (or raise with its log)."""
        env = {**os.environ, "OMP_NUM_THREADS": str(self.n_threads), "NO_PROXY": "127.0.0.1"}
        fd, name = tempfile.mkstemp(prefix="llamacpp-", suffix=".log")
        self.log_path = Path(name)
        try:
            self.proc = subprocess.Popen(  # noqa: S603  fixed argv from our own config, no shell
                self.command(), stdout=fd, stderr=subprocess.STDOUT, env=env
            )
        finally:
            os.close(fd)  # the child holds its own copy
        deadline = time.monotonic() + self.startup_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"the llama.cpp server exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            try:
                if requests.get(f"{self.base_url}/models", timeout=2).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.5)
        self.stop()
        raise TimeoutError(f"the llama.cpp server did not answer in {self.startup_s:g} s")

    def peak_rss_mb(self) -> float:
        """The server process's peak resident memory so far, in MiB."""
        if self.proc is None:
            raise RuntimeError("the server is not running")
        return peak_rss_mb(self.proc.pid)

    def stop(self) -> None:
        """Terminate the server (kill it if it does not exit within 10 s)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def __enter__(self) -> LlamaCppServer:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
