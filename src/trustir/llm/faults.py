"""Fault injection for ``trustir serve-llm``: a real server that misbehaves on purpose (issue 19).

A spec string (``--faults`` or ``$TRUSTIR_SERVE_FAULTS``) of comma-separated ``key=value``:

- ``fail=0.2``: answer this share of POSTs with an error status instead of working;
- ``status=429:500``: the statuses used, in turn (default ``429:500``);
- ``retry_after=0.5``: send ``Retry-After`` (seconds) with 429 and 503 answers;
- ``delay=3``: sleep this long before answering (beyond a client's timeout: a slow server);
- ``delay_share=0.5``: the share of requests delayed (default 1);
- ``exit_after=40``: die (the process exits at once, sockets reset) after N POSTs arrived;
- ``seed=0``: the seed of the draws (the same spec misbehaves the same way).

The draws are seeded, so a test sees the same faults on every run; ``counts`` tells what was
done (requests, injected failures, delays).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

ENV = "TRUSTIR_SERVE_FAULTS"


@dataclass(frozen=True)
class FaultSpec:
    """What to break, parsed from ``key=value,...``."""

    fail: float = 0.0
    status: tuple[int, ...] = (429, 500)
    retry_after: float | None = None
    delay: float = 0.0
    delay_share: float = 1.0
    exit_after: int | None = None
    seed: int = 0

    @classmethod
    def parse(cls, spec: str | None) -> FaultSpec:
        """The spec of ``"fail=0.1,status=429:500,..."``; empty or None = no faults."""
        kw: dict[str, object] = {}
        for part in (spec or "").split(","):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            key = key.strip()
            if not sep or key not in cls.__dataclass_fields__:
                raise ValueError(
                    f"serve-llm --faults: bad item {part!r}; known keys: "
                    f"{sorted(cls.__dataclass_fields__)} (key=value, comma-separated)"
                )
            try:
                if key == "status":
                    kw[key] = tuple(int(s) for s in value.split(":"))
                elif key in ("exit_after", "seed"):
                    kw[key] = int(value)
                else:
                    kw[key] = float(value)
            except ValueError:
                raise ValueError(f"serve-llm --faults: {key}={value!r} is not a number") from None
        out = cls(**kw)  # type: ignore[arg-type]
        if not (0 <= out.fail <= 1 and 0 <= out.delay_share <= 1):
            raise ValueError("serve-llm --faults: fail and delay_share are shares in [0, 1]")
        if any(not 400 <= s <= 599 for s in out.status):
            raise ValueError(f"serve-llm --faults: status must be 4xx/5xx, got {out.status}")
        return out

    @property
    def active(self) -> bool:
        return bool(self.fail or self.delay or self.exit_after is not None)


@dataclass
class Fault:
    """What to do with one request: delay first, then die, fail with a status, or serve."""

    delay: float = 0.0
    exit: bool = False
    status: int | None = None
    retry_after: float | None = None


@dataclass
class FaultInjector:
    """Draws one :class:`Fault` per POST (thread-safe, seeded)."""

    spec: FaultSpec
    counts: dict[str, int] = field(
        default_factory=lambda: {"requests": 0, "failed": 0, "delayed": 0}
    )

    def __post_init__(self) -> None:
        self._rng = random.Random(self.spec.seed)  # noqa: S311  seeded fault injection, not crypto
        self._lock = threading.Lock()

    def draw(self) -> Fault:
        s = self.spec
        with self._lock:
            self.counts["requests"] += 1
            n = self.counts["requests"]
            fault = Fault()
            if s.delay and self._rng.random() < s.delay_share:
                fault.delay = s.delay
                self.counts["delayed"] += 1
            if s.exit_after is not None and n > s.exit_after:
                fault.exit = True
            elif s.fail and self._rng.random() < s.fail:
                fault.status = s.status[self.counts["failed"] % len(s.status)]
                self.counts["failed"] += 1
                if fault.status in (429, 503):
                    fault.retry_after = s.retry_after
            return fault
