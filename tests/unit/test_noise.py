"""Every table shows its noise (issue 20, part 3): bootstrap intervals, n, the minimal
detectable effect, the smoke-sized warning, and the report API's rendering of them."""

import json
import math

import numpy as np
import polars as pl
import pytest

from trustir.report import Table, load_table
from trustir.report.noise import (
    Bootstrap,
    bootstrap_interval,
    is_smoke_sized,
    minimal_detectable_effect,
    table_noise,
)


def test_bootstrap_interval_equals_numpy_by_hand():
    values = [0.2, 0.9, 0.4, 0.7, 0.1]
    rng = np.random.default_rng(7)
    draws = np.array(values)[rng.integers(0, 5, size=(200, 5))].mean(axis=1)
    expected = (np.quantile(draws, 0.025), np.quantile(draws, 0.975))
    assert bootstrap_interval(values, resamples=200, seed=7) == pytest.approx(expected, abs=1e-12)


def test_bootstrap_interval_of_a_skewed_vector_is_its_hand_worked_quantiles():
    # mean of 4 draws from [0, 0, 0, 1]: P(0) = (3/4)^4 = 0.316 > 0.025, so lo = 0;
    # P(>= 0.75) = 4 (1/4)^3 (3/4) + (1/4)^4 = 0.051 > 0.025 but P(1) = 0.004 < 0.025: hi = 0.75
    assert bootstrap_interval([0, 0, 0, 1], resamples=4000, seed=3) == (0.0, 0.75)
    assert bootstrap_interval([0.4] * 6, resamples=50) == (pytest.approx(0.4), pytest.approx(0.4))
    lo, hi = bootstrap_interval([])
    assert math.isnan(lo) and math.isnan(hi)


def test_bootstrap_interval_is_seeded():
    v = np.linspace(0, 1, 11)
    assert bootstrap_interval(v, seed=1) == bootstrap_interval(v, seed=1)
    assert bootstrap_interval(v, seed=1) != bootstrap_interval(v, seed=2)


def test_minimal_detectable_effect_hand_example():
    # (z_0.975 + z_0.8) * sd / sqrt(n) = (1.959964 + 0.841621) * 0.1 / 7
    assert minimal_detectable_effect(0.1, 49) == pytest.approx(0.0400226, abs=1e-6)
    assert minimal_detectable_effect(0.1, 196) == pytest.approx(0.0400226 / 2, abs=1e-6)
    assert math.isnan(minimal_detectable_effect(0.1, 1))


def _two_rows() -> tuple[dict, pl.DataFrame]:
    a, b = [0.2, 0.4, 0.6, 0.8], [0.3, 0.4, 0.8, 0.9]
    cells = {"a": {"m": float(np.mean(a))}, "b": {"m": float(np.mean(b))}}
    pq = pl.DataFrame(
        {
            "row": ["a"] * 4 + ["b"] * 4,
            "column": ["m"] * 8,
            "query_id": [f"q{i}" for i in range(4)] * 2,
            "value": a + b,
        }
    )
    return cells, pq


def test_table_noise_n_and_mde_from_paired_differences():
    cells, pq = _two_rows()
    noise = table_noise(cells, pq, Bootstrap(resamples=500, seed=0))
    # d = b - a = [0.1, 0, 0.2, 0.1]: sd (ddof 1) = sqrt(0.02 / 3) = 0.0816497
    assert noise.sd_diff == pytest.approx(0.0816497, abs=1e-6)
    assert noise.mde == pytest.approx(2.8015853 * 0.0816497 / 2, abs=1e-6)
    assert (noise.n_min, noise.n_max, noise.n_text) == (4, 4, "4")
    assert noise.intervals["a"]["m"] == bootstrap_interval([0.2, 0.4, 0.6, 0.8], 500, 0)
    # rows 0.5 vs 0.6 apart by 0.1; each interval ~0.4 wide: the rows cannot be told apart
    assert noise.smoke


def test_smoke_sized_only_when_intervals_are_wider_than_the_rows_spread():
    cells = {"a": {"m": 0.2}, "b": {"m": 0.8}}
    narrow = {"a": {"m": (0.15, 0.25)}, "b": {"m": (0.75, 0.85)}}
    wide = {"a": {"m": (0.0, 0.9)}, "b": {"m": (0.1, 1.0)}}
    assert not is_smoke_sized(cells, narrow) and is_smoke_sized(cells, wide)
    assert not is_smoke_sized({"a": {"m": 0.2}}, {"a": {"m": (0.0, 1.0)}})  # one row: no spread


def test_table_renders_intervals_n_mde_and_smoke_note(tmp_path):
    cells, pq = _two_rows()
    t = Table("toy", "Toy", cells, per_query=pq, noise_settings=Bootstrap(200, 1))
    md = t.to_markdown()
    lo, hi = bootstrap_interval([0.3, 0.4, 0.8, 0.9], 200, 1)
    assert f"| b | **0.6000** [{lo:.3f}, {hi:.3f}] |" in md
    assert "n = 4 queries (or items) per cell" in md and "200 resamples, seed 1" in md
    assert "smallest difference this size could detect" in md and "0.114" in md
    assert "**smoke-sized: see the `study` profile**" in md
    assert "(../README.md#noise-in-the-tables)" in md
    t.save(tmp_path / "metrics", tmp_path / "data")
    layout = json.loads((tmp_path / "data/toy.table.json").read_text())
    assert layout["noise"]["n"] == [4, 4] and layout["noise"]["bootstrap"]["resamples"] == 200
    back = load_table(tmp_path / "metrics", tmp_path / "data", "toy")
    assert back.to_markdown() == md  # the saved intervals render alike


def test_table_without_per_query_values_states_no_noise():
    t = Table("toy", "Toy", {"a": {"seconds": 1.5}})
    assert t.noise is None and "bootstrap" not in t.to_markdown()


def test_mde_leaves_out_row_pairs_equal_on_every_query():
    cells, pq = _two_rows()
    copy = pq.filter(pl.col("row") == "a").with_columns(pl.lit("a2").alias("row"))
    cells = {**cells, "a2": dict(cells["a"])}
    noise = table_noise(cells, pl.concat([pq, copy]), Bootstrap(resamples=100))
    # pairs (a, b) and (a2, b) have sd_d 0.0816; (a, a2) has 0 and is left out of the median
    assert noise.sd_diff == pytest.approx(0.0816497, abs=1e-6)
    same = table_noise({"a": cells["a"], "a2": cells["a2"]}, pl.concat([pq, copy]).filter(
        pl.col("row") != "b"), Bootstrap(resamples=100))  # fmt: skip
    assert math.isnan(same.mde) and "not estimable" in same.note()
