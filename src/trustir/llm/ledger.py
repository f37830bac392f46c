"""The token/cost ledger: per run, LLM calls, cache hits, tokens in/out, retries and seconds.

Issue 3 ("A ledger records calls, cache hits, tokens in/out and seconds per run"). A run's totals
go to ``metrics/annotate.json`` (``to_metrics``) and are appended as one JSON line to
``cache_dir("labels")/ledger.jsonl``, the history across runs.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trustir.paths import cache_dir

log = logging.getLogger(__name__)

COUNTS = ("calls", "cache_hits", "tokens_in", "tokens_out", "retries", "errors")


def ledger_path() -> Path:
    return cache_dir("labels") / "ledger.jsonl"


@dataclass
class Ledger:
    """Counts of one run (a stage, a flow, a benchmark); thread-safe ``add``."""

    run: str = ""
    model: str = ""
    calls: int = 0
    cache_hits: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    retries: int = 0
    errors: int = 0
    seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: float) -> None:
        """Add to counters by name (``add(calls=3, tokens_in=270)``); unknown names are errors."""
        with self._lock:
            for name, value in counts.items():
                if name not in (*COUNTS, "seconds"):
                    raise KeyError(f"ledger has no counter {name!r}")
                setattr(self, name, getattr(self, name) + value)

    @contextmanager
    def timer(self) -> Iterator[None]:
        """Add the block's wall time to ``seconds``."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.add(seconds=time.perf_counter() - t0)

    @contextmanager
    def track(self, backend: Any) -> Iterator[None]:
        """Add what ``backend`` did inside the block (its usage delta) and the block's time."""
        before = backend.usage.snapshot()
        self.model = self.model or getattr(backend, "model_id", "")
        try:
            with self.timer():
                yield
        finally:
            after = backend.usage.snapshot()
            self.add(
                **{k: after[k] - before[k] for k in ("calls", "tokens_in", "tokens_out", "retries")}
            )

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-able."""
        with self._lock:
            d: dict[str, Any] = {"run": self.run, "model": self.model}
            d.update({k: getattr(self, k) for k in COUNTS})
            d["seconds"] = round(self.seconds, 3)
            return d

    def to_metrics(self) -> dict[str, Any]:
        """The ``run`` block of ``metrics/annotate.json`` (issue 3's names)."""
        d = self.to_dict()
        return {
            "llm_calls": d["calls"],
            "cache_hits": d["cache_hits"],
            "tokens_in": d["tokens_in"],
            "tokens_out": d["tokens_out"],
            "seconds": d["seconds"],
        }

    def append(self, path: str | Path | None = None) -> Path:
        """Append this run as one JSON line (with a UTC timestamp) to the ledger file."""
        from trustir.llm.store import now_utc

        path = Path(path) if path else ledger_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"created_at": now_utc(), **self.to_dict()}) + "\n"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, line.encode())  # one write of a short line: appends stay whole
        finally:
            os.close(fd)
        return path


def read_ledger(path: str | Path | None = None) -> list[dict[str, Any]]:
    """Every run recorded so far. A torn line (a writer killed mid-write; the next append then
    shares its line) is no record: it is skipped with a warning naming the file and line, since
    the ledger only reports costs (the labels themselves live in the label store)."""
    path = Path(path) if path else ledger_path()
    if not path.exists():
        return []
    out = []
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            log.warning("%s:%d: a torn ledger line is skipped", path, n)
    return out
