"""Shared timing helper for the benchmarks: best-of-N wall time, printed as a ratio to the peer."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_time(fn: Callable[[], object], repeat: int = 3) -> float:
    """The fastest of ``repeat`` runs (seconds): the least noisy estimate on a shared machine."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def best_times_interleaved(
    a: Callable[[], object], b: Callable[[], object], repeat: int = 3
) -> tuple[float, float]:
    """Fastest of ``repeat`` runs of each, alternating A B B A ..., so load drifts hit both."""
    ta, tb = [], []
    for i in range(repeat):
        first, second = (a, b) if i % 2 == 0 else (b, a)
        t0 = time.perf_counter()
        first()
        t1 = time.perf_counter()
        second()
        t2 = time.perf_counter()
        (ta if first is a else tb).append(t1 - t0)
        (tb if first is a else ta).append(t2 - t1)
    return min(ta), min(tb)


def report(what: str, ours: float, peer: float, peer_name: str, unit: str = "s") -> None:
    print(
        f"{what}: trustir {ours:.3f}{unit}  {peer_name} {peer:.3f}{unit}  "
        f"ratio trustir/{peer_name} = {ours / peer:.2f}"
    )
