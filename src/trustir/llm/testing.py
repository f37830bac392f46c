"""Test helpers: tiny random causal LMs with SmolLM2's real tokenizer (as HF's own tests do).

A tiny Llama (2 layers, width 32) runs in milliseconds yet exercises the real code paths: the
chat template, single-token digits, multi-token options, padding and the KV cache. Judges' tests
can use it too (``HFBackend(model=str(build_tiny_model(tmp_path)))``).
"""

from __future__ import annotations

from pathlib import Path


def build_tiny_model(
    out_dir: str | Path,
    seed: int = 0,
    hidden_size: int = 32,
    layers: int = 2,
    init_range: float = 0.3,
) -> Path:
    """Save a random Llama with SmolLM2's tokenizer and chat template into ``out_dir``.

    ``init_range`` is large on purpose: scores then spread over several nats, so a misaligned
    position or a padding leak shows up well above test tolerances.
    """
    import torch
    from transformers import AutoTokenizer, GenerationConfig, LlamaConfig, LlamaForCausalLM

    from trustir.llm.models import smollm2_dir

    out = Path(out_dir)
    if (out / "config.json").is_file():
        return out
    tok = AutoTokenizer.from_pretrained(smollm2_dir()[0])
    config = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        initializer_range=init_range,
        tie_word_embeddings=False,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval()
    model.generation_config = GenerationConfig(
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id
    )
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


class Replica:
    """One ``trustir serve-llm`` process on loopback (a real server, in its own process).

    ``url`` is its base URL; ``stats()`` its fault counters; ``kill()`` sends SIGKILL;
    ``rss_mb()`` its resident memory; ``log_path`` receives its log (stderr). Use as a context
    manager (stops on exit).
    """

    def __init__(
        self,
        model: str | Path,
        faults: str | None = None,
        token: str | None = None,
        port: int = 0,
        start_timeout_s: float = 120.0,
        log_path: str | Path | None = None,
    ) -> None:
        import os
        import subprocess
        import sys
        import time

        env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "OMP_NUM_THREADS": "1"}
        # serve-llm runs a thread per connection: cap glibc's per-thread malloc arenas, so
        # that the RSS the load test measures is the server's, not the allocator's spread
        env.setdefault("MALLOC_ARENA_MAX", "2")
        env.pop("TRUSTIR_SERVE_LLM_TOKEN", None)
        if token is not None:
            env["TRUSTIR_SERVE_LLM_TOKEN"] = token
        cmd = [sys.executable, "-m", "trustir.llm.server", "--model", str(model)]
        cmd += ["--device", "cpu", "--port", str(port)]
        if faults:
            cmd += ["--faults", faults]
        self._log = open(log_path, "w") if log_path else None  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            cmd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._log or subprocess.DEVNULL,
            text=True,
        )
        deadline = time.monotonic() + start_timeout_s
        line = ""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline() if self.proc.stdout else ""
            if line.startswith("serving ") or not line:
                break
        if not line.startswith("serving "):
            self.stop()
            raise RuntimeError(f"serve-llm did not start (exit code {self.proc.poll()})")
        self.url = line.split(" at ", 1)[1].split(" ", 1)[0]
        self.port = int(self.url.rsplit(":", 1)[1].split("/", 1)[0])

    def stats(self, token: str | None = None) -> dict[str, int]:
        """The server's fault counters (requests seen, failures and delays injected)."""
        import requests

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(f"{self.url}/stats", timeout=5, headers=headers).json()["faults"]

    def rss_mb(self) -> float:
        return rss_mb(self.proc.pid)

    def kill(self) -> None:
        import signal

        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except Exception:  # noqa: BLE001 (a stuck child is killed)
                self.kill()
        if self.proc.stdout:
            self.proc.stdout.close()
        if self._log:
            self._log.close()

    def __enter__(self) -> Replica:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process in MiB (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")
