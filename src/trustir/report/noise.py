"""How much of a table is noise (issue 20, part 3): a 95 % interval per cell, the table's n
and the smallest difference its size could detect.

- Cell interval: a percentile bootstrap of the mean over the cell's per-query (or per-item)
  values (Efron & Tibshirani 1993, ch. 13): ``resamples`` resamples of the n values with
  replacement drawn from ``numpy.random.default_rng(seed)`` as one ``[resamples, n]`` index
  matrix; the interval is the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles
  (numpy's default linear interpolation) of the resampled means.
- Minimal detectable effect (MDE) of a paired comparison of two rows on n shared queries, at
  two-sided level alpha and power 1 - beta (Cohen 1988; the normal approximation):
  ``MDE = (z_{1 - alpha/2} + z_{1 - beta}) * sd_d / sqrt(n)``, with ``sd_d`` the sample sd
  (ddof 1) of the per-query differences. A table's MDE uses the median ``sd_d`` over every pair
  of rows and every column whose differences are not all equal (two rows equal on every query,
  e.g. an untrained model and a barely trained one, tell nothing of the noise), and the median
  n of those pairs; with no such pair it is not estimable (NaN).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from statistics import NormalDist, median

import numpy as np
import polars as pl

#: the README section that records the study profiles' figures (linked from smoke-sized tables).
STUDY_LINK = "README.md#noise-in-the-tables"
SMOKE_NOTE = "smoke-sized: see the `study` profile"


@dataclass(frozen=True)
class Bootstrap:
    """The bootstrap's settings (``report`` params: ``bootstrap``, ``seed``, ``confidence``)."""

    resamples: int = 1000
    seed: int = 0
    confidence: float = 0.95


def bootstrap_interval(
    values: Sequence[float], resamples: int = 1000, seed: int = 0, confidence: float = 0.95
) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean of ``values`` (NaN, NaN when empty)."""
    x = np.asarray(values, dtype=np.float64)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(resamples, x.size))  # [resamples, n]
    means = x[idx].mean(axis=1)  # [resamples]
    tail = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(means, [tail, 1.0 - tail])
    return float(lo), float(hi)


def minimal_detectable_effect(
    sd_diff: float, n: int, alpha: float = 0.05, power: float = 0.8
) -> float:
    """``(z_{1-alpha/2} + z_{power}) * sd_diff / sqrt(n)`` (NaN for n < 2)."""
    if n < 2 or math.isnan(sd_diff):
        return math.nan
    z = NormalDist().inv_cdf
    return (z(1.0 - alpha / 2.0) + z(power)) * sd_diff / math.sqrt(n)


@dataclass(frozen=True)
class TableNoise:
    """A table's noise: per-cell intervals, its n (per-query values per cell) and its MDE."""

    intervals: dict[str, dict[str, tuple[float, float]]]  # {row: {column: (lo, hi)}}
    n_min: int
    n_max: int
    mde: float  # NaN when no two rows share queries
    sd_diff: float
    smoke: bool  # some column's median interval is wider than the spread of its rows
    settings: Bootstrap

    @property
    def n_text(self) -> str:
        return str(self.n_max) if self.n_min == self.n_max else f"{self.n_min}–{self.n_max}"

    def widest(self) -> float:
        """The widest interval of the table (NaN when it has none)."""
        widths = [hi - lo for cols in self.intervals.values() for lo, hi in cols.values()]
        return max(widths) if widths else math.nan

    def to_dict(self) -> dict:
        return {
            "intervals": {
                r: {c: list(v) for c, v in cols.items()} for r, cols in self.intervals.items()
            },
            "n": [self.n_min, self.n_max],
            "mde": self.mde,
            "sd_diff": self.sd_diff,
            "smoke": self.smoke,
            "bootstrap": {
                "resamples": self.settings.resamples,
                "seed": self.settings.seed,
                "confidence": self.settings.confidence,
            },
        }

    @classmethod
    def from_dict(cls, d: dict) -> TableNoise:
        b = d.get("bootstrap", {})
        return cls(
            intervals={
                r: {c: (float(v[0]), float(v[1])) for c, v in cols.items()}
                for r, cols in d["intervals"].items()
            },
            n_min=int(d["n"][0]),
            n_max=int(d["n"][1]),
            mde=_nan(d.get("mde")),
            sd_diff=_nan(d.get("sd_diff")),
            smoke=bool(d.get("smoke", False)),
            settings=Bootstrap(
                int(b.get("resamples", 1000)), int(b.get("seed", 0)), b.get("confidence", 0.95)
            ),
        )

    def note(self) -> str:
        """One line: n, how the intervals are drawn, and the MDE with its formula."""
        s = self.settings
        conf = f"{s.confidence * 100:g} %"
        text = (
            f"n = {self.n_text} queries (or items) per cell; [lo, hi] = {conf} bootstrap "
            f"interval of the mean over them ({s.resamples} resamples, seed {s.seed})"
        )
        if not math.isnan(self.mde):
            text += (
                f"; smallest difference this size could detect (paired, α 0.05, power 0.8): "
                f"{self.mde:.3g} = (z₀.₉₇₅ + z₀.₈) · sd_d / √n, sd_d = {self.sd_diff:.3g} "
                "(median sd of per-query differences between rows)"
            )
        else:
            text += "; smallest detectable difference: not estimable (no two rows differ by query)"
        return text + "."


def _nan(v: object) -> float:
    return math.nan if v is None else float(v)  # type: ignore[arg-type]


def table_noise(
    cells: dict[str, dict[str, object]], per_query: pl.DataFrame | None, settings: Bootstrap
) -> TableNoise | None:
    """The noise of a table from its per-query values (None when it keeps none)."""
    if per_query is None or per_query.is_empty():
        return None
    intervals: dict[str, dict[str, tuple[float, float]]] = {}
    counts: list[int] = []
    by_cell: dict[tuple[str, str], dict[str, float]] = {}
    for (row, col), part in sorted(
        per_query.drop_nulls("value").group_by(["row", "column"]), key=lambda kv: kv[0]
    ):
        if row not in cells or col not in cells[row]:
            continue
        vals = dict(zip(part["query_id"].to_list(), part["value"].to_list(), strict=True))
        by_cell[(row, col)] = vals
        counts.append(len(vals))
        lo, hi = bootstrap_interval(
            list(vals.values()), settings.resamples, settings.seed, settings.confidence
        )
        intervals.setdefault(row, {})[col] = (lo, hi)
    if not counts:
        return None
    sds, ns = [], []
    columns = sorted({c for _, c in by_cell})
    rows = [r for r in cells if any((r, c) in by_cell for c in columns)]
    for col in columns:
        for ra, rb in combinations([r for r in rows if (r, col) in by_cell], 2):
            a, b = by_cell[(ra, col)], by_cell[(rb, col)]
            shared = sorted(set(a) & set(b))
            if len(shared) >= 2:
                d = np.array([b[q] - a[q] for q in shared])
                if d.std(ddof=1) > 0:  # rows equal on every query say nothing of the noise
                    sds.append(float(d.std(ddof=1)))
                    ns.append(len(shared))
    sd = median(sds) if sds else math.nan
    mde = minimal_detectable_effect(sd, int(median(ns))) if ns else math.nan
    return TableNoise(
        intervals=_order(intervals, cells),
        n_min=min(counts),
        n_max=max(counts),
        mde=mde,
        sd_diff=sd,
        smoke=is_smoke_sized(cells, intervals),
        settings=settings,
    )


def _order(
    intervals: dict[str, dict[str, tuple[float, float]]], cells: dict[str, dict[str, object]]
) -> dict[str, dict[str, tuple[float, float]]]:
    """Intervals in the table's row and column order."""
    return {
        r: {c: intervals[r][c] for c in cols if c in intervals[r]}
        for r, cols in cells.items()
        if r in intervals
    }


def is_smoke_sized(
    cells: dict[str, dict[str, object]], intervals: dict[str, dict[str, tuple[float, float]]]
) -> bool:
    """True when, in some column with intervals on two or more rows, the median interval width
    is wider than the spread (max - min) of the rows' values: the rows cannot be told apart."""
    columns = {c for cols in intervals.values() for c in cols}
    for col in columns:
        widths, values = [], []
        for row, cols in intervals.items():
            v = cells.get(row, {}).get(col)
            if col in cols and isinstance(v, int | float) and not math.isnan(float(v)):
                widths.append(cols[col][1] - cols[col][0])
                values.append(float(v))
        if len(values) >= 2 and median(widths) > max(values) - min(values):
            return True
    return False
