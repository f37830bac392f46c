"""Several replicas behind one ``openai`` backend: least-loaded choice, a bound per endpoint, and
failover away from an endpoint that is down or asked to be left alone (issue 18, "LLM serving").

Each endpoint has at most ``per_endpoint`` requests in flight (a lease blocks until a slot is
free). A request goes to the healthy endpoint with the fewest requests in flight (ties: the one
used least recently, so load rotates). An endpoint that refused a connection or timed out is
*down* for ``cooldown_s`` (doubling on repeated failures, capped); one that answered 429/503 with
``Retry-After`` is skipped until then. When every endpoint is down, the one due back soonest is
tried (a probe), so a fleet that comes back is found again without a restart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

MAX_COOLDOWN_S = 30.0


@dataclass
class Endpoint:
    """One base URL and its live state (guarded by the pool's lock)."""

    url: str
    in_flight: int = 0
    not_before: float = 0.0  # monotonic time before which it is skipped (down, or Retry-After)
    failures: int = 0  # consecutive connection failures / timeouts
    last_used: float = 0.0
    served: int = 0  # answers received (any status)
    peak: int = 0  # the most requests it ever had in flight at once

    def available(self, now: float) -> bool:
        return now >= self.not_before


class EndpointPool:
    """Leases endpoints to request threads; thread-safe."""

    def __init__(self, urls: Sequence[str], per_endpoint: int, cooldown_s: float = 2.0) -> None:
        if not urls:
            raise ValueError("llm.base_url: at least one URL is needed")
        if len(set(urls)) != len(urls):
            raise ValueError(f"llm.base_url lists a URL twice: {list(urls)}")
        self.endpoints = [Endpoint(u) for u in urls]
        self.per_endpoint = per_endpoint
        self.cooldown_s = cooldown_s
        self._cond = threading.Condition()

    def __len__(self) -> int:
        return len(self.endpoints)

    @property
    def capacity(self) -> int:
        """Requests that may be in flight at once over the whole pool."""
        return self.per_endpoint * len(self.endpoints)

    def _pick(self, now: float, avoid: Endpoint | None) -> Endpoint | None:
        free = [e for e in self.endpoints if e.in_flight < self.per_endpoint]
        if not free:
            return None
        up = [e for e in free if e.available(now)]
        if len(up) > 1 and avoid in up:  # after a failure, prefer another replica
            up.remove(avoid)
        if up:
            return min(up, key=lambda e: (e.in_flight, e.last_used))
        if any(e.available(now) for e in self.endpoints):
            return None  # a healthy endpoint is busy: wait for its slot rather than probe
        return min(free, key=lambda e: e.not_before)  # all down: probe the one due back first

    @contextmanager
    def lease(self, avoid: Endpoint | None = None) -> Iterator[Endpoint]:
        """An endpoint with a free slot (blocks until one frees); released on exit."""
        with self._cond:
            while (ep := self._pick(time.monotonic(), avoid)) is None:
                self._cond.wait(timeout=0.05)
            ep.in_flight += 1
            ep.peak = max(ep.peak, ep.in_flight)
            ep.last_used = time.monotonic()
        try:
            yield ep
        finally:
            with self._cond:
                ep.in_flight -= 1
                self._cond.notify_all()

    def ok(self, ep: Endpoint) -> None:
        """The endpoint answered (any HTTP status): it is up."""
        with self._cond:
            ep.failures = 0
            ep.served += 1

    def down(self, ep: Endpoint) -> float:
        """The endpoint refused a connection or timed out: skip it for a while (returns secs)."""
        with self._cond:
            ep.failures += 1
            pause = min(MAX_COOLDOWN_S, self.cooldown_s * 2 ** (ep.failures - 1))
            ep.not_before = time.monotonic() + pause
            self._cond.notify_all()
            return pause

    def hold_off(self, ep: Endpoint, seconds: float) -> None:
        """The endpoint asked for a pause (Retry-After): skip it for ``seconds``."""
        with self._cond:
            ep.not_before = max(ep.not_before, time.monotonic() + min(seconds, MAX_COOLDOWN_S))
            self._cond.notify_all()

    def any_other_up(self, ep: Endpoint) -> bool:
        """Whether another endpoint is available now (then a retry need not back off)."""
        now = time.monotonic()
        with self._cond:
            return any(e is not ep and e.available(now) for e in self.endpoints)
