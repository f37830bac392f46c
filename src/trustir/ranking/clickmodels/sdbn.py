"""SDBN (P8): the simplified dynamic Bayesian network model (Chapelle and Zhang 2009, gamma = 1).

The user scans down until satisfied: results down to the last click are examined (all of them
in a session without clicks); a click on a result satisfies with its satisfaction sigma_qd.
Closed form: alpha_qd = clicks / examinations, sigma_qd = (times it was the last click) /
clicks, both smoothed. Relevance = alpha * sigma (the model's "probability of a satisfying
click"). Click probabilities follow the DBN forward pass with continuation gamma = 1.
"""

from __future__ import annotations

import numpy as np

from trustir.ranking.clickmodels.base import (
    ClickModel,
    Sessions,
    bincount,
    register_click_model,
    smoothed,
)


@register_click_model("sdbn")
class SDBN(ClickModel):
    """Simplified DBN: attractiveness and satisfaction per pair."""

    def fit(self, sessions: Sessions) -> SDBN:
        self._remember(sessions)
        m, n_pairs, length = sessions.mask, len(sessions.pair_keys), sessions.list_size
        clicks = sessions.clicks & m
        pos = np.arange(1, length + 1)
        last = np.where(clicks, pos, 0).max(axis=1)  # [S] 1-based last click, 0 = none
        last_or_all = np.where(last > 0, last, length)
        examined = m & (pos[None, :] <= last_or_all[:, None])
        is_last = clicks & (pos[None, :] == last[:, None])
        n_exam = bincount(sessions.pairs[examined], None, n_pairs)
        n_click = bincount(sessions.pairs[clicks], None, n_pairs)
        n_last = bincount(sessions.pairs[is_last], None, n_pairs)
        self.alpha = smoothed(n_click, n_exam, self.prior)
        self.sigma = smoothed(n_last, n_click, self.prior)
        return self

    def pair_relevance(self) -> np.ndarray:
        return self.alpha * self.sigma

    def click_probs(self, sessions: Sessions) -> tuple[np.ndarray, np.ndarray]:
        a = self.lookup(self.alpha, sessions, self.default)
        s = self.lookup(self.sigma, sessions, self.default)
        return dbn_click_probs(a, s, sessions.clicks, sessions.mask, continuation=1.0)


def dbn_click_probs(
    a: np.ndarray, s: np.ndarray, clicks: np.ndarray, mask: np.ndarray, continuation: float
) -> tuple[np.ndarray, np.ndarray]:
    """Conditional and marginal click probabilities [S, L] of a DBN with attractiveness ``a``,
    satisfaction ``s`` and continuation ``continuation``, given the observed ``clicks``."""
    n, length = a.shape
    cond, marginal = np.zeros_like(a), np.zeros_like(a)
    exam_cond = np.ones(n)  # P(E_r = 1 | clicks above)
    exam_marg = np.ones(n)  # P(E_r = 1)
    for r in range(length):
        ar, sr = a[:, r], s[:, r]
        cond[:, r] = ar * exam_cond
        marginal[:, r] = ar * exam_marg
        c = clicks[:, r] & mask[:, r]
        after_skip = exam_cond * (1 - ar) / np.maximum(1 - ar * exam_cond, 1e-12)
        exam_cond = continuation * np.where(c, 1 - sr, after_skip)
        exam_marg = continuation * exam_marg * (1 - ar * sr)
    return cond, marginal
