"""Paired significance tests over per-query values: Student's paired t-test and Fisher's
randomization (sign-flip) test, as IR papers report them (Smucker et al., CIKM 2007).

Both take two equal-length vectors of per-query values of the same measure, paired by query,
and return a two-sided p-value for "the two systems have the same mean".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from trustir.registry import Registry

#: paired tests by name: ``fn(a, b, *, seed) -> p``.
TESTS: Registry[Callable[..., float]] = Registry("significance test")


def _pair(a: Sequence[float], b: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"paired test needs two equal-length vectors, got {x.shape} and {y.shape}")
    return x, y


@TESTS.register("t")
def paired_t(a: Sequence[float], b: Sequence[float], *, seed: int = 0) -> float:
    """Two-sided paired t-test p-value (scipy); 1.0 when every difference is zero."""
    from scipy import stats

    x, y = _pair(a, b)
    d = y - x  # [n]
    if len(d) < 2 or np.allclose(d, 0.0):
        return 1.0
    if np.allclose(d, d[0]):  # constant non-zero difference: no variance, certainly different
        return 0.0
    return float(stats.ttest_rel(y, x).pvalue)


@TESTS.register("fisher")
def randomization(
    a: Sequence[float], b: Sequence[float], *, seed: int = 0, n_resamples: int = 10_000
) -> float:
    """Two-sided Fisher randomization test of the mean paired difference.

    Under the null each query's two values are exchangeable, so the sign of each difference is a
    coin flip. Exact over all 2^n sign patterns for n <= 16, else ``n_resamples`` seeded flips;
    the Monte-Carlo p-value counts the observed statistic, (1 + hits) / (1 + resamples), so it is
    never 0.
    """
    x, y = _pair(a, b)
    d = y - x  # [n]
    n = len(d)
    observed = abs(d.mean()) if n else 0.0
    if n == 0 or np.allclose(d, 0.0):
        return 1.0
    tol = 1e-12
    if n <= 16:
        signs = 1 - 2 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)  # [2^n, n]
        stats_ = np.abs((signs * d).mean(axis=1))  # [2^n]
        return float(np.mean(stats_ >= observed - tol))
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, n_resamples, 2048):
        m = min(2048, n_resamples - start)
        signs = rng.choice(np.array([-1.0, 1.0]), size=(m, n))  # [m, n]
        hits += int(np.sum(np.abs((signs * d).mean(axis=1)) >= observed - tol))
    return float((1 + hits) / (1 + n_resamples))


@dataclass(frozen=True)
class PairedResult:
    """A paired comparison of one measure: means, difference, p-value, number of pairs."""

    mean_a: float
    mean_b: float
    n: int
    p: float

    @property
    def delta(self) -> float:
        return self.mean_b - self.mean_a


def paired_test(
    a: Sequence[float], b: Sequence[float], test: str = "t", seed: int = 0
) -> PairedResult:
    """Run the registered ``test`` ("t" or "fisher") on paired values ``a`` (baseline), ``b``."""
    x, y = _pair(a, b)
    p = TESTS.get(test)(x, y, seed=seed)
    return PairedResult(float(x.mean()), float(y.mean()), len(x), p)
