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


def report(what: str, ours: float, peer: float, peer_name: str, unit: str = "s") -> None:
    print(
        f"{what}: trustir {ours:.3f}{unit}  {peer_name} {peer:.3f}{unit}  "
        f"ratio trustir/{peer_name} = {ours / peer:.2f}"
    )
