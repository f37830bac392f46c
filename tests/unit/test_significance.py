"""Paired significance tests against hand-worked values and their defining properties."""

import math

import numpy as np
import pytest

from trustir.evaluate.significance import paired_t, paired_test, randomization


def test_fisher_exact_hand_worked():
    # d = (0.1, 0.2, 0.0): of the 4 distinct sign patterns of (0.1, 0.2), |mean| >= 0.1 for 2.
    assert randomization([0.1, 0.2, 0.3], [0.2, 0.4, 0.3]) == pytest.approx(0.5)


def test_fisher_exact_all_same_sign_extreme():
    # 5 equal positive differences: only all-plus and all-minus reach |mean| = d -> 2 / 32.
    assert randomization(np.zeros(5), np.ones(5)) == pytest.approx(2 / 32)


def test_t_test_hand_worked():
    # d = (0.1, 0.2, 0): mean 0.1, sd 0.1, t = sqrt(3), df 2 -> p = 1 - t / sqrt(2 + t^2).
    t = math.sqrt(3)
    assert paired_t([0.1, 0.2, 0.3], [0.2, 0.4, 0.3]) == pytest.approx(1 - t / math.sqrt(2 + t * t))


def test_identical_systems_have_p_one():
    x = np.linspace(0, 1, 30)
    assert paired_t(x, x) == 1.0
    assert randomization(x, x) == 1.0


def test_monte_carlo_matches_exact_and_is_seeded():
    rng = np.random.default_rng(3)
    a, b = rng.random(16), rng.random(16) + 0.3
    exact = randomization(a, b)  # n = 16: exact enumeration
    a2, b2 = np.concatenate([a, a]), np.concatenate([b, b])  # n = 32: Monte-Carlo
    mc1 = randomization(a2, b2, seed=1)
    assert mc1 == randomization(a2, b2, seed=1)
    assert 0 < mc1 < exact  # doubling the evidence lowers the p-value, never to 0
    # a clear shift is significant under both tests, a reversed comparison is symmetric
    assert paired_t(a2, b2) < 0.01 and mc1 < 0.01
    assert paired_t(b2, a2) == pytest.approx(paired_t(a2, b2))


def test_paired_test_result_and_errors():
    r = paired_test([0.2, 0.4], [0.3, 0.7], "fisher")
    assert (r.mean_a, r.mean_b, r.n) == (pytest.approx(0.3), pytest.approx(0.5), 2)
    assert r.delta == pytest.approx(0.2)
    with pytest.raises(ValueError, match="equal-length"):
        paired_test([1.0, 2.0], [1.0], "t")
    with pytest.raises(KeyError, match="unknown significance test 'wilcoxon'"):
        paired_test([1.0], [1.0], "wilcoxon")
