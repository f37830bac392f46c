"""Calibration metrics against hand-worked values (issue 14)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from trustir.calibration import metrics as m

# six answers: bins (10) 0: {0.0 right, 0.1 wrong}; 1: {0.15 wrong}; 4: {0.5 wrong};
# 9: {0.95 right, 1.0 right}
CONF = [0.0, 0.1, 0.15, 0.5, 0.95, 1.0]
RIGHT = [1, 0, 0, 0, 1, 1]


def test_bins_first_closed_at_zero_and_right_edges_inclusive():
    assert m.bin_index(np.array([0.0, 0.1, 0.1000001, 0.5, 0.95, 1.0]), 10).tolist() == [
        0, 0, 1, 4, 9, 9,
    ]  # fmt: skip


def test_ece_hand_worked():
    # (2·|0.5−0.05| + 1·0.15 + 1·0.5 + 2·|1−0.975|) / 6 = 1.6 / 6
    assert m.ece(CONF, RIGHT) == pytest.approx(1.6 / 6)
    assert m.ece([0.7, 0.7, 0.7], [1, 1, 0]) == pytest.approx(abs(2 / 3 - 0.7))
    assert m.ece([1.0, 0.0], [1, 0]) == 0.0


def test_adaptive_ece_hand_worked():
    # two equal-mass bins: {0, .1, .15} acc 1/3 conf 1/12; {.5, .95, 1} acc 2/3 conf 0.81667
    assert m.adaptive_ece(CONF, RIGHT, n_bins=2) == pytest.approx((0.75 + 0.45) / 6)
    assert m.adaptive_ece(CONF, RIGHT, n_bins=3) == pytest.approx((0.9 + 0.65 + 0.05) / 6)


def test_brier_accuracy_confidence():
    assert m.brier(CONF, RIGHT) == pytest.approx((1 + 0.01 + 0.0225 + 0.25 + 0.0025) / 6)
    assert m.accuracy(RIGHT) == 0.5
    assert m.mean_confidence(CONF) == pytest.approx(2.7 / 6)


def test_auroc_hand_worked_and_ties_half():
    assert m.auroc(CONF, RIGHT) == pytest.approx(6 / 9)
    assert m.auroc([0.5, 0.5, 0.2], [1, 0, 0]) == pytest.approx(0.75)
    assert math.isnan(m.auroc([0.2, 0.4], [1, 1]))


def test_auroc_agrees_with_mann_whitney_and_sklearn():
    rng = np.random.default_rng(3)
    c = np.round(rng.random(200), 1)  # many ties
    y = (rng.random(200) < c).astype(int)
    u = mannwhitneyu(c[y == 1], c[y == 0]).statistic
    assert m.auroc(c, y) == pytest.approx(u / (y.sum() * (len(y) - y.sum())))
    sk = pytest.importorskip("sklearn.metrics", reason="scikit-learn is optional (not a dep)")
    assert m.auroc(c, y) == pytest.approx(sk.roc_auc_score(y, c))


def test_reliability_bins_and_errors():
    rel = m.reliability(CONF, RIGHT)
    assert [(b["lo"], b["count"], b["accuracy"]) for b in rel] == [
        (0.0, 2, 0.5), (0.1, 1, 0.0), (0.4, 1, 0.0), (0.9, 2, 1.0),
    ]  # fmt: skip
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        m.ece([1.2], [1])
    with pytest.raises(ValueError, match="0/1"):
        m.ece([0.2], [2])


def test_per_question_values_average_to_the_cells():
    from trustir.calibration.report import per_question_auroc, per_question_ece

    rng = np.random.default_rng(5)
    c = np.round(rng.random(60), 1)
    y = (rng.random(60) < c).astype(float)
    assert per_question_ece(c, y, 10).mean() == pytest.approx(m.ece(c, y))
    assert per_question_auroc(c, y).mean() == pytest.approx(m.auroc(c, y))
    # hand-worked: positives 0.0 (beats none), 0.95 and 1.0 (beat all three negatives)
    assert per_question_auroc(np.array(CONF), np.array(RIGHT, float)).tolist() == pytest.approx(
        [0.0, 2 / 3, 2 / 3, 2 / 3, 1.0, 1.0]
    )
