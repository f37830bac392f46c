"""PBM (P8): the position-based model (Richardson et al. 2007), fitted by EM.

P(C_r = 1) = gamma_r * alpha_qd: a result is examined with its rank's probability gamma_r and
clicked, once examined, with its attractiveness alpha_qd. EM (Chuklin et al. 2015, ch. 4): for a
skipped result, P(A = 1 | C = 0) = alpha (1 - gamma) / (1 - gamma alpha) and P(E = 1 | C = 0)
= gamma (1 - alpha) / (1 - gamma alpha); a click sets both to 1. gamma and alpha are identified
only up to a common scale (gamma k, alpha / k): compare them normalised by gamma_1.
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


@register_click_model("pbm")
class PBM(ClickModel):
    """Position-based model: attractiveness per pair, examination per rank."""

    def fit(self, sessions: Sessions) -> PBM:
        self._remember(sessions)
        m, n_pairs, length = sessions.mask, len(sessions.pair_keys), sessions.list_size
        pairs, clicks = sessions.pairs[m], sessions.clicks[m]
        ranks = sessions.ranks()[m]
        alpha, gamma = np.full(n_pairs, 0.5), np.full(length, 0.5)
        shown = self.shown.astype(float)
        per_rank = bincount(ranks, None, length)
        for _ in range(self.iterations):
            a, g = alpha[pairs], gamma[ranks]
            skip = 1.0 - g * a
            post_a = np.where(clicks, 1.0, a * (1 - g) / skip)
            post_e = np.where(clicks, 1.0, g * (1 - a) / skip)
            alpha = smoothed(bincount(pairs, post_a, n_pairs), shown, self.prior)
            gamma = smoothed(bincount(ranks, post_e, length), per_rank, self.prior)
        self.alpha, self.gamma = alpha, gamma
        return self

    def click_probs(self, sessions: Sessions) -> tuple[np.ndarray, np.ndarray]:
        a = self.lookup(self.alpha, sessions, self.default)
        g = self._gamma_at(sessions.list_size)
        p = a * g[None, :]
        return p, p

    def _gamma_at(self, length: int) -> np.ndarray:
        """gamma for ranks 1..length (ranks beyond the fitted ones take the last gamma)."""
        g = self.gamma[: min(length, len(self.gamma))]
        return np.concatenate([g, np.full(length - len(g), self.gamma[-1])])
